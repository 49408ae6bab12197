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
import { isUtf8 } from 'node:buffer';
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { Code } from '@xds/api';
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

/** A request the pass refuses: it ends the stream with `code`. */
class Refused extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly limit?: 'maxNamesPerRequest',
  ) {
    super(message);
  }
}

/** Where the last {@link varint} stopped (a module variable: no tuple per field). */
let end = 0;

/**
 * A varint of at most `maxBytes` bytes at `at` within `limit`; its value when it fits in 32 bits, else -2 (a
 * longer value, skipped); throws when it is cut or longer.
 */
function varint(bytes: Uint8Array, at: number, limit: number, maxBytes: number, what: string): number {
  if (at < limit && bytes[at]! < 0x80) {
    end = at + 1;
    return bytes[at]!;
  }
  let value = 0;
  let pos = at;
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= limit)
      throw new Refused(
        Code.InvalidArgument,
        limit < bytes.length ? `${what} runs past the end of its message` : `${what} is cut short`,
      );
    const byte = bytes[pos++]!;
    if (i < 5) value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) {
      end = pos;
      return value < 2 ** 32 ? value : -2;
    }
  }
  throw new Refused(Code.InvalidArgument, `${what} is a varint of more than ${maxBytes} bytes`);
}

/** Reads a tag at `at` (within `limit`): returns it, `end` after it. */
function tagAt(bytes: Uint8Array, at: number, limit: number): number {
  const tag = varint(bytes, at, limit, 5, 'a tag');
  if (tag < 0) throw new Refused(Code.InvalidArgument, 'a tag is more than 32 bits');
  if (tag < 8) throw new Refused(Code.InvalidArgument, 'a tag has field number 0');
  const wire = tag & 7;
  if (wire === 3 || wire === 4) throw new Refused(Code.InvalidArgument, 'groups are not accepted');
  if (wire > 5) throw new Refused(Code.InvalidArgument, `a tag has wire type ${wire}`);
  return tag;
}

/** Skips the value of a field of wire type `wire` at `at`; returns where it ends. */
function skipValue(bytes: Uint8Array, wire: number, at: number, limit: number, field: number): number {
  let after: number;
  if (wire === 0) {
    varint(bytes, at, limit, 10, `field ${field}`);
    return end;
  }
  if (wire === 1) after = at + 8;
  else if (wire === 5) after = at + 4;
  else {
    const length = varint(bytes, at, limit, 5, `the length of field ${field}`);
    if (length < 0)
      throw new Refused(Code.InvalidArgument, `field ${field} has a length of more than 32 bits`);
    after = end + length;
  }
  if (after > limit)
    throw new Refused(Code.InvalidArgument, `field ${field} runs past the end of its message`);
  return after;
}

/** The wire type protobuf-es reads a scalar of this type as. */
function scalarWire(type: ScalarType): number {
  switch (type) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 1;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return 5;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return 2;
    default:
      return 0;
  }
}

const fieldsByNumber = new WeakMap<DescMessage, ReadonlyMap<number, DescField>>();

function fieldOf(desc: DescMessage, no: number): DescField | undefined {
  let fields = fieldsByNumber.get(desc);
  if (fields === undefined) {
    fields = new Map(desc.fields.map((f) => [f.number, f]));
    fieldsByNumber.set(desc, fields);
  }
  return fields.get(no);
}

/** protobuf-es's bound on nesting (its default `recursionLimit`). */
const maxDepth = 100;

/**
 * Checks that a value of `type` (a scalar, `message` for a message) at `at` is canonical and ends within `limit`,
 * and with `utf8` that a string is UTF-8 as protobuf-es requires (for what is dropped, which it never sees)
 * (protobuf-es does not hold a nested message's fields to its length: a field that runs on past it is read into
 * the fields after it, which this pass would read otherwise). Returns where it ends.
 */
function checkValue(
  bytes: Uint8Array,
  wire: number,
  at: number,
  limit: number,
  no: number,
  scalar: ScalarType | undefined,
  message: DescMessage | undefined,
  depth: number,
  utf8: boolean,
): number {
  const after = skipValue(bytes, wire, at, limit, no);
  if (message !== undefined) checkMessage(bytes, end, after, message, depth + 1, utf8);
  else if (utf8 && scalar === ScalarType.STRING && !isUtf8(bytes.subarray(end, after)))
    throw new Refused(Code.InvalidArgument, `field ${no} is not UTF-8`);
  return after;
}

/** Checks that the fields of a message of `desc` in `from`..`to` are canonical protobuf that ends at `to`. */
function checkMessage(
  bytes: Uint8Array,
  from: number,
  to: number,
  desc: DescMessage,
  depth: number,
  utf8: boolean,
): void {
  if (depth > maxDepth)
    throw new Refused(Code.InvalidArgument, `messages are nested deeper than ${maxDepth}`);
  let pos = from;
  while (pos < to) {
    const tag = tagAt(bytes, pos, to);
    const no = tag >>> 3;
    const wire = tag & 7;
    const at = end;
    const field = fieldOf(desc, no);
    if (field === undefined) {
      pos = skipValue(bytes, wire, at, to, no);
      continue;
    }
    pos = checkField(bytes, field, wire, at, to, depth, utf8);
  }
}

