// A protobuf writer that can lie. The fuzzer builds requests as trees of fields (see messages.ts) and encodes them
// here, where a field may carry an over-long tag or length varint, a wrong wire type or a length that does not
// match its bytes: the shapes a hand-written reader of request bytes must survive (rule L1).

/** A protobuf wire type. */
export type WireType = 0 | 1 | 2 | 3 | 4 | 5;

/** One field as it goes on the wire, with the ways it may be malformed. */
export interface WireField {
  /** The field number (1 … 2^29 - 1; 0 and larger values are malformed on purpose). */
  field: number;
  /** The wire type written in the tag. */
  wt: WireType;
  /** A varint (wt 0), raw bytes (wt 1, 2, 5, or anything when `raw`), or nested fields (a message, wt 2). */
  value: bigint | Buffer | WireField[];
  /** Extra continuation bytes in the tag varint (an over-long but valid encoding). */
  tagPad?: number;
  /** Extra continuation bytes in the length varint of a wt 2 field. */
  lenPad?: number;
  /** A length written instead of the true one (a lie). */
  lenOverride?: number;
  /** `value` is already-encoded fields, written as they are (no tag of its own): a bulk run of fields. */
  raw?: boolean;
}

/** Appends a varint, `pad` bytes longer than needed (protobuf decoders accept up to 10 bytes). */
export function varint(out: number[], value: bigint | number, pad = 0): void {
  if (typeof value === 'number' && pad === 0 && value >= 0 && value <= 0xffffffff) {
    let rest = value;
    while (rest > 0x7f) {
      out.push((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    out.push(rest);
    return;
  }
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    bytes.push(Number(rest & 0x7fn));
    rest >>= 7n;
  } while (rest > 0n);
  for (let i = 0; i < pad; i++) bytes.push(0);
  for (let i = 0; i < bytes.length; i++) out.push(i < bytes.length - 1 ? bytes[i]! | 0x80 : bytes[i]!);
}

/** Encodes fields, with their defects, to bytes (in linear time: small headers, bodies copied once). */
export function encodeFields(fields: readonly WireField[]): Buffer {
  const parts: Buffer[] = [];
  writeFields(parts, fields);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

function header(parts: Buffer[], write: (out: number[]) => void): void {
  const out: number[] = [];
  write(out);
  parts.push(Buffer.from(out));
}

function writeFields(parts: Buffer[], fields: readonly WireField[]): void {
  for (const f of fields) {
    if (f.raw && Buffer.isBuffer(f.value)) {
      parts.push(f.value);
      continue;
    }
    const tag =
      f.field >= 0 && f.field < 2 ** 28 ? f.field * 8 + f.wt : (BigInt(f.field) << 3n) | BigInt(f.wt);
    const value = f.value;
    if (typeof value === 'bigint') {
      header(parts, (out) => {
        varint(out, tag, f.tagPad ?? 0);
        if (f.wt === 0) varint(out, value);
        else if (f.wt === 1) pushFixed(out, value, 8);
        else if (f.wt === 5) pushFixed(out, value, 4);
        else if (f.wt === 2) varint(out, f.lenOverride ?? 0, f.lenPad ?? 0);
      });
      continue;
    }
    const bytes = Array.isArray(value) ? encodeFields(value) : value;
    header(parts, (out) => {
      varint(out, tag, f.tagPad ?? 0);
      if (f.wt === 2 || f.lenOverride !== undefined)
        varint(out, f.lenOverride ?? bytes.length, f.lenPad ?? 0);
    });
    parts.push(bytes);
    if (f.wt === 3) header(parts, (out) => varint(out, (BigInt(f.field) << 3n) | 4n));
  }
}

function pushFixed(out: number[], value: bigint, size: number): void {
  let rest = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    out.push(Number(rest & 0xffn));
    rest >>= 8n;
  }
}

/**
 * Many string fields of one number, encoded in bulk (for 1,000 globs or 100,000 names), every tag `tagPad`
 * bytes longer than needed: one raw {@link WireField}.
 */
export function bulkStrings(field: number, values: readonly string[], tagPad = 0): WireField {
  const tag: number[] = [];
  varint(tag, field * 8 + 2, tagPad);
  let size = 0;
  for (const value of values) size += tag.length + 5 + Buffer.byteLength(value, 'utf8');
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const value of values) {
    for (const b of tag) out[at++] = b;
    const length = Buffer.byteLength(value, 'utf8');
    let rest = length;
    while (rest > 0x7f) {
      out[at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    out[at++] = rest;
    at += out.write(value, at, 'utf8');
  }
  return { field, wt: 2, value: out.subarray(0, at), raw: true };
}

/** A string field. */
export function str(field: number, text: string | Buffer): WireField {
  return { field, wt: 2, value: typeof text === 'string' ? Buffer.from(text, 'utf8') : text };
}

/** A nested message field. */
export function msg(field: number, fields: WireField[]): WireField {
  return { field, wt: 2, value: fields };
}

/** A varint field. */
export function num(field: number, value: number | bigint): WireField {
  return { field, wt: 0, value: BigInt(value) };
}

/** The gRPC length-prefixed frame of a message: flag byte, 4-byte big-endian length, bytes. */
export function grpcFrame(message: Buffer, options: { flag?: number; length?: number } = {}): Buffer {
  const header = Buffer.alloc(5);
  header[0] = options.flag ?? 0;
  header.writeUInt32BE((options.length ?? message.length) >>> 0, 1);
  return Buffer.concat([header, message]);
}
