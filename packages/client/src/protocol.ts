/**
 * What the SotW and delta variants of the ADS stream share, as one interface: the client core drives either without
 * knowing which. Each variant builds its requests and reads its responses; validation, ACK/NACK decisions and the
 * held state live in the core.
 */
import { type DescMessage, fromBinary, type Message } from '@bufbuild/protobuf';
import type { DiscoveryMethod, Node } from '@xds/api';
import type { Decoded } from './resource.js';
import type { TypeState } from './type-state.js';
import { type Scan, scanField, withoutField } from './wire-scan.js';

/** What bounds the resources read from a response (see `ClientLimits`). */
export interface ResourceLimits {
  readonly maxNameBytes: number;
  readonly maxVersionBytes: number;
  readonly maxResourceBytes: number;
}

/**
 * One resource of a response as offered, before it is decoded: enough to count what it would make the client hold
 * (rule L2), so that a response past a byte limit is refused without decoding it.
 */
export interface Offered {
  /** The name given beside it (delta), or undefined (SotW: its type reads it from the bytes when needed). */
  readonly name: string | undefined;
  /** The version given beside it (delta), or undefined (SotW: the content hash, the same size for the same content). */
  readonly version: string | undefined;
  /** The encoded resource. */
  readonly value: Uint8Array;
}

/** What a response says before its resources are decoded. */
export interface ResponseHead {
  /** The type. */
  readonly typeUrl: string;
  /** The nonce to answer. */
  readonly nonce: string;
  /** `version_info` (SotW) or `system_version_info` (delta). */
  readonly version: string;
  /** Its resources, not decoded (delta heartbeats, without a body, left out). */
  readonly offered: readonly Offered[];
  /** Names removed (delta `removed_resources`). */
  readonly removed: readonly string[];
}

/**
 * A response read into what the core needs: its head, and its resources decoded or not (`removed`: SotW
 * Listener/Cluster removals are worked out by the core).
 */
export interface ReadResponse extends Omit<ResponseHead, 'offered'> {
  /** The resources, decoded or not. */
  readonly resources: readonly Decoded[];
  /** Names the server refreshed without a body (TTL heartbeats, delta): kept as held. */
  readonly heartbeats: number;
}

/**
 * A response as deserialized. `withheld` is how many resources it offered when they were more than
 * `limits.maxResourcesPerType`, and `withheldRemoved` how many names it removed (delta `removed_resources` and
 * `removed_resource_names`, together) when they were more than `limits.maxRemovedPerResponse`: then those fields were
 * never decoded, `message` holds none of them, and the response is NACKed (rule L2); 0 otherwise.
 */
export interface Received<Res> {
  readonly message: Res;
  readonly withheld: number;
  readonly withheldRemoved: number;
}

/** The limits a response is held to before anything of it is decoded (see `ClientLimits`). */
export interface ReceiveLimits {
  readonly maxResourcesPerType: number;
  readonly maxRemovedPerResponse: number;
}

/** The field number of `resources` in both `DiscoveryResponse` and `DeltaDiscoveryResponse`. */
const resourcesField = 2;

/**
 * Deserializes a response whose `resources` (field 2) are messages of `entry`. Its top level is read from the wire
 * first (rule L2): one offering more than `limits.maxResourcesPerType` resources has them counted and left
 * undecoded, and so has one whose `removalFields` (delta: `removed_resources` 6 and `removed_resource_names` 8) hold
 * more than `limits.maxRemovedPerResponse` entries together; otherwise each resource is decoded by protobuf-es from
 * exactly its own bytes, and the rest of the message by protobuf-es too. On a well-formed message the result is
 * protobuf-es's own (rule L1, property-tested); a message whose top level is malformed, or whose resource reads past
 * its own bytes (protobuf-es would read on into the next fields), throws, and grpc-js ends the stream.
 */
export function receive<Res extends { resources: Message[] }>(
  bytes: Uint8Array,
  limits: ReceiveLimits,
  schema: DescMessage,
  entry: DescMessage,
  removalFields: readonly number[] = [],
): Received<Res> {
  const malformed = () => new Error('the response is not a well-formed message');
  let body = bytes;
  let withheldRemoved = 0;
  if (removalFields.length > 0) {
    const scans = removalFields.map((field) => scanField(bytes, field) ?? malformed());
    let count = 0;
    for (const scan of scans) {
      if (scan instanceof Error) throw scan;
      count += scan.count;
    }
    if (count > limits.maxRemovedPerResponse) {
      withheldRemoved = count;
      // Removing one field's occurrences leaves the byte count of the other's as scanned.
      for (const [i, field] of removalFields.entries()) body = withoutField(body, field, scans[i] as Scan);
    }
  }
  const scan = scanField(body, resourcesField);
  if (scan === undefined) throw malformed();
  const spans: number[] = [];
  const withheld = scan.count > limits.maxResourcesPerType;
  const rest = withoutField(body, resourcesField, scan, (start, end) => {
    if (!withheld) spans.push(start, end);
  });
  const message = fromBinary(schema, rest) as unknown as Res;
  if (withheld) return { message, withheld: scan.count, withheldRemoved };
  for (let i = 0; i < spans.length; i += 2)
    message.resources.push(fromBinary(entry, body.subarray(spans[i]!, spans[i + 1]!)));
  return { message, withheld: 0, withheldRemoved };
}

/** One protocol variant of the ADS stream. */
export interface Protocol<Req, Res> {
  /** The ADS method. */
  readonly method: DiscoveryMethod;
  /** Serializes a request. */
  serialize(request: Req): Buffer;
  /** Deserializes a response; what it offers or removes past `limits` is counted and left undecoded. */
  deserialize(bytes: Buffer, limits: ReceiveLimits): Received<Res>;
  /**
   * The first request of a type on a new stream, presenting what the client holds (SotW: `version_info` and the
   * names, rule S13; delta: `initial_resource_versions`, rule D6). `node` is set on the stream's first request only.
   */
  initial(type: TypeState, node: Node | undefined): Req;
  /** The request that tells a changed subscription, or undefined when the server already has it. */
  resubscribe(type: TypeState): Req | undefined;
  /**
   * The request that withdraws what was dropped and asked again while the stream had no room for requests
   * ({@link TypeState.takeBounced}), or undefined when nothing was; the next {@link resubscribe} asks it anew, so that
   * the server sends those resources again (rules S7, D3).
   */
  withdraw(type: TypeState): Req | undefined;
  /** What a response says, without decoding its resources. */
  head(response: Res): ResponseHead;
  /** Reads a response; `limits` bound names, per-resource versions and the size of each resource. */
  read(response: Res, limits: ResourceLimits): ReadResponse;
  /** The ACK of a read response. */
  ack(type: TypeState, response: ReadResponse): Req;
  /** The NACK of a response. */
  nack(type: TypeState, response: { readonly nonce: string }, message: string): Req;
}

/** gRPC `INVALID_ARGUMENT`, the code Envoy puts in a NACK's `error_detail`. */
export const nackCode = 3;

/** The SotW `resource_names` of a subscription: `*` for wildcard, then the names. */
export function namesOf(type: TypeState): string[] {
  const sub = type.subscription();
  const names = sub.wildcard ? ['*', ...sub.names] : [...sub.names];
  type.markTold();
  return names;
}

/** A protobuf-es serializer that does not copy the bytes. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
