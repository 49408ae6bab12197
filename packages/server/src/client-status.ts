/**
 * What `XdsServer.clients()` and `clientOf()` report (rule S5): each connected node's streams and, per type, its
 * subscription, versions, nonces and sync status. Copying subscribed names costs one string per name a client
 * holds (a client may hold 100,000 per stream, rule L2), so callers that do not print them ask for fewer
 * (`ClientsOptions.maxSubscribedNames`) and the count says how many there are.
 */
import type { Node, TypeUrl } from '@xds/api';
import type { StreamHandle } from './stream-context.js';
import type { SyncStatus } from './type-state.js';

/** What one connected node holds of one type, as the server knows it. */
export interface TypeStatus {
  /** The names subscribed explicitly (at most `ClientsOptions.maxSubscribedNames` of them). */
  readonly subscribed: readonly string[];
  /** How many names are subscribed explicitly (more than `subscribed` holds when it was capped). */
  readonly subscribedCount: number;
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

/** Options of `XdsServer.clients()` and `clientOf()`. */
export interface ClientsOptions {
  /**
   * Subscribed names copied per node and type (`TypeStatus.subscribed`); default all. `subscribedCount` always
   * counts them all: a view that only counts asks for 0, one that prints them caps them.
   */
  readonly maxSubscribedNames?: number;
}

/** The first `max` names of a subscription, copied. */
function firstNames(names: ReadonlySet<string>, max: number): string[] {
  if (max >= names.size) return [...names];
  const out: string[] = [];
  if (max <= 0) return out;
  for (const name of names) {
    out.push(name);
    if (out.length >= max) break;
  }
  return out;
}

/** Groups open streams by node into {@link ClientInfo}s, sorted by node id. */
export function describeClients(streams: Iterable<StreamHandle>, options: ClientsOptions = {}): ClientInfo[] {
  const maxNames = options.maxSubscribedNames ?? Number.POSITIVE_INFINITY;
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
        subscribed: firstNames(state.watch.subscribed, maxNames),
        subscribedCount: state.watch.subscribed.size,
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
