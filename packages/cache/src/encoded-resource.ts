import { hash } from 'node:crypto';
import { type DescMessage, fromBinary, type Message, toBinary } from '@bufbuild/protobuf';
import { Code, ResourceTypes, type TypeUrl, XdsError } from '@xds/api';
import { deepFreeze } from './deep-freeze.js';
import { encodeAny, encodeDeltaResource } from './wire-forms.js';

export { encodeAny };

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
 *
 * An *opaque* resource ({@link opaqueResource}) was given as bytes and never decoded: its version is the hash of
 * those bytes, it is served as they are, and `message` decodes them only when read (and only when its type has a
 * schema). `check()` and dumps treat it as opaque: they do not decode it.
 */
export class EncodedResource {
  /** The resource name (rule R1). */
  readonly name: string;
  /** The resource type. */
  readonly typeUrl: TypeUrl;
  /** The resource's protobuf encoding. */
  readonly bytes: Uint8Array;

  /** True when the resource was given as bytes, not as a message. */
  readonly opaque: boolean;
  #version: string | undefined;
  #message: Message | undefined;
  readonly #schema: DescMessage | undefined;
  #any: Uint8Array | undefined;
  #delta: Uint8Array | undefined;

  /**
   * Use {@link encodeResource} or {@link opaqueResource}; this constructor does not memoize. `message` undefined
   * makes an opaque resource, decoded on demand with `schema` when there is one. `version` undefined: the hash
   * of `bytes`, computed on first read.
   */
  constructor(
    typeUrl: TypeUrl,
    name: string,
    message: Message | undefined,
    bytes: Uint8Array,
    version: string | undefined,
    schema?: DescMessage,
  ) {
    this.typeUrl = typeUrl;
    this.name = name;
    this.#message = message;
    this.#schema = schema;
    this.opaque = message === undefined;
    this.bytes = bytes;
    this.#version = version;
  }

  /**
   * The content version: a hash of `bytes`, equal in every process for equal content (rules D4, S14). Computed on
   * first read: a snapshot built from bytes and served only over SotW never needs it.
   */
  get version(): string {
    this.#version ??= contentHash(this.bytes);
    return this.#version;
  }

