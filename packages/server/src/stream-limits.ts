// The limits across a server's xDS streams (rule L2), part of `Limits` (limits.ts): how long a stream may wait for
// its first request, how many streams one connection and one node may hold, and how many streams one peer address
// may hold pending (headers and no first request accepted yet), and how many bytes of nodes one peer's streams
// keep. The stream registry (stream-registry.ts) applies them. A pending stream costs the server about 9 KiB of heap (grpc-js's call and decoder, Node's HTTP/2 stream, the
// stream's own state; bench/src/stream-memory.ts --header-only) until `firstRequestTimeoutMs`: one connection holds
// at most `maxStreamsPerConnection` of them and one peer at most `maxPendingStreamsPerPeer` across its connections
// (review R6), so that the 1,024 connections a peer may open cannot hold 100 each.

/** The limits across streams; each field has a default (see {@link defaultStreamLimits}). */
export interface StreamLimits {
  /** Time from a stream's opening to its first request (ms); default 30 s. Then it ends with DEADLINE_EXCEEDED. */
  readonly firstRequestTimeoutMs?: number;
  /**
   * Concurrent xDS streams on one HTTP/2 connection, pending ones included; default 100. The server's HTTP/2
   * SETTINGS_MAX_CONCURRENT_STREAMS is this plus 16 (other calls), and the extra xDS streams end with RESOURCE_EXHAUSTED.
   */
  readonly maxStreamsPerConnection?: number;
  /**
   * Concurrent xDS streams of one node, counted once a stream is authorized; default 100. A node id any client may
   * claim counts per node id and peer address (an IPv4 address, an IPv6 /64), so that claiming another's node id
   * cannot lock it out; a node id `nodeIdentity` verified counts across connections and peers.
   */
  readonly maxStreamsPerNode?: number;
  /**
   * Pending xDS streams (headers sent, first request not yet accepted) from one peer address (an IPv4 address, an
   * IPv6 /64, as `maxConnectionsPerPeer` counts) across its connections; default 1,024. A stream past it ends with
   * RESOURCE_EXHAUSTED naming the limit and the peer; a stream stops counting once its first request is accepted.
   */
  readonly maxPendingStreamsPerPeer?: number;
  /**
   * Bytes (on the wire) of the nodes that the streams of one peer address (as `maxPendingStreamsPerPeer` counts)
   * keep, each distinct node counted once however many of its streams share it; default 128 MiB (1,024 Envoys of
   * 100 KB). A stream keeps its node decoded for its whole life, at about 1.2 times its wire size for string
   * metadata and up to about 15 times for a node made of empty entries (probe7 N4: 208 KB on the wire, 3 MB of
   * heap). A stream whose node does not fit ends with RESOURCE_EXHAUSTED naming the limit and the peer (Q11).
   */
  readonly maxNodeBytesPerPeer?: number;
}

/** The defaults of {@link StreamLimits}. */
export const defaultStreamLimits = {
  firstRequestTimeoutMs: 30_000,
  maxStreamsPerConnection: 100,
  maxStreamsPerNode: 100,
  maxPendingStreamsPerPeer: 1_024,
  maxNodeBytesPerPeer: 128 * 1024 * 1024,
} as const satisfies { readonly [K in keyof StreamLimits]-?: number };
