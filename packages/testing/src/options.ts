import type { MessageInitShape } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import type { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema, NodeSchema } from '@xds/api';
import type { Protocol } from './codec.js';
import type { ReceivedResponse } from './received.js';

/** A partial `envoy.config.core.v3.Node`, as protobuf-es accepts it in `create(NodeSchema, init)`. */
export type NodeInit = MessageInitShape<typeof NodeSchema>;

/** A SotW request to send as it is: a `DiscoveryRequest` or its protobuf-es init. */
export type DiscoveryRequestInit = MessageInitShape<typeof DiscoveryRequestSchema>;

/** A delta request to send as it is: a `DeltaDiscoveryRequest` or its protobuf-es init. */
export type DeltaDiscoveryRequestInit = MessageInitShape<typeof DeltaDiscoveryRequestSchema>;

/** How an {@link XdsTestClient} connects and behaves. */
export interface XdsTestClientOptions {
  /** The server, `host:port` (for example `127.0.0.1:18000`). */
  readonly address: string;
  /** The node: a string is the node id; an object is a partial `envoy.config.core.v3.Node`. */
  readonly node: string | NodeInit;
  /** State of the world (`'sotw'`, the default) or incremental (`'delta'`). */
  readonly protocol?: Protocol;
  /**
   * True (the default): one aggregated (ADS) stream carries every type. False: one stream per type, on the
   * type's own service (`ClusterDiscoveryService/StreamClusters`, …), opened at its first request.
   */
  readonly ads?: boolean;
  /**
   * Decides, with `autoAck`, whether to NACK a response: return the `error_detail` message to NACK it, or
   * undefined to ACK it. By default every response that decoded cleanly is ACKed. A response with decoding
   * errors (see `ReceivedResponse.errors`) is NACKed before this is asked.
   */
  readonly nack?: (response: ReceivedResponse) => string | undefined;
  /**
   * True (the default): answer every response of a subscribed type at once. False: leave responses unanswered
   * until the test calls `ack()` or `nack()`.
   */
  readonly autoAck?: boolean;
  /**
   * The default deadline of `next()` and `waitFor()`, in milliseconds; 30,000 by default (it only matters when what
   * is awaited never comes, and a loaded CI machine can take seconds to deliver what comes).
   */
  readonly timeoutMs?: number;
  /** Send the node on every request; by default only on the first request of each stream, like Envoy. */
  readonly sendNodeOnEveryRequest?: boolean;
  /** gRPC channel options. */
  readonly channelOptions?: grpc.ChannelOptions;
  /** Channel credentials; insecure by default. */
  readonly credentials?: grpc.ChannelCredentials;
}

/** Options of {@link XdsTestClient.send}. */
export interface SendOptions {
  /**
   * The stream to send on when the client has one stream per type; by default the request's `type_url`. Needed
   * to send a request with an empty or foreign `type_url` on a per-type stream. Ignored on ADS.
   */
  readonly typeUrl?: string;
}
