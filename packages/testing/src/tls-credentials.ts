/**
 * Client credentials for TLS tests: trust a test CA only, and present a client certificate for mutual TLS when one
 * is given. The xDS server, `xds-server` and `xds-relay` tests all dial their servers this way.
 */
import { type ChannelCredentials, credentials } from '@grpc/grpc-js';
import type { TestCertificate } from './test-pki.js';

/** Channel credentials that trust only `ca`; with `cert`, mutual TLS presenting that certificate. */
export function tlsCredentials(ca: Buffer, cert?: TestCertificate): ChannelCredentials {
  return cert === undefined ? credentials.createSsl(ca) : credentials.createSsl(ca, cert.key, cert.cert);
}
