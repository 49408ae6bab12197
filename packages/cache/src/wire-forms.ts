/**
 * The two wire forms every served resource is wrapped in (rule R3: built once per resource, then shared by every
 * response): `google.protobuf.Any { type_url = 1, value = 2 }` for SotW and
 * `envoy.service.discovery.v3.Resource { version = 1, resource = 2, name = 3 }` for delta. Written by hand, in
 * one allocation of the exact size: a protobuf-es BinaryWriter grows a zeroed buffer from 128 bytes by doubling
 * and copies it again to finish, which made wrapping 40,000 resources for a first push cost hundreds of ms.
 * Rule L1 holds for writers too: the test checks the bytes against protobuf-es's encoding of the same message.
 */

/**
 * Type URLs are few and repeat: their UTF-8 is kept (bounded at 1,024 entries and cleared when full: a cache, not a
 * registry). Names and versions are not: most are unique, so each is encoded where it is written.
 */
const utf8Of = new Map<string, Buffer>();
const maxKeptStrings = 1024;

function utf8(text: string): Buffer {
  let bytes = utf8Of.get(text);
  if (bytes === undefined) {
    bytes = Buffer.from(text, 'utf8');
    if (utf8Of.size >= maxKeptStrings) utf8Of.clear();
    utf8Of.set(text, bytes);
  }
  return bytes;
}

/** Bytes of the varint of `value` (a length: 0 to 2^32 − 1). */
function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

/**
 * A buffer of its own, of exactly `size` bytes. Not `Buffer.allocUnsafe`: its small buffers are slices of a shared
 * 8 KiB pool, and one long-lived resource would keep a whole pool of short-lived ones alive.
 */
function exact(size: number): Uint8Array {
  return new Uint8Array(size);
}

/** Size of a length-delimited field of `length` bytes with a one-byte tag. */
function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

function writeField(out: Uint8Array, at: number, tag: number, bytes: Uint8Array): number {
  out[at++] = tag;
  at = writeVarint(out, at, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

/** Encodes `google.protobuf.Any { type_url = 1, value = 2 }` (a field left out when empty, as protobuf does). */
export function encodeAny(typeUrl: string, value: Uint8Array): Uint8Array {
  const url = utf8(typeUrl);
  const out = exact(
    (url.length > 0 ? fieldSize(url.length) : 0) + (value.length > 0 ? fieldSize(value.length) : 0),
  );
  let at = 0;
  if (url.length > 0) at = writeField(out, at, 10, url);
  if (value.length > 0) writeField(out, at, 18, value);
  return out;
}

/**
 * Encodes `envoy.service.discovery.v3.Resource { version = 1, resource = 2, name = 3 }`, `any` being the encoded
 * `Any`; fields in the order name, version, resource (as before; field order does not change what it decodes to),
 * empty ones left out.
 */
export function encodeDeltaResource(name: string, version: string, any: Uint8Array): Uint8Array {
  const nameBytes = Buffer.from(name, 'utf8');
  const versionBytes = Buffer.from(version, 'utf8');
  const out = exact(
    (nameBytes.length > 0 ? fieldSize(nameBytes.length) : 0) +
      (versionBytes.length > 0 ? fieldSize(versionBytes.length) : 0) +
      (any.length > 0 ? fieldSize(any.length) : 0),
  );
  let at = 0;
  if (nameBytes.length > 0) at = writeField(out, at, 26, nameBytes);
  if (versionBytes.length > 0) at = writeField(out, at, 10, versionBytes);
  if (any.length > 0) writeField(out, at, 18, any);
  return out;
}
