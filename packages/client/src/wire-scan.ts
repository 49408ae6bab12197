/**
 * A reader of a response's top-level fields straight from its bytes, so that a response offering more resources
 * than the client may hold (`limits.maxResourcesPerType`, rule L2) is refused without decoding them: one 16 MiB
 * response of 8 million empty `Any`s would otherwise become 8 million objects and as many errors. Rule L1: it agrees
 * with protobuf-es on every message protobuf-es reads, or declines (returns undefined) and the caller decodes as
 * usual.
 */

/** Where the varint last read by {@link varint} ended. */
let after = 0;

/**
 * The varint at `at` (exact up to 2^53), setting {@link after} to where it ends; -1 when cut or longer than 10
 * bytes. No object per call: a response may hold millions of fields.
 */
function varint(bytes: Uint8Array, at: number): number {
  const first = bytes[at];
  if (first === undefined) return -1;
  if (first < 0x80) {
    after = at + 1;
    return first;
  }
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) return -1;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      after = at + i + 1;
      return value;
    }
    scale *= 128;
  }
  return -1;
}

/** What a pass over the top-level fields of a message found of one length-delimited (message) field. */
export interface Scan {
  /** How many times it occurs: for a repeated message field, the length of the list protobuf-es would decode. */
  readonly count: number;
  /** The bytes of its occurrences, tags included. */
  readonly bytes: number;
}

/**
 * One pass over the top-level fields of `bytes` looking for `field`; with `out`, the other fields are copied into
 * it, in order; `onEntry` is given the span of each occurrence's body. Undefined when the bytes are not a well-formed message at the top level (a group, a field number 0,
 * a length past the end) or `field` occurs with another wire type.
 */
function walk(
  bytes: Uint8Array,
  field: number,
  out: Uint8Array | undefined,
  onEntry?: (start: number, end: number) => void,
): Scan | undefined {
  let count = 0;
  let fieldBytes = 0;
  let written = 0;
  let at = 0;
  const wanted = field * 8 + 2;
  while (at < bytes.length) {
    const start = at;
    const tag = varint(bytes, at);
    if (tag < 8 || tag > 0xffffffff) return undefined;
    at = after;
    if (tag === wanted) {
      const length = varint(bytes, at);
      if (length < 0) return undefined;
      at = after + length;
      if (at > bytes.length) return undefined;
      onEntry?.(after, at);
      count++;
      fieldBytes += at - start;
      continue;
    }
    if (Math.floor(tag / 8) === field) return undefined;
    switch (tag % 8) {
      case 0:
        if (varint(bytes, at) < 0) return undefined;
        at = after;
        break;
      case 1:
        at += 8;
        break;
      case 2: {
        const length = varint(bytes, at);
        if (length < 0) return undefined;
        at = after + length;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        return undefined;
    }
    if (at > bytes.length) return undefined;
    if (out !== undefined) {
      out.set(bytes.subarray(start, at), written);
      written += at - start;
    }
  }
  return { count, bytes: fieldBytes };
}

/** Counts the top-level occurrences of the message field `field` in `bytes` (see {@link Scan}), without copying. */
export function scanField(bytes: Uint8Array, field: number): Scan | undefined {
  return walk(bytes, field, undefined);
}

/**
 * `bytes` without the top-level occurrences of `field` that `scan` found, every other field kept in order;
 * `onEntry` is given the span of each occurrence's body.
 */
export function withoutField(
  bytes: Uint8Array,
  field: number,
  scan: Scan,
  onEntry?: (start: number, end: number) => void,
): Uint8Array {
  const out = new Uint8Array(bytes.length - scan.bytes);
  walk(bytes, field, out, onEntry);
  return out;
}