  /**
   * The (frozen) message. For an opaque resource it is decoded from `bytes` on first read (throws when they do
   * not decode), and undefined when the type has no schema.
   */
  get message(): Message | undefined {
    if (this.#message === undefined && this.#schema !== undefined)
      this.#message = deepFreeze(fromBinary(this.#schema, this.bytes));
    return this.#message;
  }

  /** The message if the resource was given (or has been) decoded; never decodes. */
  get decoded(): Message | undefined {
    return this.#message;
  }

  /** The encoded `google.protobuf.Any { type_url, value }` holding the resource (SotW `resources`). */
  get any(): Uint8Array {
    this.#any ??= encodeAny(this.typeUrl, this.bytes);
    return this.#any;
  }

  /** The encoded `envoy.service.discovery.v3.Resource { name, version, resource }` (delta `resources`). */
  get deltaResource(): Uint8Array {
    this.#delta ??= encodeDeltaResource(this.name, this.version, this.any);
    return this.#delta;
  }
}

/** A short, stable hash of bytes or text: 96 bits of SHA-256 in base64url (16 characters). */
export function contentHash(data: Uint8Array | string): string {
  // One call (no Hash object); the first 16 base64url characters of the digest are exactly its first 12 bytes.
  return hash('sha256', data, 'base64url').slice(0, 16);
}

const byMessage = new WeakMap<Message, EncodedResource>();
/** Bytes by content hash, so that equal content built twice (two nodes, two processes' worth) is held once. */
const byHash = new Map<string, WeakRef<Uint8Array<ArrayBufferLike>>>();
const collected = new FinalizationRegistry<string>((hash) => {
  const ref = byHash.get(hash);
  if (ref !== undefined && ref.deref() === undefined) byHash.delete(hash);
});

/** Bytes shared by content hash (see {@link byHash}). */
function shared(bytes: Uint8Array<ArrayBufferLike>, version: string): Uint8Array<ArrayBufferLike> {
  const known = byHash.get(version)?.deref();
  if (known !== undefined && known.length === bytes.length) return known;
  byHash.set(version, new WeakRef(bytes));
  collected.register(bytes, version);
  return bytes;
}

/** Options of {@link encodeResource}. */
export interface EncodeOptions {
  /** An encoding of this very message the caller already has (a config store, an upstream): adopted as is. */
  readonly bytes?: Uint8Array;
  /** The name, for a type whose messages carry none (LEDS's LbEndpoint); else it must be the message's own. */
  readonly name?: string;
  /** The resource types the message's type is looked up in; default the built-in ones. */
  readonly types?: ResourceTypes;
}

/**
 * The encoded form of a resource message, computed once per message object (rule R3): every snapshot that holds
 * the same object shares it. Messages with equal content built separately share their bytes.
 * Throws an XdsError (InvalidArgument) for a message of a type `types` does not have, and for a name that is not
 * the message's own.
 *
 * A caller that decoded the message from protobuf bytes (a config store, a message queue) can pass them as
 * `options.bytes`: they are used as the resource's encoding instead of encoding the message again, and the message
 * is frozen so that it cannot drift from them. They must be an encoding of this very message.
 */
export function encodeResource(message: Message, options?: EncodeOptions): EncodedResource {
  const types = options?.types ?? ResourceTypes.builtIn;
  const type = types.ofMessage(message);
  if (type === undefined)
    throw new XdsError(Code.InvalidArgument, `${message.$typeName} is not a known resource type`);
  const own = type.nameOf(message);
  const given = options?.name;
  if (given !== undefined && own !== '' && given !== own)
    throw new XdsError(Code.InvalidArgument, `${type.shortName} "${own}" given the name "${given}"`);
  const name = given ?? own;
  const known = byMessage.get(message);
  if (known !== undefined && known.name === name && known.typeUrl === type.typeUrl) return known;
  let bytes: Uint8Array<ArrayBufferLike>;
  encodes++;
  if (options?.bytes !== undefined) {
    deepFreeze(message);
    bytes = options.bytes;
  } else bytes = toBinary(type.schema!, message);
  const version = contentHash(bytes);
  const encoded = new EncodedResource(
    type.typeUrl,
    name,
    message,
    shared(bytes, version),
    version,
    type.schema,
  );
  // A message without a name of its own may be given under several names: only the first is kept.
  if (known === undefined) byMessage.set(message, encoded);
  return encoded;
}

/** What {@link opaqueResource} takes. */
export interface OpaqueResourceInit {
  /** The resource's type URL. */
  readonly typeUrl: TypeUrl;
  /** The encoded resource (the `value` of its `Any`). */
  readonly bytes: Uint8Array;
  /** The name; default: read from the bytes by the type's `nameOfBytes`. */
  readonly name?: string;
  /** The resource types the type URL is looked up in; default the built-in ones. */
  readonly types?: ResourceTypes;
}

/**
 * A resource given as encoded bytes, not decoded (rule R3): its version is the hash of the bytes, it is served as
 * they are, and it is decoded only if something reads its `message`. Throws an XdsError (InvalidArgument) for a
 * type `types` does not have, or a resource without a name (none given and none readable from the bytes).
 */
export function opaqueResource(init: OpaqueResourceInit): EncodedResource {
  const types = init.types ?? ResourceTypes.builtIn;
  const type = types.require(init.typeUrl);
  if (!(init.bytes instanceof Uint8Array))
    throw new XdsError(Code.InvalidArgument, `${type.shortName}: bytes must be a Uint8Array`);
  let name = init.name;
  if (name === undefined) {
    if (type.nameOfBytes === undefined)
      throw new XdsError(Code.InvalidArgument, `${type.shortName}: a resource given as bytes needs a name`);
    try {
      name = type.nameOfBytes(init.bytes);
    } catch (error) {
      throw new XdsError(Code.InvalidArgument, `${type.shortName}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  if (name === '') throw new XdsError(Code.InvalidArgument, `${type.shortName}: a resource has no name`);
  encodes++;
  return new EncodedResource(
    type.typeUrl,
    name,
    undefined,
    // Kept as given: the caller owns them and can give equal bytes as one resource; sharing them by hash
    // would cost a weak reference and a finalizer per resource (about a third of building from bytes).
    init.bytes,
    // hashed on first read (a SotW-only snapshot never reads it)
    undefined,
    type.schema,
  );
}
