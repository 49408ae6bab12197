// Reads the name of a resource of a type with a schema (rule R1) straight from its encoded bytes, for resources
// given as bytes without a name: no message and no string but the name is built.
//
// Rule L1: protobuf-es refuses bytes for reasons anywhere in a message (a bad tag three levels down, a string that
// is not UTF-8), and reads some broken bytes its own way (a known scalar by its declared type whatever the wire
// type; a nested field past its parent's length). So this reader walks the whole message by its schema, checking
// what protobuf-es checks, and answers only when every field is well formed: protobuf-es then reads the same name.
// On anything else (a wire type the schema does not declare, a group, a varint longer than an encoder writes, a
// field past its parent's end, invalid UTF-8, deep nesting) it declines and the caller decodes with protobuf-es,
// which reads the name or names the problem. `wire-name.test.ts` holds it to protobuf-es on random and mutated
// messages.
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';

/** Wire types (the protobuf encoding). */
const varintWire = 0;
const fixed64Wire = 1;
const lengthWire = 2;
const fixed32Wire = 5;

/** protobuf-es's default bound on message nesting (`recursionLimit`); the top-level message is depth 1. */
const recursionLimit = 100;

/** How one value is checked once its wire type matched. */
interface ValuePlan {
  /** The wire type protobuf-es's reader for the value expects. */
  readonly wire: number;
  /** For a string: whether protobuf-es rejects invalid UTF-8 (proto3); undefined for other values. */
  readonly utf8?: boolean;
  /** For a message value: its plan, read when first needed (schemas are recursive). */
  readonly message?: DescMessage;
}

/** How a field is checked. */
interface FieldPlan extends ValuePlan {
  /** A repeated scalar that may also come packed (length-delimited). */
  readonly packed: boolean;
  /** For a map: its key and value. */
  readonly map?: { readonly key: ValuePlan; readonly value: ValuePlan };
  /** A field protobuf-es reads in a way this reader does not follow (delimited messages): always declines. */
  readonly decline: boolean;
}

type MessagePlan = ReadonlyMap<number, FieldPlan>;

const plans = new WeakMap<DescMessage, MessagePlan>();

function scalarPlan(scalar: ScalarType, utf8: boolean): ValuePlan {
  switch (scalar) {
    case ScalarType.STRING:
      return { wire: lengthWire, utf8 };
    case ScalarType.BYTES:
      return { wire: lengthWire };
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return { wire: fixed64Wire };
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return { wire: fixed32Wire };
    default:
      return { wire: varintWire };
  }
}

function fieldPlan(field: DescField): FieldPlan {
  const plain = { packed: false, decline: false };
  switch (field.fieldKind) {
    case 'scalar':
      return { ...scalarPlan(field.scalar, field.utf8Validation), ...plain };
    case 'enum':
      return { wire: varintWire, ...plain };
    case 'message':
      return { wire: lengthWire, message: field.message, packed: false, decline: field.delimitedEncoding };
    case 'list':
      if (field.listKind === 'message')
        return { wire: lengthWire, message: field.message, packed: false, decline: field.delimitedEncoding };
      if (field.listKind === 'enum') return { wire: varintWire, packed: true, decline: false };
      return {
        ...scalarPlan(field.scalar, field.utf8Validation),
        packed: field.scalar !== ScalarType.STRING && field.scalar !== ScalarType.BYTES,
        decline: false,
      };
    case 'map': {
      const value: ValuePlan =
        field.mapKind === 'message'
          ? { wire: lengthWire, message: field.message }
          : field.mapKind === 'enum'
            ? { wire: varintWire }
            : scalarPlan(field.scalar, field.utf8Validation);
      return {
        wire: lengthWire,
        map: { key: scalarPlan(field.mapKey, field.utf8Validation), value },
        ...plain,
      };
    }
  }
}

function planOf(schema: DescMessage): MessagePlan {
  let plan = plans.get(schema);
  if (plan === undefined) {
    plan = new Map(schema.fields.map((field) => [field.number, fieldPlan(field)]));
    plans.set(schema, plan);
  }
  return plan;
}

