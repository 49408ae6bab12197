// A wire pass over a discovery request before protobuf-es decodes it (rules L2 and L1). protobuf-es decodes a
// message whole: 15 MiB of empty `Any`s in `error_detail.details` (which the server never reads) or of unknown
// fields become millions of objects, seconds of CPU on the event loop and hundreds of MB, before any limit is
// checked. This pass walks the request's top-level fields without decoding them, counts the repeated fields that
// carry names and refuses more than `limits.maxNamesPerRequest`, and drops what the server never reads: the
// `details` of `error_detail` (its `code` and `message` are kept) and unknown fields.
//
// Rule L1: on every request it passes on, protobuf-es's decode of its output equals protobuf-es's decode of the
// input apart from the dropped details and unknown fields (`wire-readers.test.ts` holds it to that on random and
// damaged requests). It reads only canonical protobuf: a request with a group, a known field of another wire
// type than its own, or an `error_detail` field that runs past its message is refused as not parsing (protobuf-es
// would read some of those leniently, and no encoder writes them).
import type { DescMessage } from '@bufbuild/protobuf';
import { Code } from '@xds/api';
import { checkField, end, fieldOf, Refused, skipValue, tagAt } from './canonical-wire.js';
import { UndecodableRequest } from './codec.js';
import type { ResolvedLimits } from './limits.js';

/** Repeated fields counted together against `limits.maxNamesPerRequest`, and how an error names them. */
interface CountedFields {
  readonly fields: readonly number[];
  readonly what: string;
}

/** What the wire pass knows of a request message. */
export interface RequestLayout {
  readonly typeName: string;
  /** Field numbers of the message's fields (every one of them length-delimited). */
  readonly known: ReadonlySet<number>;
  /** The field number of `error_detail` (a `google.rpc.Status`). */
  readonly errorDetail: number;
  readonly schema: DescMessage;
  readonly counted: readonly CountedFields[];
}

/** The layout of a request schema: DiscoveryRequest or DeltaDiscoveryRequest. */
export function requestLayout(schema: DescMessage): RequestLayout {
  const number = (name: string): number => {
    const field = schema.fields.find((f) => f.name === name);
    if (field === undefined) throw new Error(`${schema.typeName} has no field ${name}`);
    return field.number;
  };
  const group = (names: readonly string[]): CountedFields | undefined => {
    const present = names.filter((name) => schema.fields.some((f) => f.name === name));
    return present.length === 0 ? undefined : { fields: present.map(number), what: present.join(' + ') };
  };
  const counted = [
    group(['resource_names']),
    group(['resource_locators']),
    group(['resource_names_subscribe', 'resource_names_unsubscribe']),
    group(['initial_resource_versions']),
    group(['resource_locators_subscribe', 'resource_locators_unsubscribe']),
  ].filter((g): g is CountedFields => g !== undefined);
  return {
    schema,
    typeName: schema.typeName,
    known: new Set(schema.fields.map((f) => f.number)),
    errorDetail: number('error_detail'),
    counted,
  };
}

/**
 * Calls `visit` with the number and extent of each field of a `google.rpc.Status { code = 1, message = 2,
 * details = 3 }` body; with `status`, checks each field as protobuf-es would read it (the details too, which are
 * checked but never decoded).
 */
function forEachStatusField(
  bytes: Uint8Array,
  from: number,
  to: number,
  status: DescMessage | undefined,
  visit: (no: number, start: number, end: number) => void,
): void {
  let pos = from;
  while (pos < to) {
    const start = pos;
    if (bytes[pos] === 0x1a && bytes[pos + 1] === 0) {
      // An empty detail (tag and length of one byte each, zero length): nothing to check.
      pos += 2;
      visit(3, start, pos);
      continue;
    }
    const tag = tagAt(bytes, pos, to);
    const no = tag >>> 3;
    const field = status === undefined ? undefined : fieldOf(status, no);
    pos =
      field === undefined
        ? skipValue(bytes, tag & 7, end, to, no)
        : checkField(bytes, field, tag & 7, end, to, 1, true);
    visit(no, start, pos);
  }
}

