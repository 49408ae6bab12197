/**
 * The security files `xds-server` and `xds-relay` read at start (TLS on the xDS port, rule L6's client
 * certificates, the admin token and admin HTTPS) and what both processes make of them: they are read before
 * anything listens, so that a missing or mismatched file stops the start naming it, and the two processes turn them
 * into the same listen and admin options. One place, so that both start the same way.
 */
import { ServerTls, type TlsOptions } from '@xds/server';
import { formatAddress, parseAddress } from './address.js';
import { readAdminToken } from './admin-token.js';

/** The security options a process starts with (from the flags of security-flags.ts). */
export interface ProcessSecurityOptions {
  /** TLS (mutual TLS with `ca`) on the xDS port; plaintext by default. Certificate files are reloaded when they change. */
  readonly tls?: TlsOptions | undefined;
  /** HTTPS on the admin port; HTTP by default. Certificate files are reloaded when they change. */
  readonly adminTls?: TlsOptions | undefined;
  /** A file holding the admin bearer token (needed by every admin page but /healthz and /readyz). */
  readonly adminTokenFile?: string | undefined;
}

/** The security files, read and checked. */
export interface ProcessSecurity {
  /** The xDS port's certificates, or undefined for plaintext. */
  readonly xdsTls: ServerTls | undefined;
  /** The admin port's certificates, or undefined for HTTP. */
  readonly adminTls: ServerTls | undefined;
  /** The admin bearer token, or undefined for open pages. */
  readonly adminToken: string | undefined;
  /** The options of the admin server: the token and HTTPS, where given. */
  readonly adminOptions: { readonly token?: string; readonly tls?: ServerTls };
  /** The options of the xDS listen call: TLS, where given. */
  readonly listenOptions: { readonly tls?: ServerTls };
  /** `http` or `https`, for the start-up log line. */
  readonly adminScheme: 'http' | 'https';
}

/** Reads the certificates and the token; throws naming the file when one is missing or unusable. */
export function readProcessSecurity(options: ProcessSecurityOptions): ProcessSecurity {
  const xdsTls = options.tls === undefined ? undefined : new ServerTls(options.tls);
  const adminTls = options.adminTls === undefined ? undefined : new ServerTls(options.adminTls);
  const adminToken =
    options.adminTokenFile === undefined ? undefined : readAdminToken(options.adminTokenFile);
  return {
    xdsTls,
    adminTls,
    adminToken,
    adminOptions: {
      ...(adminToken === undefined ? {} : { token: adminToken }),
      ...(adminTls === undefined ? {} : { tls: adminTls }),
    },
    listenOptions: xdsTls === undefined ? {} : { tls: xdsTls },
    adminScheme: adminTls === undefined ? 'http' : 'https',
  };
}

/** `address` with the port the system gave (`127.0.0.1:0` listened on port 41234 is `127.0.0.1:41234`). */
export function boundAddress(address: string, port: number): string {
  const parsed = parseAddress(address);
  return typeof parsed === 'string' ? address : formatAddress({ host: parsed.host, port });
}
