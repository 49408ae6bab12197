// Reads a small file that an operator names (a certificate, a key, a token, a limits file) without trusting what
// the path turns out to be (rule L4: nothing a file holds may stall or end the server). `statSync` + `readFileSync`
// hangs the event loop on a FIFO nobody writes (the open blocks, and SIGTERM cannot be handled meanwhile) and
// reads a character device such as /dev/zero without end (its size says 0): probe finding Q4, a certificate file
// swapped for a FIFO at a reload. Here the file is opened without blocking, refused unless it is a regular file,
// and read up to its limit plus one byte, so that "too large" is seen without reading the rest.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** What {@link readBoundedFile} read, or why it could not. */
export type BoundedRead =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly message: string; readonly code?: string };

function failure(error: unknown): BoundedRead {
  const code = (error as NodeJS.ErrnoException)?.code;
  return {
    ok: false,
    message: `cannot read the file: ${error instanceof Error ? error.message : String(error)}`,
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/**
 * Reads at most `limit + 1` bytes of the regular file `file` (so a result longer than `limit` means "too large"),
 * or says why it cannot: missing, unreadable, or not a regular file (a FIFO, a device, a directory, a socket).
 * The open is non-blocking, so a FIFO with no writer is refused at once instead of hanging the caller.
 */
export function readBoundedFile(file: string, limit: number): BoundedRead {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return failure(error);
  }
  try {
    if (!fstatSync(fd).isFile()) return { ok: false, message: 'cannot read the file: not a regular file' };
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return { ok: true, bytes: buffer.subarray(0, length) };
  } catch (error) {
    return failure(error);
  } finally {
    closeSync(fd);
  }
}
