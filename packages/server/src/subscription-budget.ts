// Rule L2: the names the server's streams hold subscribed, bounded across the server
// (`limits.maxSubscriptionBytesTotal`), per HTTP/2 connection (`limits.maxSubscriptionBytesPerConnection`) and per
// peer address (`limits.maxSubscriptionBytesPerPeer`). Every other bound on names is per request or per stream, so
// streams multiplied them: probe5 P2 took xds-server from 150 MiB to 1.44 GiB with one connection of 40 ADS streams
// (distinct node ids) each naming 100,000 names of 100 bytes. This file keeps the accounts; a stream charges what
// its subscription of a type holds each time that subscription changes (discovery-stream.ts `resubscribe`) and the
// registry gives all of a stream's charge back when it ends, by whatever path.
//
// The unit is bytes of heap, estimated per name as `2 × its bytes + 40` ({@link nameCost}). Measured on an
// in-process server (heap after GC, clients in another process, SotW or delta EDS, 4 streams × 100,000 names):
// names of 20, 60 and 200 bytes held 75, 155 and 435 bytes each: the string, its entry in the subscription's set,
// and its part of the set's interning key (@xds/cache name-set.ts), which is as long as the names. Streams that
// subscribe to the very same names often share one set; each stream is charged all the same (the budget cannot
// know, and an attacker's names are all distinct).
import { Code, XdsError } from '@xds/api';
import { peerKey } from './connection-gate.js';
import type { ResolvedLimits } from './limits.js';

/** The limits that refuse a subscription that does not fit. */
export type SubscriptionLimit =
  | 'maxSubscriptionBytesTotal'
  | 'maxSubscriptionBytesPerConnection'
  | 'maxSubscriptionBytesPerPeer';

/** A refused change: the limit it would pass and the error that ends its stream. */
export interface SubscriptionRefusal {
  readonly limit: SubscriptionLimit;
  readonly error: XdsError;
}

/** Bytes of heap charged per subscribed name on top of its own bytes, counted twice (see the file's comment). */
export const perNameCost = 40;

/** The charge of `count` names whose bytes add up to `bytes`: about the heap a subscription of them holds. */
export function nameCost(count: number, bytes: number): number {
  return 2 * bytes + perNameCost * count;
}

/** What {@link XdsServer.streamStats} reports of subscribed names (`subscriptions`, rule L2). */
export interface SubscriptionStats {
  /** `limits.maxSubscriptionBytesTotal`. */
  readonly limitBytes: number;
  /** `limits.maxSubscriptionBytesPerConnection`. */
  readonly perConnectionLimitBytes: number;
  /** `limits.maxSubscriptionBytesPerPeer`. */
  readonly perPeerLimitBytes: number;
  /** Bytes charged now, over every stream (see {@link nameCost}). */
  readonly bytes: number;
  /** Names (and globs) subscribed now, over every stream and type (`*` not counted). */
  readonly names: number;
  /** Connections with a charge. */
  readonly connections: number;
  /** Peer addresses with a charge. */
  readonly peers: number;
  /** The most bytes charged at once since start. */
  readonly peakBytes: number;
  /** Subscriptions refused since start (each ended its stream), by the limit that refused them. */
  readonly refused: Readonly<Record<SubscriptionLimit, number>>;
}

/** Where a stream's charge is counted: its connection and its peer address (undefined when unknown). */
export interface SubscriptionHolder {
  readonly connection: string | undefined;
  readonly peer: string | undefined;
}

/** The peer address of a grpc-js peer string (`address:port`), as the connection gate keys peers. */
export function peerOf(peer: string): string | undefined {
  const colon = peer.lastIndexOf(':');
  if (colon <= 0 || !/^\d+$/.test(peer.slice(colon + 1))) return undefined;
  return peerKey(peer.slice(0, colon));
}

function add(map: Map<string, number>, key: string | undefined, delta: number): void {
  if (key === undefined) return;
  const next = (map.get(key) ?? 0) + delta;
  if (next > 0) map.set(key, next);
  else map.delete(key);
}

/** The server-wide account of subscribed names, and each connection's and peer's. */
export class SubscriptionBudget {
  readonly #total: number;
  readonly #perConnection: number;
  readonly #perPeer: number;
  readonly #connections = new Map<string, number>();
  readonly #peers = new Map<string, number>();
  #bytes = 0;
  #names = 0;
  #peak = 0;
  readonly #refused: Record<SubscriptionLimit, number> = {
    maxSubscriptionBytesTotal: 0,
    maxSubscriptionBytesPerConnection: 0,
    maxSubscriptionBytesPerPeer: 0,
  };

  constructor(limits: ResolvedLimits) {
    this.#total = limits.maxSubscriptionBytesTotal;
    this.#perConnection = limits.maxSubscriptionBytesPerConnection;
    this.#perPeer = limits.maxSubscriptionBytesPerPeer;
  }

  /**
   * Changes `holder`'s charge by `bytes` and `names` (negative to give back). A growth that does not fit is
   * refused, having charged nothing: returns the limit and the RESOURCE_EXHAUSTED error naming it and `what`
   * grew. A shrink always fits.
   */
  change(
    holder: SubscriptionHolder,
    bytes: number,
    names: number,
    what: string,
  ): SubscriptionRefusal | undefined {
    if (bytes > 0) {
      const onConnection =
        holder.connection === undefined ? 0 : (this.#connections.get(holder.connection) ?? 0);
      if (onConnection + bytes > this.#perConnection)
        return this.#refuse(
          'maxSubscriptionBytesPerConnection',
          this.#perConnection,
          onConnection,
          bytes,
          what,
          'this connection',
        );
      const onPeer = holder.peer === undefined ? 0 : (this.#peers.get(holder.peer) ?? 0);
      if (onPeer + bytes > this.#perPeer)
        return this.#refuse(
          'maxSubscriptionBytesPerPeer',
          this.#perPeer,
          onPeer,
          bytes,
          what,
          `peer ${holder.peer}`,
        );
      if (this.#bytes + bytes > this.#total)
        return this.#refuse('maxSubscriptionBytesTotal', this.#total, this.#bytes, bytes, what, 'the server');
    }
    add(this.#connections, holder.connection, bytes);
    add(this.#peers, holder.peer, bytes);
    this.#bytes = Math.max(0, this.#bytes + bytes);
    this.#names = Math.max(0, this.#names + names);
    if (this.#bytes > this.#peak) this.#peak = this.#bytes;
    return undefined;
  }

  /** The account now, and refusals since start. */
  stats(): SubscriptionStats {
    return {
      limitBytes: this.#total,
      perConnectionLimitBytes: this.#perConnection,
      perPeerLimitBytes: this.#perPeer,
      bytes: this.#bytes,
      names: this.#names,
      connections: this.#connections.size,
      peers: this.#peers.size,
      peakBytes: this.#peak,
      refused: { ...this.#refused },
    };
  }

  #refuse(
    limit: SubscriptionLimit,
    max: number,
    held: number,
    bytes: number,
    what: string,
    whose: string,
  ): SubscriptionRefusal {
    this.#refused[limit]++;
    const error = new XdsError(
      Code.ResourceExhausted,
      `${what} would pass limits.${limit} (${max} bytes): the names subscribed on ${whose} hold ${held}, this change asks ${bytes} more (a name counts 2 × its bytes + ${perNameCost})`,
    );
    return { limit, error };
  }
}
