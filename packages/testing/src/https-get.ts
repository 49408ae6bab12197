/**
 * An HTTPS GET for tests of admin pages served over TLS (`xds-server` and `xds-relay` with `--admin-tls-cert`):
 * it trusts only the given CA and names the server `localhost` for the certificate check.
 */
import { request } from 'node:https';

/** GETs `path` of `host:port` over HTTPS trusting `ca`, with optional headers; resolves the status and body. */
export function httpsGet(
  address: string,
  path: string,
  ca: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address.slice(0, at),
        port: Number(address.slice(at + 1)),
        path,
        ca,
        servername: 'localhost',
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
