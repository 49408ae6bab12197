// The admin bearer token, read from a file (`--admin-token-file`): bounded in size, trimmed of the final
// newline, and long enough to be worth guessing against.
import { readBoundedFile } from '@xds/server';

/** The largest token file read, in bytes. */
export const maxAdminTokenFileBytes = 4096;
/** The shortest token accepted, in characters. */
export const minAdminTokenLength = 16;

/**
 * Reads the token in `file`: its content without surrounding whitespace, printable ASCII, 16 to 4,096 characters.
 * Throws an Error naming the file otherwise.
 */
export function readAdminToken(file: string): string {
  // Bounded and non-blocking: a FIFO or a device named here must not hang the start (probe Q4).
  const read = readBoundedFile(file, maxAdminTokenFileBytes);
  if (!read.ok) throw new Error(`--admin-token-file ${file}: ${read.message}`);
  if (read.bytes.length > maxAdminTokenFileBytes)
    throw new Error(
      `--admin-token-file ${file} is more than the ${maxAdminTokenFileBytes} bytes a token file may have`,
    );
  const token = read.bytes.toString('utf8').trim();
  if (!/^[\x21-\x7e]*$/.test(token))
    throw new Error(`--admin-token-file ${file}: the token must be printable ASCII without spaces`);
  if (token.length < minAdminTokenLength)
    throw new Error(
      `--admin-token-file ${file}: the token has ${token.length} characters; it needs at least ${minAdminTokenLength}`,
    );
  return token;
}
