// A stream's node is read from its first request only (rules S2 and L2). Per the xDS protocol only the first
// request of a stream is sure to carry `node`, and the server uses that one; but a client may send it in every
// request (an Envoy does unless `set_node_on_first_message_only`), and decoding it whole each time costs a stream
// of 1,000 requests with a 1 MiB node about a thousand full decodes. So the discovery streams' deserializers leave
// `node` undecoded (the wire pass of request-wire.ts bounds its bytes and reads only its `id`, which a later
// request is checked by), and the stream decodes it once, from its first request, held to the node limits
// (`maxNodeListEntries`, `maxNodeMetadataDepth`) as the wire pass holds every other request's node. A later
// request carries a `node` with its id only; its other fields are skipped unread. Streams whose first requests carry
// the same node bytes keep one decoded node between them (shared-nodes.ts, finding Q11).
import { create, fromBinary } from '@bufbuild/protobuf';
import { NodeSchema } from '@xds/api';
import { checkMessage } from './canonical-wire.js';
import { UndecodableRequest } from './codec.js';
import type { ResolvedLimits } from './limits.js';
import { nodeShape, refusal } from './request-wire.js';
import type { SharedNodes } from './shared-nodes.js';

/** The undecoded node of a request: its bytes (every occurrence, in order, as one body) and its id. */
export interface WireNode {
  /** The bytes of the node's fields, which protobuf-es would merge into one Node. */
  readonly body: Uint8Array;
  /** `node.id` as protobuf-es would decode it (the last one given). */
  readonly id: string;
  /** The request's message type, for errors. */
  readonly typeName: string;
}

/** The undecoded node of each request decoded with the node left on the wire (until its stream takes it). */
const wireNodes = new WeakMap<object, WireNode>();

/** Gives a decoded request its node as the wire pass left it: a `node` with only its id, the bytes kept aside. */
export function keepWireNode(request: object, node: WireNode): void {
  (request as { node?: unknown }).node = create(NodeSchema, { id: node.id });
  wireNodes.set(request, node);
}

/** protobuf-es's bound on nesting, one level down: the node is a field of its request. */
const nested = { recursionLimit: 99 };

/**
 * The first request of a stream with its node decoded whole, held to the node limits (RESOURCE_EXHAUSTED or
 * INVALID_ARGUMENT naming the limit, INVALID_ARGUMENT when it does not parse). A request without a node on the
 * wire, or an undecodable one, is returned as it is. With `nodes`, the node is the one held there for the same
 * bytes (shared-nodes.ts, finding Q11): the stream holds it, and gives it back when it ends.
 */
export function withFirstNode<R extends object>(
  request: R | UndecodableRequest,
  limits: ResolvedLimits,
  nodes?: SharedNodes,
): R | UndecodableRequest {
  if (request instanceof UndecodableRequest) return request;
  const wire = wireNodes.get(request);
  if (wire === undefined) return request;
  wireNodes.delete(request);
  const body = wire.body;
  try {
    checkMessage(body, 0, body.length, NodeSchema, 1, false, nodeShape(limits));
  } catch (error) {
    return refusal(error, wire.typeName);
  }
  try {
    const node = fromBinary(NodeSchema, body, nested);
    (request as { node?: unknown }).node = nodes === undefined ? node : nodes.take(body, node);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new UndecodableRequest(`${wire.typeName} does not parse: ${reason}`);
  }
  return request;
}

/** A later request of a stream: its node stays as the wire pass left it (its id only), its bytes let go. */
export function withLaterNode<R extends object>(request: R | UndecodableRequest): R | UndecodableRequest {
  if (!(request instanceof UndecodableRequest)) wireNodes.delete(request);
  return request;
}
