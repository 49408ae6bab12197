// The one place where xDS messages meet bytes on the wire. Requests are decoded with protobuf-es; responses are
// assembled from the cache's pre-encoded resources (rule R3) without decoding or re-encoding them. A response that
// many streams are sent is a shared body plus each stream's nonce field, which direct-write.ts writes without
// joining them.

import { type DescMessage, fromBinary, type Message, type MessageShape, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { Code, resourceType } from '@xds/api';
import type { DeltaResponse, SotwResponse } from '@xds/cache';
import { type EncodedResource, encodeAny } from '@xds/cache';
import { messageHeaderBytes, type ResponseParts, wholeResponse } from './direct-write.js';
import type { Limits, ResolvedLimits } from './limits.js';
import { keepWireNode } from './request-node.js';
import { requestLayout, takeWireNode, trimRequest } from './request-wire.js';

const resourceTypeUrl = 'type.googleapis.com/envoy.service.discovery.v3.Resource';

/**
 * A request that did not parse, or that the wire pass (request-wire.ts) refused before decoding it: the handler
 * ends the stream with `code` (InvalidArgument, or ResourceExhausted naming `limit`) and the message.
 */
export class UndecodableRequest {
  constructor(
    readonly message: string,
    readonly code: Code = Code.InvalidArgument,
    readonly limit?: keyof Limits,
  ) {}
}

/**
 * A request deserializer for grpc-js that never throws: bad bytes become an {@link UndecodableRequest}. With
 * `limits`, the wire pass of request-wire.ts runs first (rule L2): it refuses a request over the limits and drops
 * what the server never reads before protobuf-es decodes the rest. With `deferNode` (a discovery stream's
 * requests), the request's `node` is left undecoded but for its id, for the stream to decode from its first
 * request only (request-node.ts, rule S2).
 */
export function requestDecoder<T extends DescMessage>(
  schema: T,
  limits?: ResolvedLimits,
  deferNode = false,
): (bytes: Buffer) => MessageShape<T> | UndecodableRequest {
  const layout = limits === undefined ? undefined : requestLayout(schema);
  return (input) => {
    const bytes = layout === undefined ? input : trimRequest(input, layout, limits!, deferNode);
    if (bytes instanceof UndecodableRequest) return bytes;
    const node = deferNode ? takeWireNode() : undefined;
    try {
      const request = fromBinary(schema, bytes);
      if (node !== undefined) keepWireNode(request, node);
      return request;
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

/** A length-delimited field: its tag byte (field number < 16, wire type 2) and its bytes. */
type Field = readonly [tag: number, value: Uint8Array];

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value >>> 7; rest !== 0; rest >>>= 7) size++;
  return size;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  let pos = at;
  let rest = value >>> 0;
  while (rest > 0x7f) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[pos++] = rest;
  return pos;
}

// Per-stream response bytes live until they are flushed (direct-write.ts) or grpc-js copied them into its frame (its
// own path). They are cut from 256 KiB slabs, never reused:
// one ArrayBuffer per slab instead of one per response (Node's own pool is 8 KiB, and allocating ArrayBuffers is
// a good part of a push to 10,000 streams). Large responses get their own buffer.
const slabSize = 256 * 1024;
const largeResponse = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(0);
let slabUsed = 0;

/** Bytes for a short-lived response. */
function responseBuffer(size: number): Buffer {
  if (size > largeResponse) return Buffer.allocUnsafeSlow(size);
  if (slabUsed + size > slab.length) {
    slab = Buffer.allocUnsafeSlow(slabSize);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += (size + 7) & ~7;
  return out;
}

/**
 * Writes length-delimited fields into one buffer of exactly the right size (no growing writer, no final copy):
 * a short-lived response buffer, or with `lasting` a buffer of its own (a shared body).
 */
function writeFields(fields: readonly Field[], lasting = false): Buffer {
  let size = 0;
  for (const [, value] of fields) size += 1 + varintSize(value.length) + value.length;
  const out = lasting ? Buffer.allocUnsafeSlow(size) : responseBuffer(size);
  let pos = 0;
  for (const [tag, value] of fields) {
    out[pos++] = tag;
    pos = writeVarint(out, pos, value.length);
    out.set(value, pos);
    pos += value.length;
  }
  return out;
}

/** `nonce` (field 5 of both response messages) as a field. */
function nonceField(nonce: string): Field {
  return [42, utf8(nonce)];
}

/**
 * The per-stream head of a shared body: 5 bytes left for the gRPC message header (direct-write.ts fills them in),
 * then the nonce field (protobuf fields may come in any order: the nonce before the body encodes the same message).
 * One buffer per response, where a nonce field and a header were two.
 */
function nonceHead(nonce: string): Buffer {
  const length = Buffer.byteLength(nonce, 'utf8');
  const out = Buffer.allocUnsafe(6 + varintSize(length) + length);
  out[5] = 42;
  const pos = writeVarint(out, 6, length);
  out.write(nonce, pos, 'utf8');
  return out;
}

/** A shared body and this stream's nonce. */
function sharedResponse(body: Uint8Array, nonce: string): ResponseParts {
  const head = nonceHead(nonce);
  return { body, head, length: body.length + head.length - messageHeaderBytes };
}

/** A response as one buffer: its body when it has no head, else the head's nonce field and the body copied into a new buffer. */
export function joinResponse(parts: ResponseParts): Uint8Array {
  const head = parts.head;
  if (head === undefined) return parts.body;
  const out = responseBuffer(parts.length);
  const at = head.copy(out, 0, messageHeaderBytes);
  out.set(parts.body, at);
  return out;
}

/** The encoded `envoy.config.core.v3.ControlPlane { identifier }`, or undefined when there is none. */
function controlPlaneBytes(controlPlane: string): Uint8Array | undefined {
  if (controlPlane === '') return undefined;
  return writeFields([[10, utf8(controlPlane)]], true);
}

/**
 * Encodes a `DiscoveryResponse { version_info = 1, resources = 2, type_url = 4, nonce = 5, control_plane = 6 }`
 * from a cache response. Resources with a TTL are wrapped in `Resource` only when the response carries TTLs,
 * which the cache gives only to clients that support them (rule R4); resources of a type whose messages carry no
 * name (LbEndpoint) are always wrapped, since the wrapper is their only name (rule R1).
 */
export function encodeSotwResponse(response: SotwResponse, nonce: string, controlPlane: string): Uint8Array {
  return joinResponse(encodeSotwParts(response, nonce, controlPlane));
}

/**
 * {@link encodeSotwResponse} in parts: a response of a list many streams are sent (at least
 * {@link minSharedResources} entries, or a cache-shared frozen array) is a body encoded once and shared by
 * reference, never written again, plus this stream's nonce field; any other is one buffer of its own.
 */
export function encodeSotwParts(response: SotwResponse, nonce: string, controlPlane: string): ResponseParts {
  const shareable = response.ttls === undefined && response.heartbeats === undefined;
  if (shareable) {
    const body = sharedBody(response, controlPlane);
    if (body !== undefined) return sharedResponse(body, nonce);
  }
  const fields = sotwFields(response, controlPlane);
  if (shareable && (Object.isFrozen(response.resources) || response.resources.length >= minSharedResources)) {
    const body = writeFields(fields, true);
    rememberBody(response, controlPlane, body);
    return sharedResponse(body, nonce);
  }
  fields.push(nonceField(nonce));
  return wholeResponse(writeFields(fields));
}

/**
 * Whether the messages of a built-in type carry no name (LEDS's LbEndpoint, rule R1): a SotW response names such a
 * resource only by a `Resource { name, version, resource }` wrapper, as delta always does. Types registered by
 * users are sent as given.
 */
function nameless(typeUrl: string): boolean {
  const type = resourceType(typeUrl);
  return type !== undefined && type.nameOfBytes === undefined;
}

/** `Any { Resource { name, version, resource } }` of an entry, built once per entry (a nameless type's SotW form). */
const wrappedAnys = new WeakMap<EncodedResource, Uint8Array>();

function wrappedAny(entry: EncodedResource): Uint8Array {
  let bytes = wrappedAnys.get(entry);
  if (bytes === undefined) {
    bytes = encodeAny(resourceTypeUrl, entry.deltaResource);
    wrappedAnys.set(entry, bytes);
  }
  return bytes;
}

function sotwFields(response: SotwResponse, controlPlane: string): Field[] {
  const fields: Field[] = [[10, utf8(response.version)]];
  const wrap = nameless(response.typeUrl);
  for (const entry of response.resources) {
    const ttl = response.ttls?.get(entry.name);
    const heartbeat = response.heartbeats?.has(entry.name) ?? false;
    fields.push([
      18,
      ttl !== undefined
        ? encodeAny(resourceTypeUrl, ttlResource(entry, ttl, heartbeat))
        : wrap
          ? wrappedAny(entry)
          : entry.any,
    ]);
  }
  fields.push([34, utf8(response.typeUrl)]);
  const plane = controlPlaneBytes(controlPlane);
  if (plane !== undefined) fields.push([50, plane]);
  return fields;
}

// Shared bodies. Many streams are sent the same list of resources at the same version: every wildcard stream of a
// snapshot, and every stream with the same subscription when a push changes the same assignments for all of
// them. Such a body is encoded once: for a cache-shared frozen array by identity, for any other list by comparing
// its entries (the same EncodedResource objects in the same order, which costs far less than encoding them).

interface SharedBody {
  readonly typeUrl: string;
  readonly version: string;
  readonly controlPlane: string;
  readonly resources: readonly EncodedResource[];
  readonly body: Uint8Array;
}

/** Lists shorter than this are cheap to encode and not worth remembering. */
const minSharedResources = 4;
/** Recently encoded bodies of per-stream lists, newest first, at most this many and this many bytes. */
const recentBodies: SharedBody[] = [];
const maxRecentBodies = 8;
const maxRecentBytes = 64 * 1024 * 1024;
/** Bodies of cache-shared frozen arrays (the whole type, sent to every wildcard stream). */
const frozenBodies = new WeakMap<readonly EncodedResource[], SharedBody>();

function sameBody(known: SharedBody, response: SotwResponse, controlPlane: string): boolean {
  return (
    known.version === response.version &&
    known.typeUrl === response.typeUrl &&
    known.controlPlane === controlPlane
  );
}

function sharedBody(response: SotwResponse, controlPlane: string): Uint8Array | undefined {
  const resources = response.resources;
  if (Object.isFrozen(resources)) {
    const known = frozenBodies.get(resources);
    return known !== undefined && sameBody(known, response, controlPlane) ? known.body : undefined;
  }
  if (resources.length < minSharedResources) return undefined;
  for (let i = 0; i < recentBodies.length; i++) {
    const known = recentBodies[i]!;
    if (known.resources.length !== resources.length || !sameBody(known, response, controlPlane)) continue;
    let same = true;
    for (let j = 0; j < resources.length; j++) {
      if (known.resources[j] !== resources[j]) {
        same = false;
        break;
      }
    }
    if (!same) continue;
    if (i > 0) {
      recentBodies.splice(i, 1);
      recentBodies.unshift(known);
    }
    return known.body;
  }
  return undefined;
}

function rememberBody(response: SotwResponse, controlPlane: string, body: Uint8Array): void {
  const resources = response.resources;
  const known: SharedBody = {
    typeUrl: response.typeUrl,
    version: response.version,
    controlPlane,
    resources,
    body,
  };
  if (Object.isFrozen(resources)) {
    frozenBodies.set(resources, known);
    return;
  }
  recentBodies.unshift(known);
  let bytes = 0;
  for (let i = 0; i < recentBodies.length; i++) {
    bytes += recentBodies[i]!.body.length;
    if (i >= maxRecentBodies || (i > 0 && bytes > maxRecentBytes)) {
      recentBodies.length = i;
      break;
    }
  }
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
  const fields: Field[] = [[10, utf8(response.systemVersion)]];
  for (const entry of response.resources) {
    const ttl = response.ttls?.get(entry.name);
    const heartbeat = response.heartbeats?.has(entry.name) ?? false;
    fields.push([18, ttl === undefined ? entry.deltaResource : ttlResource(entry, ttl, heartbeat)]);
  }
  fields.push([34, utf8(response.typeUrl)]);
  fields.push(nonceField(nonce));
  for (const name of response.removed) fields.push([50, utf8(name)]);
  const plane = controlPlaneBytes(controlPlane);
  if (plane !== undefined) fields.push([58, plane]);
  return writeFields(fields);
}
