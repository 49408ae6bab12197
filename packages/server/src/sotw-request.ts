import { isUtf8 } from 'node:buffer';
import { type DescMessage, fromBinary } from '@bufbuild/protobuf';
import type { DiscoveryRequest, DiscoveryRequestSchema } from '@xds/api';
import { requestDecoder, UndecodableRequest } from './codec.js';
import { type KnownRun, knownRunAt, sawRun } from './known-runs.js';
import type { ResolvedLimits } from './limits.js';
import { requestLayout, trimRequest } from './request-wire.js';

// SotW requests. An Envoy repeats every subscribed name in every ACK (1,000 names on a large mesh, at every push
// to every client). The decoder below leaves them encoded: it hands the rest of the request to protobuf-es,
// decodes the names only when someone reads `resourceNames`, and keeps their bytes so that the watch can tell an
// unchanged subscription by comparing bytes.
//
// Rule L1: this is a hand-written reader of client bytes, so it gives protobuf-es's answer on every input or
// declines and lets protobuf-es decode the whole request. It reads tags and lengths of any varint length up to
// protobuf-es's bounds, takes only runs of length-delimited `resource_names` fields, checks their UTF-8 as
// protobuf-es does, and declines on everything else (other wire types, groups, overlong or truncated varints).
// `wire-readers.test.ts` holds it to protobuf-es on random and damaged requests.

/** Requests with fewer names than this are decoded whole. */
const minLazyNames = 8;

/** What the scan learnt of a request's `resource_names`, for the limits of rule L2, without decoding a name. */
export interface NamesSummary {
  /** The number of names. */
  readonly count: number;
  /** The number of glob names (`prefix/*`). */
  readonly globs: number;
  /** The index of the longest name (the first of them). */
  readonly longest: number;
  /** Its length in UTF-8 bytes. */
  readonly longestBytes: number;
}

interface KeptNames {
  readonly bytes: Buffer;
  readonly summary: NamesSummary;
  /** True when `bytes` is a remembered run (known-runs.ts), the same buffer for every request that repeats it. */
  readonly shared: boolean;
}

const kept = new WeakMap<object, KeptNames>();

/** The encoded `resource_names` fields of a request decoded by {@link sotwRequestDecoder}, if it kept them. */
export function resourceNamesBytes(request: object): Buffer | undefined {
  return kept.get(request)?.bytes;
}

/**
 * The encoded `resource_names` of a request when they are exactly a run of names seen in earlier requests: the same
 * buffer (never changed) for every request that repeats them, so that what was found of them once holds for all.
 */
export function sharedNamesBytes(request: object): Buffer | undefined {
  const names = kept.get(request);
  return names?.shared === true ? names.bytes : undefined;
}

/** The scan's summary of a request's names, when {@link sotwRequestDecoder} left them encoded. */
export function resourceNamesSummary(request: object): NamesSummary | undefined {
  return kept.get(request)?.summary;
}

/** Where the last successful {@link readVarint} stopped (a module variable: no tuple per varint on a hot path). */
let varintEnd = 0;

/**
 * A varint of at most five bytes whose value fits in 32 bits, at `at`; -1 (and `varintEnd` untouched) when the
 * bytes end first or the varint is longer or larger. protobuf-es refuses such tags; it reads such lengths modulo
 * 2^32, which no honest encoder writes: declining sends those requests to protobuf-es.
 */
function readVarint(bytes: Uint8Array, at: number): number {
  let value = 0;
  let pos = at;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= bytes.length) return -1;
    const byte = bytes[pos++]!;
    if (shift === 28 && byte > 0x0f) return -1;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      varintEnd = pos;
      return value;
    }
  }
  return -1;
}

/**
 * Calls `visit` with the start and end of each name in a run of `resource_names` fields that {@link scan} has
 * checked. Throws if the run is not such a run (it cannot be: the scan declined those bytes).
 */