/** Where the last successful read of a varint or a tag ended (a module variable: no tuple per read). */
let readEnd = 0;

/**
 * A tag or length at `at` before `end`: at most five bytes and a value below 2^32, which protobuf-es reads exactly
 * (it refuses longer tags and reads longer lengths modulo 2^32: those are declined); -1 otherwise.
 */
function readUint32(bytes: Uint8Array, at: number, end: number): number {
  let value = 0;
  let pos = at;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) return -1;
    const byte = bytes[pos++]!;
    if (shift === 28 && byte > 0x0f) return -1;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      readEnd = pos;
      return value;
    }
  }
  return -1;
}

/** Skips a varint value of at most ten bytes (what protobuf-es's readers take) before `end`; false otherwise. */
function skipVarint(bytes: Uint8Array, at: number, end: number): boolean {
  for (let pos = at; pos < end && pos < at + 10; pos++) {
    if (bytes[pos]! < 0x80) {
      readEnd = pos + 1;
      return true;
    }
  }
  return false;
}

/** protobuf-es's strict UTF-8 decoding (fatal, a leading U+FEFF kept), for strings that are not ASCII. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** protobuf-es's lenient decoding, for proto2 strings. */
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** True when `bytes[start, end)` is text protobuf-es reads (ASCII, or UTF-8 its strict decoder takes). */
function isText(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (bytes[i]! > 0x7f) {
      try {
        strictUtf8.decode(bytes.subarray(start, end));
        return true;
      } catch {
        return false;
      }
    }
  }
  return true;
}

/**
 * Checks one value whose tag said `wire`, at `at` before `end`; returns where it ends, or -1 to decline.
 * `depth` is the depth of the message holding the value.
 */
function value(bytes: Uint8Array, plan: ValuePlan, at: number, end: number, depth: number): number {
  switch (plan.wire) {
    case varintWire:
      return skipVarint(bytes, at, end) ? readEnd : -1;
    case fixed64Wire:
      return at + 8 <= end ? at + 8 : -1;
    case fixed32Wire:
      return at + 4 <= end ? at + 4 : -1;
  }
  const length = readUint32(bytes, at, end);
  if (length < 0 || readEnd + length > end) return -1;
  const body = readEnd;
  const after = body + length;
  if (plan.message !== undefined)
    return walk(bytes, planOf(plan.message), body, after, depth + 1) ? after : -1;
  if (plan.utf8 === true && !isText(bytes, body, after)) return -1;
  return after;
}

/** Skips a field the schema does not have (protobuf-es keeps it as unknown); -1 for a group, to decline. */
function unknown(bytes: Uint8Array, wire: number, at: number, end: number): number {
  switch (wire) {
    case varintWire:
      return skipVarint(bytes, at, end) ? readEnd : -1;
    case fixed64Wire:
      return at + 8 <= end ? at + 8 : -1;
    case fixed32Wire:
      return at + 4 <= end ? at + 4 : -1;
    case lengthWire: {
      const length = readUint32(bytes, at, end);
      return length < 0 || readEnd + length > end ? -1 : readEnd + length;
    }
    default:
      return -1;
  }
}

/** Checks a packed run of scalars: the last one must end exactly at the run's end. */
function packed(bytes: Uint8Array, plan: ValuePlan, at: number, end: number): number {
  const length = readUint32(bytes, at, end);
  if (length < 0 || readEnd + length > end) return -1;
  const runEnd = readEnd + length;
  let pos = readEnd;
  while (pos < runEnd) {
    pos = value(bytes, plan, pos, runEnd, 0);
    if (pos < 0) return -1;
  }
  return runEnd;
}

