// The canonical-protobuf walk under the request wire pass (request-wire.ts; rules L1 and L2): varints, tags and
// values read within their bounds, known fields checked against their descriptor's wire type, nesting bounded
// as protobuf-es bounds it. It decodes nothing: it says where each field ends and refuses what protobuf-es
// would read leniently (groups, wrong wire types, a field past its message), so that the pass and protobuf-es
// agree on every field boundary. Given a {@link Shape}, it also holds a subtree (a request's node) to the limits
// on its entries and its Struct nesting as it walks it, so that nothing past them is ever decoded.
import { isUtf8 } from 'node:buffer';
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { Code } from '@xds/api';
import type { Limits } from './limits.js';

/** A request the pass refuses: it ends the stream with `code`, naming `limit` when it went past one. */
export class Refused extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly limit?: keyof Limits,
  ) {
    super(message);
  }
}

/** Messages that nest JSON-like values (`google.protobuf.Struct`, `ListValue`): their levels are what {@link Shape} bounds. */
const jsonLevels: ReadonlySet<string> = new Set(['google.protobuf.Struct', 'google.protobuf.ListValue']);

/**
 * Bounds on a subtree (a request's `node`: rule L2) that the walk checks as it reads it: entries of each repeated
 * field or map, counted across the subtree (a field of a nested message counts all its instances: a node's Struct
 * entries at every level count together), and levels of Struct and ListValue values. One per request: its counts
 * hold across every occurrence of the subtree's field, which protobuf-es merges into one message.
 */
export class Shape {
  readonly #entries = new Map<DescField, number>();
  /** Struct and ListValue levels the walk is in now. */
  #depth = 0;

  constructor(
    /** The subtree's field, for messages (`node`). */
    readonly what: string,
    readonly maxEntries: number,
    readonly entriesLimit: keyof Limits,
    readonly maxDepth: number,
    readonly depthLimit: keyof Limits,
  ) {}

  /** Counts `count` entries of a repeated field or map; refuses past `maxEntries` (RESOURCE_EXHAUSTED). */
  entries(field: DescField, count: number): void {
    const total = (this.#entries.get(field) ?? 0) + count;
    if (total > this.maxEntries) {
      const name = `${field.parent.typeName}.${field.name}`;
      throw new Refused(
        Code.ResourceExhausted,
        `${this.what} has more than limits.${this.entriesLimit} (${this.maxEntries}) entries of ${name}`,
        this.entriesLimit,
      );
    }
    this.#entries.set(field, total);
  }

  /** Enters a message; true when it is a Struct or ListValue level (then {@link leave} it). */
  enter(desc: DescMessage): boolean {
    if (!jsonLevels.has(desc.typeName)) return false;
    if (++this.#depth > this.maxDepth)
      throw new Refused(
        Code.InvalidArgument,
        `${this.what} nests Struct and ListValue values deeper than limits.${this.depthLimit} (${this.maxDepth})`,
        this.depthLimit,
      );
    return true;
  }

  /** Leaves a Struct or ListValue level. */
  leave(): void {
    this.#depth--;
  }
}

/** Where the last {@link varint} stopped (a module variable: no tuple per field). */
export let end = 0;

/** What an error calls a varint: `what`, and its field number when there is one. */
function named(what: string, field: number): string {
  return field === 0 ? what : `${what} ${field}`;
}

/**
 * A varint of at most `maxBytes` bytes at `at` within `limit`; its value when it fits in 32 bits, else -2 (a
 * longer value, skipped); throws when it is cut or longer. An error names it `what`, followed by `field` when one
 * is given (so that reading a varint builds no string: this runs for every field of every request).
 */
export function varint(
  bytes: Uint8Array,
  at: number,
  limit: number,
  maxBytes: number,
  what: string,
  field = 0,
): number {
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
        limit < bytes.length
          ? `${named(what, field)} runs past the end of its message`
          : `${named(what, field)} is cut short`,
      );
    const byte = bytes[pos++]!;
    if (i < 5) value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) {
      end = pos;
      return value < 2 ** 32 ? value : -2;
    }
  }
  throw new Refused(Code.InvalidArgument, `${named(what, field)} is a varint of more than ${maxBytes} bytes`);
}

