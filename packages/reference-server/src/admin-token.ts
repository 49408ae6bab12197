// The admin bearer token, read from a file (`--admin-token-file`): bounded in size, trimmed of the final
// newline, and long enough to be worth guessing against.
import { readFileSync, statSync } from 'node:fs';

/** The largest token file read, in bytes. */
export const maxAdminTokenFileBytes = 4096;
/** The shortest token accepted, in characters. */
export const minAdminTokenLength = 16;

/**
 * Reads the token in `file`: its content without surrounding whitespace, printable ASCII, 16 to 4,096 characters.
 * Throws an Error naming the file otherwise.
 */
export function readAdminToken(file: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new Error(`--admin-token-file ${file}: ${(error as Error).message}`);
  }
  if (size > maxAdminTokenFileBytes)
    throw new Error(
      `--admin-token-file ${file} is ${size} bytes; a token file may have ${maxAdminTokenFileBytes}`,
    );
  const token = readFileSync(file, 'utf8').trim();
  if (!/^[\x21-\x7e]*$/.test(token))
    throw new Error(`--admin-token-file ${file}: the token must be printable ASCII without spaces`);
  if (token.length < minAdminTokenLength)
    throw new Error(
      `--admin-token-file ${file}: the token has ${token.length} characters; it needs at least ${minAdminTokenLength}`,
    );
  return token;
}
