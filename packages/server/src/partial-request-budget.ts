// Rule L2: the bytes of request messages the server has begun to receive and not yet received whole, bounded across
// the server (`limits.maxPartialRequestBytesTotal`), per peer address (`limits.maxPartialRequestBytesPerPeer`) and
// per HTTP/2 connection (`limits.maxPartialRequestBytesPerConnection`), and in time
// (`limits.partialRequestTimeoutMs`). `limits.maxRequestBytes` bounds one message, and grpc-js holds a message's
// bytes until its last one arrives, so without a bound across streams 64 streams of 16 MiB messages hold 1 GiB,
// and more streams more. This file keeps the accounts; partial-requests.ts reserves from them as each call's
// messages arrive (what a message has received plus a bounded look-ahead, not the length its header announces: a
// header is free to send) and ends the ones past the deadline.
//
// Fairness: a message announced over `smallRequestBytes` (64 KiB) may use only `bigShareOf(total)` of the total
// (three quarters), so the last quarter is left to small messages: an Envoy's ACK or first request is admitted while
// big unfinished messages hold all they may. The per-connection cap keeps one connection from taking more than its
// share. To hold the big share (192 MiB by default) a client must send about half of it, 96 MiB, over at least 6
// connections (192 MiB / 32 MiB), and keep each message unfinished at most `partialRequestTimeoutMs` (30 s); to
// hold it without end it must keep sending about 96 MiB every 30 s. Each unfinished message reserves at least 16 KiB
// ahead of its bytes, so 100 streams of a connection reserve 1.6 MiB for about 100 headers: 120 connections of one
// peer held the big share that way, for 30 s at a time, and refused every other peer's big requests (probe5 P3 held
// it with 12 headers and 12 KB, forever). So one peer address (connection-gate.ts's key: 127.0.0.2 and 127.0.0.3 are
// two peers) may hold at most `maxPartialRequestBytesPerPeer` (64 MiB, a third of the big share) across its
// connections, small messages included: while that plus one `maxRequestBytes` message fits in the big share, one
// peer's unfinished messages cannot refuse another peer's request; it takes three peer addresses to hold the big
// share. The status page and metrics show this budget.
import { Code, XdsError } from '@xds/api';
import type { ResolvedLimits } from './limits.js';

/** The limits that refuse a message that cannot reserve its bytes. */
export type PartialRequestLimit =
  | 'maxPartialRequestBytesTotal'
  | 'maxPartialRequestBytesPerConnection'
  | 'maxPartialRequestBytesPerPeer'
  | 'partialRequestTimeoutMs';

/** The largest message counted as small: it may use the whole total; larger ones only {@link bigShareOf} it. */
export const smallRequestBytes = 64 * 1024;

/** The part of the total that messages over {@link smallRequestBytes} may hold at once: three quarters. */
export function bigShareOf(total: number): number {
  return total - Math.floor(total / 4);
}

/** What {@link XdsServer.partialRequestStats} reports (rule L2). */
export interface PartialRequestStats {
  /** `limits.maxPartialRequestBytesTotal`. */
  readonly limitBytes: number;
  /** `limits.maxPartialRequestBytesPerConnection`. */
  readonly perConnectionLimitBytes: number;
  /** `limits.maxPartialRequestBytesPerPeer`. */
  readonly perPeerLimitBytes: number;
  /** `limits.partialRequestTimeoutMs`. */
  readonly timeoutMs: number;
  /** Bytes reserved now: what the messages partly received have received, plus each one's look-ahead. */
  readonly reservedBytes: number;
  /** The messages holding them. */
  readonly messages: number;
  /** The connections those messages are on. */
  readonly connections: number;
  /** The peer addresses those connections come from. */
  readonly peers: number;
  /** The most bytes reserved at once since start. */
  readonly peakBytes: number;
  /**
   * Messages refused since start (each ended its stream or call), by the limit that refused them:
   * `partialRequestTimeoutMs` counts the ones still unfinished at their deadline.
   */
  readonly refused: Readonly<Record<PartialRequestLimit, number>>;
}

/**
 * Who an unfinished message's bytes are reserved for: its HTTP/2 connection, and the connection's peer address
 * (connection-gate.ts's `peerKey`; undefined when the socket has none, and then only the connection and the
 * server count it).
 */
export interface PartialRequestOwner {
  readonly connection: object;
  readonly peer: string | undefined;
}

