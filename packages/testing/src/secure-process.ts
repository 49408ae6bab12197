/**
 * What the security tests of `xds-server` and `xds-relay` share: both commands take the same security flags
 * (mutual TLS on the xDS port, an admin bearer token read from a file, HTTPS on the admin port), so their tests
 * need the same throwaway CA, server certificate, token file and flags, and check the admin token the same way.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XdsTestClient } from './client.js';
import { httpsGet } from './https-get.js';
import type { XdsTestClientOptions } from './options.js';
import { createTestPki, type TestCertificate, type TestPki } from './test-pki.js';
import { tlsCredentials } from './tls-credentials.js';

/** A certificate and key as files, as the `--tls-cert` / `--tls-key` flags take them. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Options of {@link createSecureProcessSetup}. */
export interface SecureProcessSetupOptions {
  /** The admin bearer token written to {@link SecureProcessSetup.tokenFile}. */
  readonly token: string;
  /** The server certificate's name (its common name and file name); default `server`. */
  readonly serverName?: string;
}

/** A CA, a server certificate and an admin token file for a command started with security flags. */
export interface SecureProcessSetup {
  /** The throwaway CA; its folder holds every file of the set-up. */
  readonly pki: TestPki;
  /** The server certificate, for DNS `localhost` and IP `127.0.0.1`. */
  readonly server: TestCertificate;
  /** The admin bearer token. */
  readonly token: string;
  /** The file holding the token (with a trailing newline, as an operator writes it). */
  readonly tokenFile: string;
  /**
   * `--tls-cert`, `--tls-key` and `--tls-client-ca` (mutual TLS on the xDS port, with `xds` or the server
   * certificate), `--admin-token-file`, and `--admin-tls-cert` / `--admin-tls-key` (the server certificate).
   */
  flags(xds?: CertificateFiles): string[];
  /** An XdsTestClient over TLS trusting the CA (mutual TLS with `cert`), closed by {@link SecureProcessSetup.close}. */
  client(options: Omit<XdsTestClientOptions, 'credentials'>, cert?: TestCertificate): XdsTestClient;
  /** Closes every client it made and deletes every file. */
  close(): Promise<void>;
}

/** Makes a CA, a server certificate for `localhost` / 127.0.0.1 and a token file, in one temporary folder. */
export function createSecureProcessSetup(options: SecureProcessSetupOptions): SecureProcessSetup {
  const pki = createTestPki();
  const server = pki.issue({
    name: options.serverName ?? 'server',
    dns: ['localhost'],
    ips: ['127.0.0.1'],
  });
  const tokenFile = join(pki.dir, 'admin-token');
  writeFileSync(tokenFile, `${options.token}\n`);
  const clients: XdsTestClient[] = [];
  return {
    pki,
    server,
    token: options.token,
    tokenFile,
    flags: (xds = server) => [
      '--tls-cert',
      xds.certFile,
      '--tls-key',
      xds.keyFile,
      '--tls-client-ca',
      pki.ca.certFile,
      '--admin-token-file',
      tokenFile,
      '--admin-tls-cert',
      server.certFile,
      '--admin-tls-key',
      server.keyFile,
    ],
    client(clientOptions, cert) {
      const client = new XdsTestClient({ ...clientOptions, credentials: tlsCredentials(pki.ca.cert, cert) });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()));
      pki.remove();
    },
  };
}

/** An HTTPS answer: status and body. */
export interface HttpsAnswer {
  readonly status: number;
  readonly body: string;
}

/** The answers of an HTTPS admin port to a guarded page and to the open health pages. */
export interface AdminTokenProbe {
  /** The guarded page without an `authorization` header. */
  readonly withoutToken: HttpsAnswer;
  /** The guarded page with a wrong bearer token (the right one with a character more). */
  readonly wrongToken: HttpsAnswer;
  /** The guarded page with the right bearer token. */
  readonly withToken: HttpsAnswer;
  /** `/healthz` without a token. */
  readonly healthz: HttpsAnswer;
  /** `/readyz` without a token. */
  readonly readyz: HttpsAnswer;
}

/** GETs the guarded `path` (default `/debug/syncz`) without, with a wrong and with the right token, and the health pages. */
export async function probeAdminToken(
  address: string,
  ca: Buffer,
  token: string,
  path = '/debug/syncz',
): Promise<AdminTokenProbe> {
  const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
  return {
    withoutToken: await httpsGet(address, path, ca),
    wrongToken: await httpsGet(address, path, ca, bearer(`${token}x`)),
    withToken: await httpsGet(address, path, ca, bearer(token)),
    healthz: await httpsGet(address, '/healthz', ca),
    readyz: await httpsGet(address, '/readyz', ca),
  };
}
