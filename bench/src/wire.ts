/**
 * A small protobuf wire reader and the request encoders of the load clients. The clients read only the few
 * fields they need (names, versions, nonces) straight from the bytes instead of decoding whole messages, so that
 * thousands of them fit in a couple of worker processes without becoming the bottleneck.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/** A cursor over the fields of one encoded message, or of a slice of one. Reuse it: `reset`, then `next()`. */
export class FieldReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  end = 0;
  /** The current field number. */
  field = 0;
  /** The current wire type. */
  wire = 0;
  /** For a length-delimited field: where its bytes start and stop. */
  start = 0;
  stop = 0;

  reset(buf: Buffer, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  /** Moves to the next field; false at the end. Throws on a malformed message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const tag = this.#varint32();
    this.field = tag >>> 3;
    this.wire = tag & 7;
    switch (this.wire) {
      case WireType.Varint:
        while (this.buf[this.pos++]! & 0x80) if (this.pos >= this.end) throw new Error('truncated varint');
        break;
      case WireType.Bit64:
        this.pos += 8;
        break;
      case WireType.LengthDelimited: {
        const length = this.#varint32();
        this.start = this.pos;
        this.stop = this.pos + length;
        this.pos = this.stop;
        break;
      }
      case WireType.Bit32:
        this.pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${this.wire}`);
    }
    if (this.pos > this.end) throw new Error('field runs past the end of the message');
    return true;
  }

  /** The current length-delimited field as a string. */
  string(): string {
    return this.buf.toString('utf8', this.start, this.stop);
  }

  #varint32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.buf[this.pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error('varint too long');
    }
  }
}

/** `google.rpc.Status { code = 1, message = 2 }` of a NACK (INVALID_ARGUMENT). */
const nackStatus = new BinaryWriter()
  .tag(1, WireType.Varint)
  .int32(3)
  .tag(2, WireType.LengthDelimited)
  .string('rejected by the bench client')
  .finish();

/** Encodes an `envoy.config.core.v3.Node { id = 1, cluster = 2, user_agent_name = 6 }`. */
export function encodeNode(id: string): Uint8Array {
  return new BinaryWriter()
    .tag(1, WireType.LengthDelimited)
    .string(id)
    .tag(2, WireType.LengthDelimited)
    .string('bench')
    .tag(6, WireType.LengthDelimited)
    .string('envoy')
    .finish();
}

/** Encodes names as the repeated string field `field`, to splice into a request with {@link BinaryWriter.raw}. */
export function encodeNames(field: number, names: readonly string[]): Uint8Array {
  const writer = new BinaryWriter();
  for (const name of names) writer.tag(field, WireType.LengthDelimited).string(name);
  return writer.finish();
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** What a SotW request carries. */
export interface SotwRequestParts {
  readonly node: Uint8Array | undefined;
  readonly typeUrl: string;
  readonly versionInfo: string;
  readonly nonce: string;
  /** `resource_names` already encoded as field 3 (see {@link encodeNames}). */
  readonly names: Uint8Array | undefined;
  readonly nack: boolean;
}

/**
 * `DiscoveryRequest { version_info = 1, node = 2, resource_names = 3, type_url = 4, response_nonce = 5,
 * error_detail = 6 }`.
 */
export function encodeSotwRequest(parts: SotwRequestParts): Buffer {
  const writer = new BinaryWriter();
  if (parts.versionInfo !== '') writer.tag(1, WireType.LengthDelimited).string(parts.versionInfo);
  if (parts.node !== undefined) writer.tag(2, WireType.LengthDelimited).bytes(parts.node);
  if (parts.names !== undefined) writer.raw(parts.names);
  writer.tag(4, WireType.LengthDelimited).string(parts.typeUrl);
  if (parts.nonce !== '') writer.tag(5, WireType.LengthDelimited).string(parts.nonce);
  if (parts.nack) writer.tag(6, WireType.LengthDelimited).bytes(nackStatus);
  return toBuffer(writer.finish());
}

/** What a delta request carries. */
export interface DeltaRequestParts {
  readonly node: Uint8Array | undefined;
  readonly typeUrl: string;
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
  readonly nonce: string;
  readonly nack: boolean;
}

/**
 * `DeltaDiscoveryRequest { node = 1, type_url = 2, resource_names_subscribe = 3, resource_names_unsubscribe = 4,
 * response_nonce = 6, error_detail = 7 }`.
 */
export function encodeDeltaRequest(parts: DeltaRequestParts): Buffer {
  const writer = new BinaryWriter();
  if (parts.node !== undefined) writer.tag(1, WireType.LengthDelimited).bytes(parts.node);
  writer.tag(2, WireType.LengthDelimited).string(parts.typeUrl);
  for (const name of parts.subscribe) writer.tag(3, WireType.LengthDelimited).string(name);
  for (const name of parts.unsubscribe) writer.tag(4, WireType.LengthDelimited).string(name);
  if (parts.nonce !== '') writer.tag(6, WireType.LengthDelimited).string(parts.nonce);
  if (parts.nack) writer.tag(7, WireType.LengthDelimited).bytes(nackStatus);
  return toBuffer(writer.finish());
}