/** The server-wide account of partly received request bytes, and each peer address's and connection's. */
export class PartialRequestBudget {
  readonly #total: number;
  readonly #perConnection: number;
  readonly #perPeer: number;
  readonly #onRefused: (limit: PartialRequestLimit) => void;
  readonly #connections = new Map<object, number>();
  readonly #peers = new Map<string, number>();
  #reserved = 0;
  #messages = 0;
  #peak = 0;
  readonly #refused: Record<PartialRequestLimit, number> = {
    maxPartialRequestBytesTotal: 0,
    maxPartialRequestBytesPerConnection: 0,
    maxPartialRequestBytesPerPeer: 0,
    partialRequestTimeoutMs: 0,
  };
  /** `limits.partialRequestTimeoutMs`: how long a message may stay unfinished. */
  readonly partialRequestTimeoutMs: number;

  /** `onRefused` hears of each refusal (the server counts it as a stream ended by that limit). */
  constructor(limits: ResolvedLimits, onRefused: (limit: PartialRequestLimit) => void = () => {}) {
    this.#total = limits.maxPartialRequestBytesTotal;
    this.#perConnection = limits.maxPartialRequestBytesPerConnection;
    this.#perPeer = limits.maxPartialRequestBytesPerPeer;
    this.#onRefused = onRefused;
    this.partialRequestTimeoutMs = limits.partialRequestTimeoutMs;
  }

  /**
   * Reserves `bytes` more for a message of `owner` that announced `announced` bytes (its share is chosen by that
   * length); `first` when the message is new (it counts in `messages`). Returns undefined, or, when they do not
   * fit, an XdsError (RESOURCE_EXHAUSTED) naming the limit, having reserved nothing.
   */
  reserve(
    owner: PartialRequestOwner,
    bytes: number,
    announced: number,
    first: boolean,
  ): XdsError | undefined {
    const { connection, peer } = owner;
    const held = this.#connections.get(connection) ?? 0;
    const asks = `this message (announcing ${announced}) asks ${bytes} more`;
    if (held + bytes > this.#perConnection) {
      return this.#refuse(
        'maxPartialRequestBytesPerConnection',
        `request messages partly received on this connection would pass limits.maxPartialRequestBytesPerConnection (${this.#perConnection} bytes): ${held} held, ${asks}`,
      );
    }
    const fromPeer = peer === undefined ? 0 : (this.#peers.get(peer) ?? 0);
    if (peer !== undefined && fromPeer + bytes > this.#perPeer) {
      return this.#refuse(
        'maxPartialRequestBytesPerPeer',
        `request messages partly received from peer ${peer} would pass limits.maxPartialRequestBytesPerPeer (${this.#perPeer} bytes): ${fromPeer} held across its connections, ${asks}`,
      );
    }
    const share = announced > smallRequestBytes ? bigShareOf(this.#total) : this.#total;
    if (this.#reserved + bytes > share) {
      const which =
        share === this.#total
          ? ''
          : ` (messages over ${smallRequestBytes} bytes may hold ${share} of it; the rest is kept for small ones)`;
      return this.#refuse(
        'maxPartialRequestBytesTotal',
        `request messages partly received on the server would pass limits.maxPartialRequestBytesTotal (${this.#total} bytes)${which}: ${this.#reserved} held, ${asks}`,
      );
    }
    this.#connections.set(connection, held + bytes);
    if (peer !== undefined) this.#peers.set(peer, fromPeer + bytes);
    this.#reserved += bytes;
    if (first) this.#messages++;
    if (this.#reserved > this.#peak) this.#peak = this.#reserved;
    return undefined;
  }

  /**
   * Gives back `bytes` that {@link reserve} took for a message of `owner`; `last` when the message is done with (it
   * completed, or its call ended).
   */
  release(owner: PartialRequestOwner, bytes: number, last: boolean): void {
    const { connection, peer } = owner;
    const held = (this.#connections.get(connection) ?? 0) - bytes;
    if (held > 0) this.#connections.set(connection, held);
    else this.#connections.delete(connection);
    if (peer !== undefined) {
      const fromPeer = (this.#peers.get(peer) ?? 0) - bytes;
      if (fromPeer > 0) this.#peers.set(peer, fromPeer);
      else this.#peers.delete(peer);
    }
    this.#reserved = Math.max(0, this.#reserved - bytes);
    if (last) this.#messages = Math.max(0, this.#messages - 1);
  }

  /**
   * A message of `announced` bytes, `received` of them in, is still unfinished `partialRequestTimeoutMs` after its
   * first bytes: counts it, and returns the DEADLINE_EXCEEDED error naming the limit that ends its call.
   */
  expired(announced: number, received: number): XdsError {
    this.#refused.partialRequestTimeoutMs++;
    this.#onRefused('partialRequestTimeoutMs');
    return new XdsError(
      Code.DeadlineExceeded,
      `a request message stayed unfinished past limits.partialRequestTimeoutMs (${this.partialRequestTimeoutMs} ms): ${received} of its ${announced} bytes received`,
    );
  }

  /** The account now, and refusals since start. */
  stats(): PartialRequestStats {
    return {
      limitBytes: this.#total,
      perConnectionLimitBytes: this.#perConnection,
      perPeerLimitBytes: this.#perPeer,
      timeoutMs: this.partialRequestTimeoutMs,
      reservedBytes: this.#reserved,
      messages: this.#messages,
      connections: this.#connections.size,
      peers: this.#peers.size,
      peakBytes: this.#peak,
      refused: { ...this.#refused },
    };
  }

  #refuse(limit: PartialRequestLimit, message: string): XdsError {
    this.#refused[limit]++;
    this.#onRefused(limit);
    return new XdsError(Code.ResourceExhausted, message);
  }
}