/** Whether a Status field is kept: `code` and `message`. */
const keptStatusField = (no: number) => no === 1 || no === 2;

/**
 * Checks the body of a Status and returns how many of its bytes are kept without its details and unknown fields,
 * or -1 when every byte is kept.
 */
function statusKept(bytes: Uint8Array, from: number, to: number, status: DescMessage): number {
  let kept = 0;
  let dropped = false;
  forEachStatusField(bytes, from, to, status, (no, start, stop) => {
    if (keptStatusField(no)) kept += stop - start;
    else dropped = true;
  });
  return dropped ? kept : -1;
}

/** Copies the `code` and `message` fields of a Status body that {@link statusKept} checked; returns the end. */
function copyStatus(bytes: Buffer, from: number, to: number, out: Buffer, at: number): number {
  let outPos = at;
  forEachStatusField(bytes, from, to, undefined, (no, start, stop) => {
    if (keptStatusField(no)) outPos += bytes.copy(out, outPos, start, stop);
  });
  return outPos;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  let pos = at;
  let rest = value;
  while (rest > 0x7f) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[pos++] = rest;
  return pos;
}

/**
 * Walks a request's top-level fields: refuses one over the limits (RESOURCE_EXHAUSTED naming the limit) or not
 * canonical protobuf (INVALID_ARGUMENT), and returns its bytes without error details and unknown fields (the
 * same buffer when there are none).
 */
export function trimRequest(
  bytes: Buffer,
  layout: RequestLayout,
  limits: ResolvedLimits,
): Buffer | UndecodableRequest {
  try {
    return trim(bytes, layout, limits);
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    const message =
      error.code === Code.InvalidArgument
        ? `${layout.typeName} does not parse: ${error.message}`
        : error.message;
    return new UndecodableRequest(message, error.code, error.limit);
  }
}

function trim(bytes: Buffer, layout: RequestLayout, limits: ResolvedLimits): Buffer {
  const counts = layout.counted.map(() => 0);
  const max = limits.maxNamesPerRequest;
  // What is kept is copied into `out` once something is dropped: never more bytes than the request's, and no
  // object per field.
  let out: Buffer | undefined;
  let outPos = 0;
  let from = 0;
  let pos = 0;
  const length = bytes.length;
  while (pos < length) {
    const at = pos;
    const tag = tagAt(bytes, pos, length);
    const no = tag >>> 3;
    const wire = tag & 7;
    const body = end;
    if (!layout.known.has(no)) {
      pos = skipValue(bytes, wire, body, length, no);
      out ??= Buffer.allocUnsafe(length);
      outPos += bytes.copy(out, outPos, from, at);
      from = pos;
      continue;
    }
    for (let i = 0; i < counts.length; i++) if (layout.counted[i]!.fields.includes(no)) counts[i]!++;
    const field = fieldOf(layout.schema, no)!;
    if (no !== layout.errorDetail) {
      // Strings protobuf-es decodes are checked by protobuf-es: only dropped ones (details) are checked here.
      pos = checkField(bytes, field, wire, body, length, 0, false);
      continue;
    }
    if (wire !== 2) throw new Refused(Code.InvalidArgument, `field ${no} has wire type ${wire}`);
    pos = skipValue(bytes, wire, body, length, no);
    const start = end;
    const status = field.fieldKind === 'message' ? field.message : layout.schema;
    const kept = statusKept(bytes, start, pos, status);
    if (kept < 0) continue;
    out ??= Buffer.allocUnsafe(length);
    outPos += bytes.copy(out, outPos, from, body);
    outPos = writeVarint(out, outPos, kept);
    outPos = copyStatus(bytes, start, pos, out, outPos);
    from = pos;
  }
  // Counted from the wire: no name was decoded.
  for (let i = 0; i < counts.length; i++)
    if (counts[i]! > max)
      throw new Refused(
        Code.ResourceExhausted,
        `${layout.counted[i]!.what} has ${counts[i]} names, more than limits.maxNamesPerRequest (${max})`,
        'maxNamesPerRequest',
      );
  if (out === undefined) return bytes;
  outPos += bytes.copy(out, outPos, from, length);
  return out.subarray(0, outPos);
}