function wrongWire(no: number, wire: number): never {
  throw new Refused(Code.InvalidArgument, `field ${no} has wire type ${wire}`);
}

function checkField(
  bytes: Uint8Array,
  field: DescField,
  wire: number,
  at: number,
  to: number,
  depth: number,
  utf8: boolean,
): number {
  const no = field.number;
  switch (field.fieldKind) {
    case 'message':
      if (wire !== 2) wrongWire(no, wire);
      return checkValue(bytes, wire, at, to, no, undefined, field.message, depth, utf8);
    case 'scalar':
      if (wire !== scalarWire(field.scalar)) wrongWire(no, wire);
      return checkValue(bytes, wire, at, to, no, field.scalar, undefined, depth, utf8);
    case 'enum':
      if (wire !== 0) wrongWire(no, wire);
      return checkValue(bytes, wire, at, to, no, undefined, undefined, depth, utf8);
    case 'map': {
      if (wire !== 2) wrongWire(no, wire);
      const after = skipValue(bytes, wire, at, to, no);
      checkMapEntry(bytes, end, after, field, depth + 1, utf8);
      return after;
    }
    default: {
      if (field.listKind === 'message') {
        if (wire !== 2) wrongWire(no, wire);
        return checkValue(bytes, wire, at, to, no, undefined, field.message, depth, utf8);
      }
      const scalar = field.listKind === 'enum' ? ScalarType.INT32 : field.scalar;
      const own = scalarWire(scalar);
      if (wire === own) return checkValue(bytes, wire, at, to, no, scalar, undefined, depth, utf8);
      if (wire !== 2) wrongWire(no, wire);
      // Packed: elements that end exactly at the end of the field.
      const after = skipValue(bytes, wire, at, to, no);
      let pos = end;
      while (pos < after) pos = skipValue(bytes, own, pos, after, no);
      return after;
    }
  }
}

/** A map entry: key (1) and value (2), each of its map's type. */
function checkMapEntry(
  bytes: Uint8Array,
  from: number,
  to: number,
  field: DescField,
  depth: number,
  utf8: boolean,
): void {
  if (field.fieldKind !== 'map') return;
  if (depth > maxDepth)
    throw new Refused(Code.InvalidArgument, `messages are nested deeper than ${maxDepth}`);
  let pos = from;
  while (pos < to) {
    const tag = tagAt(bytes, pos, to);
    const no = tag >>> 3;
    const wire = tag & 7;
    const at = end;
    let scalar: ScalarType | undefined;
    let message: DescMessage | undefined;
    if (no === 1) scalar = field.mapKey;
    else if (no === 2) {
      if (field.mapKind === 'message') message = field.message;
      else scalar = field.mapKind === 'enum' ? ScalarType.INT32 : field.scalar;
    } else {
      pos = skipValue(bytes, wire, at, to, no);
      continue;
    }
    const own = message === undefined ? scalarWire(scalar!) : 2;
    if (wire !== own) throw new Refused(Code.InvalidArgument, `field ${no} has wire type ${wire}`);
    pos = checkValue(bytes, wire, at, to, no, scalar, message, depth, utf8);
  }
}

/**
 * Checks the body of a `google.rpc.Status { code = 1, message = 2, details = 3 }` and returns how many of its
 * bytes are kept without its details and unknown fields, or -1 when every byte is kept.
 */
function statusKept(bytes: Uint8Array, from: number, to: number, status: DescMessage): number {
  let kept = 0;
  let dropped = false;
  let pos = from;
  while (pos < to) {
    const at = pos;
    if (bytes[pos] === 0x1a && bytes[pos + 1] === 0) {
      // An empty detail (tag and length of one byte each, zero length): nothing to check.
      pos += 2;
      dropped = true;
      continue;
    }
    const tag = tagAt(bytes, pos, to);
    const no = tag >>> 3;
    const field = fieldOf(status, no);
    // The details are checked (as protobuf-es would read them) but not decoded, and dropped.
    pos =
      field === undefined
        ? skipValue(bytes, tag & 7, end, to, no)
        : checkField(bytes, field, tag & 7, end, to, 1, true);
    if (no === 1 || no === 2) kept += pos - at;
    else dropped = true;
  }
  return dropped ? kept : -1;
}

/** Copies the `code` and `message` fields of a Status body that {@link statusKept} checked; returns the end. */
function copyStatus(bytes: Buffer, from: number, to: number, out: Buffer, at: number): number {
  let outPos = at;
  let pos = from;
  while (pos < to) {
    const start = pos;
    if (bytes[pos] === 0x1a && bytes[pos + 1] === 0) {
      pos += 2;
      continue;
    }
    const tag = tagAt(bytes, pos, to);
    pos = skipValue(bytes, tag & 7, end, to, tag >>> 3);
    const no = tag >>> 3;
    if (no === 1 || no === 2) outPos += bytes.copy(out, outPos, start, pos);
  }
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
