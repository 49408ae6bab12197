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
