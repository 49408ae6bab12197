import type { Node, TypeUrl } from '@xds/api';
import type { StreamHandle } from './stream-context.js';
import type { SyncStatus } from './type-state.js';

/** What one connected node holds of one type, as the server knows it. */
export interface TypeStatus {
  /** The names subscribed explicitly. */
  readonly subscribed: readonly string[];
  /** True when the type is subscribed by wildcard. */
  readonly wildcard: boolean;
  /** The version of the latest response. */
  readonly sentVersion: string | undefined;
  /** The nonce of the latest response. */
  readonly sentNonce: string | undefined;
  /** The last version the client accepted. */
  readonly ackedVersion: string | undefined;
  /** The nonce the client answered last (by ACK or NACK); equal to `sentNonce` unless STALE. */
  readonly answeredNonce: string | undefined;
  /** The client's latest rejection, until it accepts a response again. */
  readonly nack: { readonly version: string; readonly message: string } | undefined;
  /** SYNCED, STALE (sent, not answered yet), NACKED or NOT_SENT. */
  readonly status: SyncStatus;
  /** When the latest response went out (ms since the epoch). */
  readonly lastSentAt: number | undefined;
  /** When the client last accepted a response (ms since the epoch). */
  readonly lastAckAt: number | undefined;
  /** Responses written for this type. */
  readonly responses: number;
}

/** One connected node. */
export interface ClientInfo {
  readonly nodeId: string;
  /** The node as its first request described it. */
  readonly node: Node;
  /** Its open streams. */
  readonly streams: number;
  /** Stream ids, for the events that name them. */
  readonly streamIds: readonly number[];
  /** Per type; a type on several streams shows the one that wrote last. */
  readonly types: Partial<Record<TypeUrl, TypeStatus>>;
}

/** Groups open streams by node into {@link ClientInfo}s, sorted by node id. */
export function describeClients(streams: Iterable<StreamHandle>): ClientInfo[] {
  const byNode = new Map<
    string,
    { node: Node; ids: number[]; types: Partial<Record<TypeUrl, TypeStatus>>; at: Map<TypeUrl, number> }
  >();
  for (const stream of streams) {
    if (stream.node === undefined) continue;
    let entry = byNode.get(stream.nodeId);
    if (entry === undefined) {
      entry = { node: stream.node, ids: [], types: {}, at: new Map() };
      byNode.set(stream.nodeId, entry);
    }
    entry.ids.push(stream.id);
    for (const [typeUrl, state] of stream.types) {
      const at = state.sentAt ?? 0;
      if ((entry.at.get(typeUrl) ?? -1) > at) continue;
      entry.at.set(typeUrl, at);
      entry.types[typeUrl] = {
        subscribed: [...state.watch.subscribed],
        wildcard: state.watch.wildcard,
        sentVersion: state.sentVersion,
        sentNonce: state.sentNonce,
        ackedVersion: state.ackedVersion,
        answeredNonce: state.answeredNonce,
        nack:
          state.nack === undefined ? undefined : { version: state.nack.version, message: state.nack.message },
        status: state.status,
        lastSentAt: state.sentAt,
        lastAckAt: state.ackedAt,
        responses: state.responses,
      };
    }
  }
  return [...byNode]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([nodeId, e]) => ({
      nodeId,
      node: e.node,
      streams: e.ids.length,
      streamIds: e.ids,
      types: e.types,
    }));
}
