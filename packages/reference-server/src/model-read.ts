// Reads a model file and checks it, bounded (rule L2): at most maxBytes are read, whatever the file claims to be, and
// only regular files are opened (a FIFO or a device would block the reader or never end). Shared by the start-up
// read and the reload worker, so both apply the same limits and give the same errors.
import { createHash } from 'node:crypto';
import { type ModelError, type ModelLimits, parseModel, type ServiceModel } from '@xds/generator/model';
import { readBoundedFile } from '@xds/server/bounded-file';

/** The outcome of reading a model file. */
export type ReadResult =
  /** The text's digest is one of those passed as `known`: not parsed again. */
  | { readonly kind: 'known'; readonly digest: string }
  /** A valid model. */
  | { readonly kind: 'model'; readonly digest: string; readonly model: ServiceModel }
  /** The file could not be read (no digest) or holds an invalid model. */
  | { readonly kind: 'errors'; readonly digest: string | undefined; readonly errors: readonly ModelError[] };

/** What {@link readModelFile} reads, and how. */
export interface ReadModelOptions {
  readonly file: string;
  readonly limits: ModelLimits;
  /** Digests of texts already handled: such a text is reported as `known` without being parsed. */
  readonly known?: readonly string[];
  /** Called with the digest of a text that is not `known`, once it is read and before it is parsed. */
  readonly onDigest?: (digest: string) => void;
}

/** The SHA-256 of a file's bytes, hex. */
export function digestOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The 1-based line of the byte at `offset`. */
function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/**
 * Reads a model file (at most `limits.maxBytes`) and parses it; never throws. Errors name the file, the line and
 * the field, or the limit that was hit.
 */
export function readModelFile(options: ReadModelOptions): ReadResult {
  const { file, limits } = options;
  const read = readBoundedFile(file, limits.maxBytes);
  if (!read.ok)
    return { kind: 'errors', digest: undefined, errors: [{ file, path: '', message: read.message }] };
  const digest = digestOf(read.bytes);
  if (options.known?.includes(digest)) return { kind: 'known', digest };
  options.onDigest?.(digest);
  if (read.bytes.length > limits.maxBytes) {
    const message = `the file is larger than ${limits.maxBytes.toLocaleString('en-US')} bytes; the limit is maxBytes`;
    return {
      kind: 'errors',
      digest,
      errors: [{ file, line: lineAt(read.bytes, limits.maxBytes), path: '', message }],
    };
  }
  const result = parseModel(read.bytes.toString('utf8'), { file, limits });
  return result.ok
    ? { kind: 'model', digest, model: result.model }
    : { kind: 'errors', digest, errors: result.errors };
}