function forEachName(region: Uint8Array, visit: (start: number, end: number) => void): void {
  let pos = 0;
  while (pos < region.length) {
    if (readVarint(region, pos) < 0) throw new Error('resource_names: bad tag in a scanned run');
    const length = readVarint(region, varintEnd);
    if (length < 0 || varintEnd + length > region.length)
      throw new Error('resource_names: bad length in a scanned run');
    visit(varintEnd, varintEnd + length);
    pos = varintEnd + length;
  }
}

/** The names in a run of `resource_names` fields. */
function decodeNames(region: Buffer): string[] {
  const names: string[] = [];
  forEachName(region, (start, end) => names.push(region.toString('utf8', start, end)));
  return names;
}

/**
 * The index of the first name in a run of `resource_names` fields that holds a C0 control character or DEL
 * (rule L5), or -1. UTF-8 never uses these byte values inside another character, so the bytes tell.
 */
export function controlCharacterIndex(region: Uint8Array): number {
  let index = 0;
  let found = -1;
  forEachName(region, (start, end) => {
    if (found < 0) {
      for (let i = start; i < end; i++) {
        const byte = region[i]!;
        if (byte < 0x20 || byte === 0x7f) {
          found = index;
          break;
        }
      }
    }
    index++;
  });
  return found;
}

/**
 * A field whose body protobuf-es reads as a message. protobuf-es does not hold a message's inner fields to the
 * message's length: a string inside a broken `node` may run on into the fields after it. So a message field that
 * comes before the names is decoded on its own (where running on is an error) and set on the request, and the
 * names are cut out only when that worked; one after the names cannot reach them.
 */
interface MessageField {
  readonly no: number;
  readonly at: number;
  readonly body: number;
  readonly end: number;
}

/** What {@link scan} found: the run of names, its summary, and the message fields before it. */
interface Scanned {
  readonly start: number;
  readonly end: number;
  readonly summary: NamesSummary;
  readonly before: readonly MessageField[];
  /** The remembered run that is exactly the names, if any (its bytes are the request's names). */
  readonly run: KnownRun | undefined;
}

/**
 * Where the `resource_names` fields (field 3) of an encoded DiscoveryRequest are, when they are many, in one run
 * (as encoders write them), and valid UTF-8; undefined otherwise, and for any field that is not length-delimited
 * or any varint this reader does not take: the full decode then reads the request or reports the problem.
 * `messages` are the field numbers protobuf-es reads as messages (see {@link MessageField}).
 */
function scan(bytes: Buffer, messages: ReadonlySet<number>): Scanned | undefined {
  let start = -1;
  let end = -1;
  let count = 0;
  let globs = 0;
  let longest = 0;
  let longestBytes = -1;
  /** True while every tag and length in the run is one byte (ASCII), so one UTF-8 check covers every name. */
  let oneByte = true;
  /** A remembered run the names start with (see known-runs.ts). */
  let known: KnownRun | undefined;
  const nested: MessageField[] = [];
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
    if ((tag & 7) !== 2 || tag < 8 || body + length > bytes.length) return undefined;
    pos = body + length;
    const no = tag >>> 3;
    if (no !== 3) {
      if (messages.has(no)) nested.push({ no, at: fieldAt, body, end: pos });
      continue;
    }
    if (start === -1) {
      start = fieldAt;
      // The names of an ACK are most often a run seen before: one comparison instead of a walk over each field.
      known = knownRunAt(bytes, fieldAt);
      if (known !== undefined) {
        ({ count, globs, longest, longestBytes } = known.summary);
        oneByte = known.oneByte;
        end = pos = fieldAt + known.bytes.length;
        continue;
      }
    } else if (end !== fieldAt) return undefined;
    end = pos;
    if (body - fieldAt !== 2) oneByte = false;
    if (length > longestBytes) {
      longest = count;
      longestBytes = length;
    }
    if (length >= 2 && bytes[pos - 2] === 0x2f && bytes[pos - 1] === 0x2a) globs++;
    count++;
  }
  // A remembered run is valid UTF-8: only what follows it (the same run, extended) needs the check.
  const exact = known !== undefined && end - start === known.bytes.length;
  if (count < minLazyNames || (!exact && !namesAreUtf8(bytes, start, end, oneByte))) return undefined;
  const before = nested.filter((field) => field.at < start);
  // A message field before the names is taken apart only when it occurs once (no merging to reproduce).
  for (const field of before)
    if (nested.some((other) => other !== field && other.no === field.no)) return undefined;
  const summary = { count, globs, longest, longestBytes };
  const run = exact ? known : sawRun(bytes, start, end, summary, oneByte);
  return { start, end, summary: run?.summary ?? summary, before, run };
}

