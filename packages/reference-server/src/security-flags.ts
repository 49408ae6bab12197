/**
 * The security flags `xds-server` and `xds-relay` share: TLS and mutual TLS on the xDS port (`--tls-cert`,
 * `--tls-key`, `--tls-client-ca`), and the admin port's bearer token and HTTPS (`--admin-token-file`,
 * `--admin-tls-cert`, `--admin-tls-key`), with their checks, the refusal of an admin address beyond loopback without
 * both a token and HTTPS, their help text, and the TLS options they make. One place, so that both commands accept
 * and refuse the same things.
 */
import type { Logger, NodeIdentityOptions, ServerTls, TlsOptions } from '@xds/server';
import { isLoopbackHost, parseAddress } from './address.js';

/** The `node:util` `parseArgs` specs of the flags. */
export const securityFlagSpecs = Object.freeze({
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-client-ca': { type: 'string' },
  'admin-token-file': { type: 'string' },
  'admin-tls-cert': { type: 'string' },
  'admin-tls-key': { type: 'string' },
} as const);

/** What the flags ask for; each is a file name, undefined when not given. */
export interface SecurityFlags {
  /** TLS on the xDS port: the certificate chain file (with {@link tlsKey}); undefined serves plaintext. */
  readonly tlsCert: string | undefined;
  /** TLS on the xDS port: the private key file. */
  readonly tlsKey: string | undefined;
  /** Mutual TLS on the xDS port: the CA file that signs client certificates; clients must present one. */
  readonly tlsClientCa: string | undefined;
  /** A file holding the bearer token the admin pages ask for (all but /healthz and /readyz). */
  readonly adminTokenFile: string | undefined;
  /** HTTPS on the admin port: the certificate chain file (with {@link adminTlsKey}). */
  readonly adminTlsCert: string | undefined;
  /** HTTPS on the admin port: the private key file. */
  readonly adminTlsKey: string | undefined;
}

/** The help lines of the flags, indented as both commands' usage. */
export const securityFlagsUsage = `  --tls-cert FILE      serve xDS over TLS with this certificate chain (PEM), with --tls-key
  --tls-key FILE       the private key (PEM) of --tls-cert
  --tls-client-ca FILE mutual TLS: clients must present a certificate signed by this CA (PEM)
  --admin-token-file FILE  the admin pages (all but /healthz and /readyz) and CSDS need
                       "Authorization: Bearer TOKEN", TOKEN being the file's content (16+ characters)
  --admin-tls-cert FILE  serve the admin pages over HTTPS with this certificate chain, with --admin-tls-key
  --admin-tls-key FILE   the private key of --admin-tls-cert
  The admin port binds beyond loopback only with both a token and HTTPS.
`;

/** The flags' values out of `parseArgs`'s `values`. */
export function readSecurityFlags(values: Readonly<Record<string, unknown>>): SecurityFlags {
  const flag = (name: keyof typeof securityFlagSpecs): string | undefined =>
    typeof values[name] === 'string' ? values[name] : undefined;
  return {
    tlsCert: flag('tls-cert'),
    tlsKey: flag('tls-key'),
    tlsClientCa: flag('tls-client-ca'),
    adminTokenFile: flag('admin-token-file'),
    adminTlsCert: flag('admin-tls-cert'),
    adminTlsKey: flag('admin-tls-key'),
  };
}

/** Usage problems, one line each: empty file names, flags that go together, a client CA without TLS. */
export function securityFlagProblems(flags: SecurityFlags): string[] {
  const together = (a: string, b: string, x: string | undefined, y: string | undefined) =>
    (x === undefined) === (y === undefined) ? undefined : `--${a} and --${b} go together`;
  const files: [string, string | undefined][] = [
    ['tls-cert', flags.tlsCert],
    ['tls-key', flags.tlsKey],
    ['tls-client-ca', flags.tlsClientCa],
    ['admin-token-file', flags.adminTokenFile],
    ['admin-tls-cert', flags.adminTlsCert],
    ['admin-tls-key', flags.adminTlsKey],
  ];
  return [
    ...files.map(([name, value]) => (value === '' ? `--${name}: the file name is empty` : undefined)),
    together('tls-cert', 'tls-key', flags.tlsCert, flags.tlsKey),
    together('admin-tls-cert', 'admin-tls-key', flags.adminTlsCert, flags.adminTlsKey),
    flags.tlsClientCa !== undefined && flags.tlsCert === undefined
      ? '--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS first)'
      : undefined,
  ].filter((problem) => problem !== undefined);
}

