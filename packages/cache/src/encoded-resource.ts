import { createHash } from 'node:crypto';
import { type Message, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { resourceName, resourceType, type TypeUrl, typeUrlOf } from '@xds/api';
import { deepFreeze } from './deep-freeze.js';

let encodes = 0;

/**
 * How many resources have been given their wire form in this process (rule R3): encoded to protobuf bytes, or
 * adopted from bytes the caller already had. Tests and benchmarks read it to prove that this happens once per
 * resource, not once per node, stream or response.
 */
export function encodeCount(): number {
  return encodes;
}

/**
 * One xDS resource with its encoding (rule R3) and content version (rule D4), shared by every snapshot, node,
 * stream and response that holds the same message object. The wire forms (the resource inside a
 * `google.protobuf.Any`, inside a delta `Resource`) are built on first use and kept.
 */
export class EncodedResource {
  /** The resource name (rule R1). */
  readonly name: string;
  /** The resource type. */
  readonly typeUrl: TypeUrl;
  /** The (frozen) message. */
  readonly message: Message;
  /** The resource's protobuf encoding. */
  readonly bytes: Uint8Array;
  /** The content version: a hash of `bytes`, equal in every process for equal content (rules D4, S14). */
  readonly version: string;
  #any: Uint8Array | undefined;
  #delta: Uint8Array | undefined;

  /** Use {@link encodeResource}; this constructor does not memoize. */
  constructor(typeUrl: TypeUrl, name: string, message: Message, bytes: Uint8Array, version: string) {
    this.typeUrl = typeUrl;
    this.name = name;
    this.message = message;
    this.bytes = bytes;
    this.version = version;
  }

  /** The encoded `google.protobuf.Any { type_url, value }` holding the resource (SotW `resources`). */
  get any(): Uint8Array {
    this.#any ??= encodeAny(this.typeUrl, this.bytes);
    return this.#any;
  }

  /** The encoded `envoy.service.discovery.v3.Resource { name, version, resource }` (delta `resources`). */
  get deltaResource(): Uint8Array {
    this.#delta ??= new BinaryWriter()
      .uint32(26)
      .string(this.name)
      .uint32(10)
      .string(this.version)
      .uint32(18)
      .bytes(this.any)
      .finish();
    return this.#delta;
  }
}

/** Encodes `google.protobuf.Any { type_url = 1, value = 2 }`. */
export function encodeAny(typeUrl: string, value: Uint8Array): Uint8Array {
  return new BinaryWriter().uint32(10).string(typeUrl).uint32(18).bytes(value).finish();
}

/** A short, stable hash of bytes or text: 96 bits of SHA-256 in base64url (16 characters). */
export function contentHash(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest().subarray(0, 12).toString('base64url');
}

const byMessage = new WeakMap<Message, EncodedResource>();
/** Bytes by content hash, so that equal content built twice (two nodes, two processes' worth) is held once. */
const byHash = new Map<string, WeakRef<Uint8Array<ArrayBufferLike>>>();
const collected = new FinalizationRegistry<string>((hash) => {
  const ref = byHash.get(hash);
  if (ref !== undefined && ref.deref() === undefined) byHash.delete(hash);
});

/**
 * The encoded form of a resource message, computed once per message object (rule R3): every snapshot that holds
 * the same object shares it. Messages with equal content built separately share their bytes.
 * Throws a TypeError for a message that is not an xDS resource.
 *
 * A caller that decoded the message from protobuf bytes (a config store, a message queue) can pass them as
 * `options.bytes`: they are used as the resource's encoding instead of encoding the message again, and the message
 * is frozen so that it cannot drift from them. They must be an encoding of this very message.
 */
export function encodeResource(message: Message, options?: { readonly bytes?: Uint8Array }): EncodedResource {
  const known = byMessage.get(message);
  if (known !== undefined) return known;
  const typeUrl = typeUrlOf(message);
  if (typeUrl === undefined) throw new TypeError(`${message.$typeName} is not an xDS resource type`);
  const schema = resourceType(typeUrl)!.schema;
  let bytes: Uint8Array<ArrayBufferLike>;
  encodes++;
  if (options?.bytes !== undefined) {
    deepFreeze(message);
    bytes = options.bytes;
  } else bytes = toBinary(schema, message);
  const version = contentHash(bytes);
  const shared = byHash.get(version)?.deref();
  if (shared !== undefined && shared.length === bytes.length) bytes = shared;
  else {
    byHash.set(version, new WeakRef(bytes));
    collected.register(bytes, version);
  }
  const encoded = new EncodedResource(typeUrl, resourceName(message), message, bytes, version);
  byMessage.set(message, encoded);
  return encoded;
}