/**
 * True when every name in the run is valid UTF-8, as protobuf-es requires of a `string`. When every tag and length
 * is one ASCII byte, a name's broken or cut character shows as a break in the run's UTF-8 (an ASCII byte is never
 * a continuation byte), so one check of the whole run does; otherwise each name is checked.
 */
function namesAreUtf8(bytes: Buffer, start: number, end: number, oneByte: boolean): boolean {
  const region = bytes.subarray(start, end);
  if (oneByte) return isUtf8(region);
  let valid = true;
  forEachName(region, (from, to) => {
    if (valid && !isUtf8(region.subarray(from, to))) valid = false;
  });
  return valid;
}

/** protobuf-es's default bound on message nesting; a message field decoded on its own is one level down. */
const recursionLimit = 100;

/**
 * The deserializer of SotW DiscoveryRequests: like {@link requestDecoder} (with `limits`, after the wire pass of
 * request-wire.ts), but a long `resource_names` is decoded only when read, and its bytes are kept for
 * {@link resourceNamesBytes}.
 */
export function sotwRequestDecoder(
  schema: typeof DiscoveryRequestSchema,
  limits?: ResolvedLimits,
): (bytes: Buffer) => DiscoveryRequest | UndecodableRequest {
  const whole = requestDecoder(schema);
  const layout = limits === undefined ? undefined : requestLayout(schema);
  /** Singular message fields by number (`node`, `error_detail`); other message-like fields are declined. */
  const singular = new Map<number, { readonly localName: string; readonly schema: DescMessage }>();
  const messages = new Set<number>();
  for (const field of schema.fields) {
    if (field.fieldKind === 'message')
      singular.set(field.number, { localName: field.localName, schema: field.message });
    if (field.fieldKind === 'message' || field.fieldKind === 'map' || field.fieldKind === 'list')
      if (field.fieldKind !== 'list' || field.listKind === 'message') messages.add(field.number);
  }
  return (input) => {
    // The wire pass (rule L2) first: no request over the limits is decoded, and details are never decoded.
    const bytes = layout === undefined ? input : trimRequest(input, layout, limits!);
    if (bytes instanceof UndecodableRequest) return bytes;
    const scanned = scan(bytes, messages);
    if (scanned === undefined) return whole(bytes);
    const { start, end, summary, before } = scanned;
    const pieces: Buffer[] = [];
    const set: [string, unknown][] = [];
    let from = 0;
    for (const field of before) {
      const desc = singular.get(field.no);
      if (desc === undefined) return whole(bytes);
      try {
        const options = { recursionLimit: recursionLimit - 1 };
        set.push([desc.localName, fromBinary(desc.schema, bytes.subarray(field.body, field.end), options)]);
      } catch {
        // protobuf-es may still read it (by running on into the next fields): let it decide, on the whole.
        return whole(bytes);
      }
      pieces.push(bytes.subarray(from, field.at));
      from = field.end;
    }
    pieces.push(bytes.subarray(from, start), bytes.subarray(end));
    const rest = whole(Buffer.concat(pieces));
    if (rest instanceof UndecodableRequest) return rest;
    for (const [localName, value] of set) (rest as unknown as Record<string, unknown>)[localName] = value;
    const names = scanned.run?.bytes ?? bytes.subarray(start, end);
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
    kept.set(rest, { bytes: names, summary, shared: scanned.run !== undefined });
    return rest;
  };
}
