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

/** A reader of protobuf wire format over one buffer: just what readAny and readName need. */
class WireReader {
  at = 0;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  varint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.at >= this.bytes.length) throw new Error('truncated varint');
      const byte = this.bytes[this.at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
    throw new Error('varint too long');
  }

  /** Skips a field's value; for a length-delimited one, returns its start (the reader is then past its end). */
  skip(tag: number): number {
    const wireType = tag & 7;
    let start = -1;
    if (wireType === 2) {
      const length = this.varint();
      if (length > this.bytes.length - this.at) throw new Error(`field ${tag >>> 3} runs past the end`);
      start = this.at;
      this.at += length;
    } else if (wireType === 0) this.varint();
    else if (wireType === 1) this.at += 8;
    else if (wireType === 5) this.at += 4;
    else throw new Error(`field ${tag >>> 3}: wire type ${wireType}`);
    if (this.at > this.bytes.length) throw new Error('truncated');
    return start;
  }

  /** The length-delimited field whose value starts at `start` (the reader is past its end) as UTF-8 text. */
  text(start: number): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, this.at - start).toString('utf8');
  }
}

/**
 * Reads an encoded `google.protobuf.Any { type_url = 1, value = 2 }` as a decoder does (the last occurrence of a
 * field wins; unknown fields are skipped); `value` is a view into `record`. Throws an Error on malformed bytes.
 */
export function readAny(record: Uint8Array, index: number): { typeUrl: string; value: Uint8Array } {
  let typeUrl = '';
  let value = record.subarray(0, 0);
  const reader = new WireReader(record);
  try {
    while (reader.at < record.length) {
      const tag = reader.varint();
      const start = reader.skip(tag);
      if (tag === 0x0a) typeUrl = reader.text(start);
      else if (tag === 0x12) value = record.subarray(start, reader.at);
      else if (tag >>> 3 === 1 || tag >>> 3 === 2)
        throw new Error(`field ${tag >>> 3} is not length-delimited`);
    }
  } catch (error) {
    throw new Error(`record ${index}: ${(error as Error).message}`);
  }
  return { typeUrl, value };
}

/**
 * The top-level string field 1 of an encoded resource (its name by rule R1 for every type the bench sends), read
 * as a decoder does: the last occurrence wins, absent is ''. Throws an Error on malformed bytes.
 */
export function readName(bytes: Uint8Array): string {
  let name = '';
  const reader = new WireReader(bytes);
  while (reader.at < bytes.length) {
    const tag = reader.varint();
    const start = reader.skip(tag);
    if (tag === 0x0a) name = reader.text(start);
    else if (tag >>> 3 === 1) throw new Error('field 1 is not length-delimited');
  }
  return name;
}

/** The type URLs met so far, so that a record's type URL is not decoded again. */
const typeUrls: { bytes: Buffer; text: string }[] = [];

/**
 * True when `body[start, end)` holds exactly `bytes`. A loop: `Buffer.compare` with offsets validates each of its
 * four offsets through Node's error helpers, which cost more than comparing a few hundred bytes (it was a quarter
 * of the snapshot POST of 4,000 records).
 */
export function sameBytesAt(body: Uint8Array, start: number, end: number, bytes: Uint8Array): boolean {
  if (end - start !== bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (body[start + i] !== bytes[i]) return false;
  return true;
}

function typeUrlAt(body: Buffer, start: number, end: number): string {
  for (const known of typeUrls) if (sameBytesAt(body, start, end, known.bytes)) return known.text;
  const text = body.toString('utf8', start, end);
  if (typeUrls.length < 64) typeUrls.push({ bytes: Buffer.from(body.subarray(start, end)), text });
  return text;
}

/**
 * Calls `visit` with the type URL and the range of the `value` (the encoded resource) of each record of a records
 * body, in order, without copying; reads each Any as a decoder does (see {@link readAny}). Throws an Error naming
 * the record on a malformed body.
 */
export function forEachRecord(
  body: Buffer,
  visit: (index: number, typeUrl: string, start: number, end: number) => void,
): void {
  const reader = new WireReader(body);
  let index = 0;
  while (reader.at < body.length) {
    try {
      if (body.length - reader.at < 4) throw new Error(`truncated length prefix at byte ${reader.at}`);
      const size = body.readUInt32BE(reader.at);
      reader.at += 4;
      const end = reader.at + size;
      if (end > body.length)
        throw new Error(`length ${size} exceeds the ${body.length - reader.at} bytes left`);
      let typeUrl = '';
      let valueStart = end;
      let valueEnd = end;
      while (reader.at < end) {
        const tag = reader.varint();
        const start = reader.skip(tag);
        if (reader.at > end) throw new Error(`field ${tag >>> 3} runs past the record`);
        if (tag === 0x0a) typeUrl = typeUrlAt(body, start, reader.at);
        else if (tag === 0x12) {
          valueStart = start;
          valueEnd = reader.at;
        } else if (tag >>> 3 === 1 || tag >>> 3 === 2)
          throw new Error(`field ${tag >>> 3} is not length-delimited`);
      }
      visit(index, typeUrl, valueStart, valueEnd);
    } catch (error) {
      throw new Error(`record ${index}: ${(error as Error).message}`);
    }
    index++;
  }
}
