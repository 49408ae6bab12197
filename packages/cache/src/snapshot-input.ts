// The forms a resource may take when a snapshot is built (rule R1 names, rule R4 TTLs): a message, a message with
// a name or TTL, an encoded resource, or bytes of a registered type (opaque: never decoded). Each becomes one
// EncodedResource of a type the snapshot's ResourceTypes has.
import { isMessage, type Message } from '@bufbuild/protobuf';
import { Code, type ResourceTypes, type TypeUrl, XdsError } from '@xds/api';
import { deepFreeze } from './deep-freeze.js';
import { EncodedResource, encodeResource, opaqueResource } from './encoded-resource.js';

/** A resource with a time to live (rule R4): heartbeats refresh it for clients that support TTLs. */
export interface ResourceWithTtl {
  /** The resource message. */
  readonly resource: Message;
  /** Time to live in milliseconds. */
  readonly ttlMs: number;
}

/** A resource with its name (for types whose messages carry none: LEDS) and an optional TTL (rule R4). */
export interface NamedResource {
  /** The resource: a message, or an already encoded resource. */
  readonly resource: Message | EncodedResource;
  /** The name; required when the message carries none, else it must be the message's own. */
  readonly name?: string;
  /** Time to live in milliseconds. */
  readonly ttlMs?: number;
}

/** A resource given as encoded bytes (opaque: hashed and served as they are, never decoded). */
export interface BytesResource {
  /** The type URL; the snapshot's `types` must have it. */
  readonly typeUrl: TypeUrl;
  /** The encoded resource. */
  readonly bytes: Uint8Array;
  /** The name; default read from the bytes by the type's `nameOfBytes`. */
  readonly name?: string;
  /** Time to live in milliseconds. */
  readonly ttlMs?: number;
}

/** Anything {@link Snapshot.create} takes as a resource. */
export type SnapshotResource = Message | EncodedResource | ResourceWithTtl | NamedResource | BytesResource;

/** One resource read from the input, with its TTL. */
export interface Parsed {
  readonly entry: EncodedResource;
  readonly ttlMs: number | undefined;
}

/** Reads one input resource; throws an XdsError (InvalidArgument) naming `#position` for anything wrong. */
export function parseResource(item: SnapshotResource, position: number, types: ResourceTypes): Parsed {
  const where = `resource #${position}`;
  const bad = (why: string, cause?: unknown) =>
    new XdsError(Code.InvalidArgument, `${where}${why}`, cause === undefined ? undefined : { cause });
  if (typeof item !== 'object' || item === null) throw bad(' is not a protobuf-es message');
  let entry: EncodedResource;
  try {
    entry = parseEntry(item, types, where);
  } catch (error) {
    if (error instanceof XdsError && error.message.startsWith(where)) throw error;
    throw bad(`: ${(error as Error).message}`, error);
  }
  const ttl =
    isMessage(item) || item instanceof EncodedResource ? undefined : (item as { ttlMs?: unknown }).ttlMs;
  const label = `${types.get(entry.typeUrl)?.shortName ?? entry.typeUrl} "${entry.name}"`;
  return { entry, ttlMs: ttl === undefined ? undefined : validTtl(ttl, label) };
}

function parseEntry(item: SnapshotResource, types: ResourceTypes, where: string): EncodedResource {
  const bad = (why: string) => new XdsError(Code.InvalidArgument, `${where} ${why}`);
  if (item instanceof EncodedResource) return checkedEntry(item, types, where);
  if (isMessage(item)) return fromMessage(item, undefined, types, where);
  if ('bytes' in item) {
    return opaqueResource({
      typeUrl: item.typeUrl,
      bytes: item.bytes,
      types,
      ...(item.name === undefined ? {} : { name: item.name }),
    });
  }
  if ('resource' in item) {
    const name = 'name' in item ? item.name : undefined;
    const resource = item.resource;
    if (resource instanceof EncodedResource) {
      if (name !== undefined && name !== resource.name)
        throw bad(`is "${resource.name}", given as "${name}"`);
      return checkedEntry(resource, types, where);
    }
    if (!isMessage(resource)) throw bad('is not a protobuf-es message');
    return fromMessage(resource, name, types, where);
  }
  throw bad('is not a protobuf-es message');
}

function fromMessage(message: Message, name: string | undefined, types: ResourceTypes, where: string) {
  const type = types.ofMessage(message);
  if (type === undefined)
    throw new XdsError(Code.InvalidArgument, `${where} (${message.$typeName}) is not an xDS resource type`);
  deepFreeze(message);
  const entry = encodeResource(message, { types, ...(name === undefined ? {} : { name }) });
  if (entry.name === '') throw new XdsError(Code.InvalidArgument, `${where} (${type.shortName}) has no name`);
  return entry;
}

function checkedEntry(entry: EncodedResource, types: ResourceTypes, where: string): EncodedResource {
  if (!types.has(entry.typeUrl))
    throw new XdsError(Code.InvalidArgument, `${where} (${entry.typeUrl}) is not a known resource type`);
  return entry;
}

/** A TTL must be a positive finite number of milliseconds (rule R4). */
export function validTtl(ttlMs: unknown, where: string): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new XdsError(Code.InvalidArgument, `${where}: ttlMs must be a positive number`);
  }
  return ttlMs;
}
