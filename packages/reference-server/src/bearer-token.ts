// The admin token (`--admin-token-file`) as a bearer token: one comparison for the admin pages
// (`Authorization: Bearer TOKEN`) and for CSDS on the xDS port (gRPC metadata `authorization: Bearer TOKEN`), in
// constant time over SHA-256 digests, so that neither the token's length nor its prefix leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';

/** The digest a presented token is compared with. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** True when `header` is `Bearer TOKEN` (printable ASCII, at most 4,096 characters) with the expected token. */
export function bearerMatches(expected: Buffer, header: string | undefined): boolean {
  const match = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(header ?? '');
  return timingSafeEqual(expected, tokenDigest(match?.[1] ?? '')) && match !== null;
}
