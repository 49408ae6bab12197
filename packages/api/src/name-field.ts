// Reads a resource's name from its encoded bytes without decoding the message, for opaque resource types (no
// schema to decode with). It uses protobuf-es's own BinaryReader, reads only the top level and keeps the last
// occurrence of the field, as a decoder does. On bytes a decoder rejects it declines; on bytes protobuf-es
// accepts but misreads (it reads a known scalar by its declared type whatever the wire type, and does not bound a
// nested field by its parent's length) the two may differ, which is why types with a schema read names with
// wire-name.ts instead, which checks the whole message by its schema and else decodes (rule L1).
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** A function that reads a resource's name from its encoded bytes; throws when it cannot tell. */
export type NameOfBytes = (bytes: Uint8Array) => string;

/** Thrown by a {@link NameOfBytes} reader that cannot read a name from bytes (malformed, or not length-delimited). */
export class NameNotReadable extends Error {
  override readonly name = 'NameNotReadable';
}

/**
 * A reader of the top-level string field `fieldNumber` of encoded bytes, for an opaque type's `nameOfBytes`: the
 * last occurrence wins and absent is `''` (proto3), as a decoder reads well-formed bytes. Throws
 * {@link NameNotReadable} on malformed bytes or when the field comes with another wire type.
 */
export function stringField(fieldNumber: number): NameOfBytes {
  if (!Number.isInteger(fieldNumber) || fieldNumber < 1 || fieldNumber > 536_870_911)
    throw new RangeError(`stringField: ${fieldNumber} is not a protobuf field number`);
  return (bytes) => {
    let value = '';
    try {
      const reader = new BinaryReader(bytes);
      while (reader.pos < reader.len) {
        const [no, wireType] = reader.tag();
        if (no !== fieldNumber) {
          reader.skip(wireType, no);
          continue;
        }
        if (wireType !== WireType.LengthDelimited)
          throw new NameNotReadable(`field ${fieldNumber} has wire type ${wireType}, not a string`);
        value = reader.string();
      }
    } catch (error) {
      if (error instanceof NameNotReadable) throw error;
      throw new NameNotReadable(`cannot read field ${fieldNumber}: ${(error as Error).message}`);
    }
    return value;
  };
}