/** Checks a map entry: key in field 1, value in field 2, others skipped as protobuf-es skips them. */
function mapEntry(
  bytes: Uint8Array,
  map: NonNullable<FieldPlan['map']>,
  at: number,
  end: number,
  depth: number,
): number {
  const length = readUint32(bytes, at, end);
  if (length < 0 || readEnd + length > end) return -1;
  const entryEnd = readEnd + length;
  let pos = readEnd;
  while (pos < entryEnd) {
    const tag = readUint32(bytes, pos, entryEnd);
    if (tag < 8) return -1;
    const no = tag >>> 3;
    const wire = tag & 7;
    const plan = no === 1 ? map.key : no === 2 ? map.value : undefined;
    if (plan === undefined) pos = unknown(bytes, wire, readEnd, entryEnd);
    else if (wire !== plan.wire) return -1;
    // A message value is read at the map's depth + 1, as protobuf-es reads it.
    else pos = value(bytes, plan, readEnd, entryEnd, depth);
    if (pos < 0) return -1;
  }
  return entryEnd;
}

/** Checks one field (its tag already read, its body at `at`); returns where it ends, or -1 to decline. */
function field(
  bytes: Uint8Array,
  plan: FieldPlan,
  wire: number,
  at: number,
  end: number,
  depth: number,
): number {
  if (plan.decline) return -1;
  if (plan.map !== undefined) return wire === lengthWire ? mapEntry(bytes, plan.map, at, end, depth) : -1;
  if (wire === plan.wire) return value(bytes, plan, at, end, depth);
  if (plan.packed && wire === lengthWire) return packed(bytes, plan, at, end);
  return -1;
}

/** Checks the message in `bytes[at, end)` at `depth`; true when protobuf-es reads it without complaint. */
function walk(bytes: Uint8Array, plan: MessagePlan, at: number, end: number, depth: number): boolean {
  if (depth > recursionLimit) return false;
  let pos = at;
  while (pos < end) {
    const tag = readUint32(bytes, pos, end);
    // Field number 0 (tags below 8) and wire types 6 and 7 are illegal; 3 and 4 (groups) are declined below.
    if (tag < 8 || (tag & 7) > 5) return false;
    const known = plan.get(tag >>> 3);
    pos =
      known === undefined
        ? unknown(bytes, tag & 7, readEnd, end)
        : field(bytes, known, tag & 7, readEnd, end, depth);
    if (pos < 0) return false;
  }
  return true;
}

/** Reads one top-level string field of encoded messages of one schema; undefined when it declines. */
export type WireStringReader = (bytes: Uint8Array) => string | undefined;

/**
 * A reader of the top-level string field `fieldNumber` of encoded messages of `schema` (the last occurrence; `''`
 * when absent), as protobuf-es's `fromBinary` reads it; the reader returns undefined when it declines (see the
 * file's comment): the caller then decodes with protobuf-es. It never returns a value protobuf-es would not read.
 * Throws a TypeError when the schema has no such singular string field.
 */
export function wireStringReader(schema: DescMessage, fieldNumber: number): WireStringReader {
  const desc = schema.fields.find((f) => f.number === fieldNumber);
  // A member of a oneof is cleared by a later member: the last occurrence alone would not tell.
  if (desc?.fieldKind !== 'scalar' || desc.scalar !== ScalarType.STRING || desc.oneof !== undefined)
    throw new TypeError(`${schema.typeName} has no singular string field ${fieldNumber} outside a oneof`);
  const plan = planOf(schema);
  const decoder = desc.utf8Validation ? strictUtf8 : lenientUtf8;
  return (bytes) => {
    let start = -1;
    let stop = -1;
    let pos = 0;
    const end = bytes.length;
    while (pos < end) {
      const tag = readUint32(bytes, pos, end);
      if (tag < 8 || (tag & 7) > 5) return undefined;
      const no = tag >>> 3;
      const body = readEnd;
      const known = plan.get(no);
      pos =
        known === undefined ? unknown(bytes, tag & 7, body, end) : field(bytes, known, tag & 7, body, end, 1);
      if (pos < 0) return undefined;
      if (no === fieldNumber) {
        // Where the string starts: after its length (read again: checking the field moved readEnd on).
        readUint32(bytes, body, end);
        start = readEnd;
        stop = pos;
      }
    }
    return start < 0 ? '' : decoder.decode(bytes.subarray(start, stop));
  };
}
