// The one place where xDS messages meet bytes on the wire. Requests are decoded with protobuf-es; responses are
// assembled from the cache's pre-encoded resources (rule R3) without decoding or re-encoding them.
import { type DescMessage, fromBinary, type Message, type MessageShape, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { DeltaResponse, SotwResponse } from '@xds/cache';
import { type EncodedResource, encodeAny } from '@xds/cache';

const resourceTypeUrl = 'type.googleapis.com/envoy.service.discovery.v3.Resource';

/** A request that did not parse: the handler ends the stream with InvalidArgument naming the problem. */
export class UndecodableRequest {
  constructor(readonly message: string) {}
}

/** A request deserializer for grpc-js that never throws: bad bytes become an {@link UndecodableRequest}. */
export function requestDecoder<T extends DescMessage>(
  schema: T,
): (bytes: Buffer) => MessageShape<T> | UndecodableRequest {
  return (bytes) => {
    try {
      return fromBinary(schema, bytes);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return new UndecodableRequest(`${schema.typeName} does not parse: ${reason}`);
    }
  };
}

/** A serializer for messages we build (CSDS, Fetch answers). */
export function messageEncoder<T extends DescMessage>(schema: T): (message: MessageShape<T>) => Buffer {
  return (message) => asBuffer(toBinary(schema, message as Message as MessageShape<T>));
}

/** grpc-js wants a Buffer; this wraps bytes without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Responses are handed to grpc-js already encoded. */
export const passThrough = (bytes: Uint8Array): Buffer => asBuffer(bytes);

function durationBytes(ms: number): Uint8Array {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  const writer = new BinaryWriter();
  if (seconds !== 0) writer.uint32(8).int64(seconds);
  if (nanos !== 0) writer.uint32(16).int32(nanos);
  return writer.finish();
}

/**
 * `envoy.service.discovery.v3.Resource { name, version, resource, ttl }`, for TTL clients (rule R4); a heartbeat
 * leaves the resource out.
 */
function ttlResource(entry: EncodedResource, ttlMs: number, heartbeat: boolean): Uint8Array {
  const writer = new BinaryWriter().uint32(26).string(entry.name).uint32(10).string(entry.version);
  if (!heartbeat) writer.uint32(18).bytes(entry.any);
  return writer.uint32(50).bytes(durationBytes(ttlMs)).finish();
}

/** Appends `nonce` (field 5 of both response messages) to an encoded body. */
function withNonce(body: Uint8Array, nonce: string): Uint8Array {
  const tail = new BinaryWriter().uint32(42).string(nonce).finish();
  const out = new Uint8Array(body.length + tail.length);
  out.set(body, 0);
  out.set(tail, body.length);
  return out;
}

/**
 * Encodes a `DiscoveryResponse { version_info = 1, resources = 2, type_url = 4, nonce = 5, control_plane = 6 }`
 * from a cache response. Resources with a TTL are wrapped in `Resource` only when the response carries TTLs,
 * which the cache gives only to clients that support them (rule R4).
 */
export function encodeSotwResponse(response: SotwResponse, nonce: string, controlPlane: string): Uint8Array {
  return withNonce(sotwBody(response, controlPlane), nonce);
}

/** Bodies of responses whose resource list is a cache-shared, frozen array (a whole type sent to many streams). */
const sharedBodies = new WeakMap<readonly EncodedResource[], { key: string; body: Uint8Array }>();

/** The response without its nonce; encoded once for every stream that gets the same shared resource list. */
function sotwBody(response: SotwResponse, controlPlane: string): Uint8Array {
  const shareable =
    response.ttls === undefined && response.heartbeats === undefined && Object.isFrozen(response.resources);
  const key = `${response.typeUrl}\n${response.version}\n${controlPlane}`;
  if (shareable) {
    const known = sharedBodies.get(response.resources);
    if (known?.key === key) return known.body;
  }
  const writer = new BinaryWriter();
  writer.uint32(10).string(response.version);
  for (const entry of response.resources) {
    const ttl = response.ttls?.get(entry.name);
    const heartbeat = response.heartbeats?.has(entry.name) ?? false;
    const bytes =
      ttl === undefined ? entry.any : encodeAny(resourceTypeUrl, ttlResource(entry, ttl, heartbeat));
    writer.uint32(18).bytes(bytes);
  }
  writer.uint32(34).string(response.typeUrl);
  if (controlPlane !== '')
    writer.uint32(50).bytes(new BinaryWriter().uint32(10).string(controlPlane).finish());
  const body = writer.finish();
  if (shareable) sharedBodies.set(response.resources, { key, body });
  return body;
}

/**
 * Encodes a `DeltaDiscoveryResponse { system_version_info = 1, resources = 2, type_url = 4, nonce = 5,
 * removed_resources = 6, control_plane = 7 }` from a cache response.
 */
export function encodeDeltaResponse(
  response: DeltaResponse,
  nonce: string,
  controlPlane: string,
): Uint8Array {
  const writer = new BinaryWriter();
  writer.uint32(10).string(response.systemVersion);
  for (const entry of response.resources) {
    const ttl = response.ttls?.get(entry.name);
    const heartbeat = response.heartbeats?.has(entry.name) ?? false;
    writer.uint32(18).bytes(ttl === undefined ? entry.deltaResource : ttlResource(entry, ttl, heartbeat));
  }
  writer.uint32(34).string(response.typeUrl);
  for (const name of response.removed) writer.uint32(50).string(name);
  if (controlPlane !== '')
    writer.uint32(58).bytes(new BinaryWriter().uint32(10).string(controlPlane).finish());
  return withNonce(writer.finish(), nonce);
}
