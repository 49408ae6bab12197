// Mutations, in two layers. On the field tree (structure-aware): duplicate, drop, reorder, unknown fields, wrong
// wire types, over-long tag and length varints (on one field or on every field, as the multi-byte-tag shapes that
// a lazy name scanner must read as protobuf-es does, rule L1), lying lengths. On the encoded bytes: bit flips,
// interesting bytes, inserts, deletes, truncation. And on the gRPC frame: flag byte and length prefix.
import type { Random } from './random.js';
import { encodeFields, grpcFrame, type WireField, type WireType } from './wire.js';

const lengthLies = [0, 1, 127, 128, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];

/** A deep copy of a field tree (mutations change fields in place). */
function clone(fields: readonly WireField[]): WireField[] {
  return fields.map((f) => ({ ...f, value: Array.isArray(f.value) ? clone(f.value) : f.value }));
}

/** Every field of a tree with its parent list, depth first. */
function allFields(fields: WireField[], out: { list: WireField[]; index: number }[] = []) {
  fields.forEach((f, index) => {
    out.push({ list: fields, index });
    if (Array.isArray(f.value)) allFields(f.value, out);
  });
  return out;
}

/** Applies 1–4 structural mutations to a copy of a field tree. */
export function mutateFields(r: Random, original: readonly WireField[]): WireField[] {
  const fields = clone(original);
  for (let n = r.range(1, 4); n > 0; n--) {
    const places = allFields(fields);
    const op = r.weighted({
      duplicate: 3,
      drop: 2,
      swap: 1,
      unknown: 3,
      tagPad: 3,
      lenPad: 2,
      padAll: 3,
      lenLie: 2,
      wireType: 2,
      fieldNumber: 1,
      garbage: 1,
    });
    if (op === 'padAll') {
      // Every field of one message, e.g. every resource_names entry with a 2- to 5-byte tag.
      const list = places.length > 0 ? r.pick(places).list : fields;
      const tagPad = r.range(0, 4);
      const lenPad = r.chance(0.5) ? r.range(1, 4) : 0;
      for (const f of list) {
        f.tagPad = tagPad;
        if (f.wt === 2) f.lenPad = lenPad;
      }
      continue;
    }
    if (op === 'unknown' || places.length === 0) {
      const list = places.length > 0 ? r.pick(places).list : fields;
      const wt = r.pick([0, 1, 2, 5] as WireType[]);
      const field = r.pick([15, 16, 99, 1000, 19_000, 2 ** 29 - 1, r.range(1, 2 ** 29 - 1)]);
      const value =
        wt === 0 ? BigInt(r.u32()) * BigInt(r.u32()) : wt === 2 ? r.bytes(r.size(300)) : BigInt(r.u32());
      list.splice(r.int(list.length + 1), 0, { field, wt, value });
      continue;
    }
    const { list, index } = r.pick(places);
    const f = list[index]!;
    switch (op) {
      case 'duplicate':
        list.splice(index, 0, ...clone(Array.from({ length: r.chance(0.9) ? 1 : r.range(2, 50) }, () => f)));
        break;
      case 'drop':
        list.splice(index, 1);
        break;
      case 'swap': {
        const other = r.int(list.length);
        [list[index], list[other]] = [list[other]!, f];
        break;
      }
      case 'tagPad':
        f.tagPad = r.range(1, 5);
        break;
      case 'lenPad':
        f.lenPad = r.range(1, 6);
        break;
      case 'lenLie': {
        const size = Array.isArray(f.value)
          ? encodeFields(f.value).length
          : Buffer.isBuffer(f.value)
            ? f.value.length
            : 0;
        f.lenOverride = r.chance(0.5) ? Math.max(0, size + r.range(-3, 3)) : r.pick(lengthLies);
        break;
      }
      case 'wireType':
        f.wt = r.pick([0, 1, 2, 3, 4, 5, 6 as WireType, 7 as WireType]);
        break;
      case 'fieldNumber':
        f.field = r.pick([0, 2 ** 29, 2 ** 32 - 1, f.field + 16]);
        break;
      case 'garbage':
        f.value = r.bytes(r.size(100));
        if (f.wt !== 2 && f.wt !== 1 && f.wt !== 5) f.wt = 2;
        break;
    }
  }
  return fields;
}

const interesting = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x1a, 0x22, 0x08];

/** Applies 1–4 byte-level mutations to a copy of the bytes. */
export function mutateBytes(r: Random, original: Buffer): Buffer {
  let bytes = Buffer.from(original);
  for (let n = r.range(1, 4); n > 0; n--) {
    const op = r.weighted({ flip: 4, interesting: 2, insert: 1, delete: 1, truncate: 2, repeat: 1 });
    const at = r.int(bytes.length + 1);
    switch (op) {
      case 'flip':
        if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)]! ^= 1 << r.int(8);
        break;
      case 'interesting':
        if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = r.pick(interesting);
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), r.bytes(r.range(1, 16)), bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + r.range(1, 16))]);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'repeat': {
        const end = Math.min(bytes.length, at + r.range(1, 64));
        const chunk = bytes.subarray(at, end);
        bytes = Buffer.concat([
          bytes.subarray(0, end),
          ...Array.from({ length: r.range(1, 50) }, () => chunk),
          bytes.subarray(end),
        ]);
        break;
      }
    }
  }
  return bytes;
}

/** Encodes a request, mutated or not: mostly structural mutations, some byte-level, some clean. */
export function encodeMutated(r: Random, fields: readonly WireField[]): Buffer {
  const how = r.weighted({ clean: 3, fields: 5, bytes: 2, both: 1 });
  const tree = how === 'fields' || how === 'both' ? mutateFields(r, fields) : fields;
  const bytes = encodeFields(tree);
  return how === 'bytes' || how === 'both' ? mutateBytes(r, bytes) : bytes;
}

/** The gRPC frame of a message: usually well-formed; sometimes a compressed flag, an odd flag or a lying length. */
export function frameMutated(r: Random, message: Buffer): Buffer {
  const how = r.weighted({ ok: 20, compressed: 1, flag: 0.5, short: 1, long: 1, huge: 0.5 });
  switch (how) {
    case 'ok':
      return grpcFrame(message);
    case 'compressed':
      return grpcFrame(message, { flag: 1 });
    case 'flag':
      return grpcFrame(message, { flag: r.pick([2, 0x80, 0xff]) });
    case 'short':
      return grpcFrame(message, { length: Math.max(0, message.length - r.range(1, 8)) });
    case 'long':
      return grpcFrame(message, { length: message.length + r.range(1, 8) });
    case 'huge':
      return grpcFrame(message, { length: r.pick([64 * 1024 * 1024 + 1, 2 ** 31, 2 ** 32 - 1]) });
  }
}
