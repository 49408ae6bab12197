/**
 * Who may read client status (CSDS) on `xds-server`'s xDS port without node identity (rule L6, probe4 F6): CSDS
 * shows every connected node's config and costs the server work per call, and a server without `--trust-domain`
 * has no identity to decide by. `--csds loopback` (the default) serves peers on 127.0.0.0/8 or ::1 only, `open`
 * serves anyone who reaches the port, `off` no one. It becomes `XdsServerOptions.authorizeStatus`; with
 * `--trust-domain` the server's node-identity rule holds instead (CSDS refused unless a hook grants it).
 */
import { Code, XdsError } from '@xds/api';
import type { AuthorizeStatus } from '@xds/server';
import { isLoopbackHost } from './address.js';
import { bearerMatches, tokenDigest } from './bearer-token.js';
import type { CsdsMode } from './cli.js';

/** The host of a grpc-js peer (`1.2.3.4:5`, `[::1]:5` or `::1:5`), without its port and brackets. */
export function peerHost(peer: string): string {
  const at = peer.lastIndexOf(':');
  const host = at < 0 ? peer : peer.slice(0, at);
  return host.replace(/^\[|\]$/g, '');
}

/**
 * The `authorizeStatus` of a mode: undefined for `open` without an admin token (no hook: CSDS open, as on any server
 * without one). With `adminToken` (`--admin-token-file`), CSDS is an operator's view like the admin pages: a call
 * must also carry gRPC metadata `authorization: Bearer TOKEN`, or it ends UNAUTHENTICATED (audit F8: under the
 * default loopback mode any local process read every node's configuration, whatever the admin token).
 */
export function csdsAccess(mode: CsdsMode, adminToken?: string): AuthorizeStatus | undefined {
  const byMode = modeAccess(mode);
  if (adminToken === undefined || mode === 'off') return byMode;
  const expected = tokenDigest(adminToken);
  return (request, call) => {
    if (byMode !== undefined) byMode(request, call);
    const [header] = call.metadata.get('authorization');
    if (typeof header === 'string' && bearerMatches(expected, header)) return true;
    throw new XdsError(
      Code.Unauthenticated,
      'client status (CSDS) needs the admin token (--admin-token-file): send metadata "authorization: Bearer TOKEN"',
    );
  };
}

function modeAccess(mode: CsdsMode): AuthorizeStatus | undefined {
  switch (mode) {
    case 'open':
      return undefined;
    case 'off':
      return () => {
        throw new XdsError(Code.PermissionDenied, 'client status (CSDS) is off on this server (--csds off)');
      };
    case 'loopback':
      return (_request, call) => {
        const peer = call.getPeer();
        if (isLoopbackHost(peerHost(peer))) return true;
        throw new XdsError(
          Code.PermissionDenied,
          `client status (CSDS) is served to loopback peers only (--csds loopback); ${peer} is not one`,
        );
      };
  }
}
