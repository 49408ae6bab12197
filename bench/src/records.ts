/**
 * The snapshot body both peers accept on `POST /snapshot`: a sequence of records, each a 4-byte big-endian
 * length followed by that many bytes of an encoded `google.protobuf.Any`.
 */

/** Concatenates encoded Any messages into one records body. */
export function encodeRecords(records: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const record of records) size += 4 + record.length;
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const record of records) {
    out.writeUInt32BE(record.length, offset);
    out.set(record, offset + 4);
    offset += 4 + record.length;
  }
  return out;
}

/** Splits a records body into its Any messages (views into `body`); throws an Error on a truncated body. */
export function decodeRecords(body: Uint8Array): Uint8Array[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (body.length - offset < 4)
      throw new Error(`record ${out.length}: truncated length prefix at byte ${offset}`);
    const size = view.getUint32(offset);
    offset += 4;
    if (size > body.length - offset)
      throw new Error(`record ${out.length}: length ${size} exceeds the ${body.length - offset} bytes left`);
    out.push(body.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}

/**
 * Reads an encoded `google.protobuf.Any { type_url = 1, value = 2 }` as a decoder does (the last occurrence of a
 * field wins; unknown fields are skipped); `value` is a view into `record`. Throws an Error on malformed bytes.
 */
export function readAny(record: Uint8Array, index: number): { typeUrl: string; value: Uint8Array } {
  let typeUrl = '';
  let value = record.subarray(0, 0);
  let at = 0;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= record.length) throw new Error(`record ${index}: truncated varint`);
      const byte = record[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
    throw new Error(`record ${index}: varint too long`);
  };
  while (at < record.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === 2) {
      const length = varint();
      if (length > record.length - at) throw new Error(`record ${index}: field ${field} runs past the end`);
      const bytes = record.subarray(at, at + length);
      at += length;
      if (field === 1) typeUrl = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
      else if (field === 2) value = bytes;
    } else if (field === 1 || field === 2)
      throw new Error(`record ${index}: field ${field} has wire type ${wireType}`);
    else if (wireType === 0) varint();
    else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else throw new Error(`record ${index}: wire type ${wireType}`);
    if (at > record.length) throw new Error(`record ${index}: truncated`);
  }
  return { typeUrl, value };
}
