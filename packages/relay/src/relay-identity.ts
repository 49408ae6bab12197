/**
 * Who a downstream client of `xds-relay` may be (rule L6), decided as `xds-server` decides it: with `--trust-domain`
 * a verified client certificate may only claim node ids its SPIFFE ID grants (the server library's `nodeIdentity`,
 * not a copy), and CSDS, which shows every downstream node's configuration, is an operator's right, not a proxy's.
 * The relay refuses CSDS whenever its xDS port requires client certificates, `--trust-domain` or not: a relay under
 * mutual TLS exists to tell its clients apart, and a relay has no operator identity on its xDS port (operators read
 * the same status on the admin port, which is loopback unless guarded by a token and HTTPS). Without client
 * certificates, CSDS is served to loopback peers only, as `xds-server --csds loopback` (its default) does: a relay
 * on a plaintext port served every downstream node's id, metadata and configuration to anyone (probe5 P8). With
 * `--admin-token-file`, a loopback CSDS call must also carry the token (`authorization: Bearer TOKEN` metadata), as
 * on `xds-server` (probe7 N2: any local process read every downstream node's configuration whatever the token).
 */
import { Code, XdsError } from '@xds/api';
import { csdsAccess, trustDomainIdentity } from '@xds/reference-server';
import type { AuthorizeStatus, NodeIdentityOptions } from '@xds/server';

/** The downstream server options that decide a client's identity and its access to CSDS. */
export interface RelayIdentityOptions {
  /** Node identity from client certificates; set by `--trust-domain`. */
  readonly nodeIdentity?: NodeIdentityOptions;
  /** Who may read CSDS: no one when client certificates are required, else loopback peers only. */
  readonly authorizeStatus?: AuthorizeStatus;
}

/** The message a refused CSDS call carries. */
export const relayStatusRefusal =
  'client status (CSDS) is refused: xds-relay requires client certificates (--tls-client-ca), and CSDS would show ' +
  "every downstream node's configuration to any of them; operators read it on the admin port (/debug/syncz)";

/**
 * The identity options of a relay whose xDS port requires client certificates (`requireClientCert`) or not, with
 * `trustDomain` (`--trust-domain`) or not, and with the admin token (`--admin-token-file`) or not. Without client
 * certificates, CSDS is for loopback peers only (`xds-server --csds loopback`; csds-access.ts of
 * `@xds/reference-server`), and with the token only for calls that carry it.
 */
export function relayIdentityOptions(
  trustDomain: string | undefined,
  requireClientCert: boolean,
  adminToken?: string,
): RelayIdentityOptions {
  const nodeIdentity = trustDomainIdentity(trustDomain);
  return {
    ...(nodeIdentity === undefined ? {} : { nodeIdentity }),
    authorizeStatus: requireClientCert
      ? () => {
          throw new XdsError(Code.PermissionDenied, relayStatusRefusal);
        }
      : (csdsAccess('loopback', adminToken) as AuthorizeStatus),
  };
}
