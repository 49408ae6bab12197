import type { DiscoveryRequest, DiscoveryRequestSchema } from '@xds/api';
import { requestDecoder, UndecodableRequest } from './codec.js';

// SotW requests. An Envoy repeats every subscribed name in every ACK (1,000 names on a large mesh, at every push
// to every client). The decoder below leaves them encoded: it hands the rest of the request to protobuf-es,
// decodes the names only when someone reads `resourceNames`, and keeps their bytes so that the watch can tell an
// unchanged subscription by comparing bytes.

/** Requests with fewer names than this are decoded whole. */
const minLazyNames = 8;
const namesBytes = new WeakMap<object, Buffer>();

/** The encoded `resource_names` fields of a request decoded by {@link sotwRequestDecoder}, if it kept them. */
export function resourceNamesBytes(request: object): Buffer | undefined {
  return namesBytes.get(request);
}

/** Where the last {@link readVarint} stopped (a module variable: no tuple per varint on this hot path). */
let varintEnd = 0;

/** A varint of at most 32 bits at `at`, or -1 when the bytes end first or it is longer. */
function readVarint(bytes: Buffer, at: number): number {
  let value = 0;
  let pos = at;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= bytes.length) return -1;
    const byte = bytes[pos++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      varintEnd = pos;
      return value;
    }
  }
  return -1;
}

/** The names in a run of `resource_names` fields. */
function decodeNames(region: Buffer): string[] {
  const names: string[] = [];
  let pos = 0;
  while (pos < region.length) {
    const length = readVarint(region, pos + 1);
    const start = varintEnd;
    names.push(region.toString('utf8', start, start + length));
    pos = start + length;
  }
  return names;
}

/**
 * Where the `resource_names` fields (field 3) of an encoded DiscoveryRequest are, when they are many and in one
 * run, as encoders write them; undefined otherwise (or when the bytes are not a well-formed message: the full
 * decode then reports the problem).
 */
function namesRegion(bytes: Buffer): [start: number, end: number] | undefined {
  let start = -1;
  let end = -1;
  let count = 0;
  let pos = 0;
  while (pos < bytes.length) {
    const fieldAt = pos;
    let tag: number;
    let length: number;
    let body: number;
    const first = bytes[pos]!;
    const second = bytes[pos + 1] ?? 0x80;
    if (first < 0x80 && second < 0x80) {
      // The usual case: a one-byte tag and a one-byte length.
      tag = first;
      length = second;
      body = pos + 2;
    } else {
      tag = readVarint(bytes, pos);
      if (tag < 0) return undefined;
      length = readVarint(bytes, varintEnd);
      if (length < 0) return undefined;
      body = varintEnd;
    }
    if ((tag & 7) !== 2 || body + length > bytes.length) return undefined;
    pos = body + length;
    if (tag >>> 3 !== 3) continue;
    if (start === -1) start = fieldAt;
    else if (end !== fieldAt) return undefined;
    end = pos;
    count++;
  }
  return count >= minLazyNames ? [start, end] : undefined;
}

/**
 * The deserializer of SotW DiscoveryRequests: like {@link requestDecoder}, but a long `resource_names` is decoded
 * only when read, and its bytes are kept for {@link resourceNamesBytes}.
 */
export function sotwRequestDecoder(
  schema: typeof DiscoveryRequestSchema,
): (bytes: Buffer) => DiscoveryRequest | UndecodableRequest {
  const whole = requestDecoder(schema);
  return (bytes) => {
    const region = namesRegion(bytes);
    if (region === undefined) return whole(bytes);
    const [start, end] = region;
    const rest = whole(Buffer.concat([bytes.subarray(0, start), bytes.subarray(end)]));
    if (rest instanceof UndecodableRequest) return rest;
    const names = bytes.subarray(start, end);
    let decoded: string[] | undefined;
    Object.defineProperty(rest, 'resourceNames', {
      enumerable: true,
      configurable: true,
      get: () => {
        decoded ??= decodeNames(names);
        return decoded;
      },
      set: (value: string[]) => {
        decoded = value;
      },
    });
    namesBytes.set(rest, names);
    return rest;
  };
}