/** Reads a tag at `at` (within `limit`): returns it, `end` after it. */
export function tagAt(bytes: Uint8Array, at: number, limit: number): number {
  const tag = varint(bytes, at, limit, 5, 'a tag');
  if (tag < 0) throw new Refused(Code.InvalidArgument, 'a tag is more than 32 bits');
  if (tag < 8) throw new Refused(Code.InvalidArgument, 'a tag has field number 0');
  const wire = tag & 7;
  if (wire === 3 || wire === 4) throw new Refused(Code.InvalidArgument, 'groups are not accepted');
  if (wire > 5) throw new Refused(Code.InvalidArgument, `a tag has wire type ${wire}`);
  return tag;
}

/** Skips the value of a field of wire type `wire` at `at`; returns where it ends. */
export function skipValue(bytes: Uint8Array, wire: number, at: number, limit: number, field: number): number {
  let after: number;
  if (wire === 0) {
    varint(bytes, at, limit, 10, 'field', field);
    return end;
  }
  if (wire === 1) after = at + 8;
  else if (wire === 5) after = at + 4;
  else {
    const length = varint(bytes, at, limit, 5, 'the length of field', field);
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

export function fieldOf(desc: DescMessage, no: number): DescField | undefined {
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
  shape: Shape | undefined,
): number {
  const after = skipValue(bytes, wire, at, limit, no);
  if (message !== undefined) checkMessage(bytes, end, after, message, depth + 1, utf8, shape);
  else if (utf8 && scalar === ScalarType.STRING && !isUtf8(bytes.subarray(end, after)))
    throw new Refused(Code.InvalidArgument, `field ${no} is not UTF-8`);
  return after;
}

/**
 * Checks that the fields of a message of `desc` in `from`..`to` are canonical protobuf that ends at `to`, and
 * within `shape` when one is given.
 */
export function checkMessage(
  bytes: Uint8Array,
  from: number,
  to: number,
  desc: DescMessage,
  depth: number,
  utf8: boolean,
  shape?: Shape,
): void {
  if (depth > maxDepth)
    throw new Refused(Code.InvalidArgument, `messages are nested deeper than ${maxDepth}`);
  const level = shape?.enter(desc) === true;
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
    pos = checkField(bytes, field, wire, at, to, depth, utf8, shape);
  }
  if (level) shape!.leave();
}

function wrongWire(no: number, wire: number): never {
  throw new Refused(Code.InvalidArgument, `field ${no} has wire type ${wire}`);
}

/**
 * Checks one field whose tag was read (its value at `at`) as {@link checkMessage} does; returns where it ends. With
 * `shape`, an entry of a repeated field or map counts toward its bounds.
 */
export function checkField(
  bytes: Uint8Array,
  field: DescField,
  wire: number,
  at: number,
  to: number,
  depth: number,
  utf8: boolean,
  shape?: Shape,
): number {
  const no = field.number;
  switch (field.fieldKind) {
    case 'message':
      if (wire !== 2) wrongWire(no, wire);
      return checkValue(bytes, wire, at, to, no, undefined, field.message, depth, utf8, shape);
    case 'scalar':
      if (wire !== scalarWire(field.scalar)) wrongWire(no, wire);
      return checkValue(bytes, wire, at, to, no, field.scalar, undefined, depth, utf8, shape);
    case 'enum':
      if (wire !== 0) wrongWire(no, wire);
      return checkValue(bytes, wire, at, to, no, undefined, undefined, depth, utf8, shape);
    case 'map': {
      if (wire !== 2) wrongWire(no, wire);
      shape?.entries(field, 1);
      const after = skipValue(bytes, wire, at, to, no);
      checkMapEntry(bytes, end, after, field, depth + 1, utf8, shape);
      return after;
    }
    default: {
      if (field.listKind === 'message') {
        if (wire !== 2) wrongWire(no, wire);
        shape?.entries(field, 1);
        return checkValue(bytes, wire, at, to, no, undefined, field.message, depth, utf8, shape);
      }
      const scalar = field.listKind === 'enum' ? ScalarType.INT32 : field.scalar;
      const own = scalarWire(scalar);
      if (wire === own) {
        shape?.entries(field, 1);
        return checkValue(bytes, wire, at, to, no, scalar, undefined, depth, utf8, shape);
      }
      if (wire !== 2) wrongWire(no, wire);
      // Packed: elements that end exactly at the end of the field.
      const after = skipValue(bytes, wire, at, to, no);
      let pos = end;
      let count = 0;
      for (; pos < after; count++) pos = skipValue(bytes, own, pos, after, no);
      shape?.entries(field, count);
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
  shape: Shape | undefined,
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
    pos = checkValue(bytes, wire, at, to, no, scalar, message, depth, utf8, shape);
  }
}