/** The `parseArgs` spec of `--trust-domain` (node identity, rule L6), shared by `xds-server` and `xds-relay`. */
export const trustDomainFlagSpec = Object.freeze({ 'trust-domain': { type: 'string' } } as const);

/** The help lines of `--trust-domain`, indented as both commands' usage. */
export const trustDomainUsage = `  --trust-domain TD    node identity, with --tls-client-ca: a client certificate's SPIFFE ID
                       spiffe://TD/ns/NS/sa/SA may only claim Istio node ids of namespace NS
                       (TYPE~IP~POD.NS~NS.svc.DOMAIN); anything else is PERMISSION_DENIED
`;

/** Usage problems of `--trust-domain`: without a client CA (no verified certificate to read), malformed. */
export function trustDomainProblems(
  trustDomain: string | undefined,
  tlsClientCa: string | undefined,
): (string | undefined)[] {
  return [
    trustDomain !== undefined && tlsClientCa === undefined
      ? '--trust-domain needs --tls-client-ca: node identity comes from verified client certificates'
      : undefined,
    trustDomain === undefined || /^[a-z0-9._-]{1,255}$/.test(trustDomain)
      ? undefined
      : `--trust-domain: "${trustDomain}" is not a SPIFFE trust domain (lowercase letters, digits, . _ -)`,
  ];
}

/** The server's `nodeIdentity` for `--trust-domain TD` (Istio's namespace rule), or undefined without it. */
export function trustDomainIdentity(trustDomain: string | undefined): NodeIdentityOptions | undefined {
  return trustDomain === undefined ? undefined : { trustDomains: [trustDomain], istio: true };
}

/**
 * Why an admin address may not be used, or undefined: beyond loopback the admin pages need both a token and
 * HTTPS (a token sent in the clear can be read on the way).
 */
export function adminExposureRefusal(admin: string, flags: SecurityFlags): string | undefined {
  const parsed = parseAddress(admin);
  if (typeof parsed === 'string' || isLoopbackHost(parsed.host)) return undefined;
  if (flags.adminTokenFile !== undefined && flags.adminTlsCert !== undefined) return undefined;
  return `--admin ${admin} is not a loopback address: beyond this host the admin pages need both --admin-token-file and --admin-tls-cert/--admin-tls-key`;
}

/** The xDS port's TLS (mutual with a client CA), or undefined for plaintext. */
export function xdsTlsOptions(flags: SecurityFlags): TlsOptions | undefined {
  if (flags.tlsCert === undefined || flags.tlsKey === undefined) return undefined;
  return {
    cert: flags.tlsCert,
    key: flags.tlsKey,
    ...(flags.tlsClientCa === undefined ? {} : { ca: flags.tlsClientCa, requireClientCert: true }),
  };
}

/** The admin port's HTTPS, or undefined for HTTP. */
export function adminTlsOptions(flags: SecurityFlags): TlsOptions | undefined {
  return flags.adminTlsCert === undefined || flags.adminTlsKey === undefined
    ? undefined
    : { cert: flags.adminTlsCert, key: flags.adminTlsKey };
}

/** How the xDS port is served, for the start-up log line: `plaintext`, `TLS` or `mutual TLS`. */
export function xdsSecurityLabel(tls: ServerTls | undefined): string {
  return tls === undefined ? 'plaintext' : tls.requireClientCert ? 'mutual TLS' : 'TLS';
}

/** Warns when xDS is served in plaintext on an address beyond loopback (`requested`, as given; `bound`, as bound). */
export function warnPlaintextXds(
  logger: Logger,
  requested: string,
  bound: string,
  tls: ServerTls | undefined,
): void {
  const host = parseAddress(requested);
  if (tls !== undefined || typeof host === 'string' || isLoopbackHost(host.host)) return;
  logger.warn(
    { xds: bound },
    'xDS is served in plaintext beyond loopback: any host that reaches it can read every configuration; give --tls-cert/--tls-key (and --tls-client-ca)',
  );
}
