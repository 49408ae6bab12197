// Rule L2: the bytes of request messages the server has begun to receive and not yet received whole, bounded across
// the server (`limits.maxPartialRequestBytesTotal`) and per HTTP/2 connection
// (`limits.maxPartialRequestBytesPerConnection`). `limits.maxRequestBytes` bounds one message, and grpc-js holds a
// message's bytes until its last one arrives, so without a bound across streams 64 streams announcing 16 MiB each
// hold 1 GiB, and more streams more. This file keeps the accounts; partial-requests.ts reserves from them as each
// call's messages arrive.
//
// Fairness: a message announced over `smallRequestBytes` (64 KiB) may use only `bigShareOf(total)` of the total
// (three quarters), so the last quarter is left to small messages: an Envoy's ACK or first request is admitted while
// big unfinished messages hold all they may. The per-connection cap keeps one connection from taking more than its
// share: an attacker needs 6 connections by default (192 MiB / 32 MiB) to hold everything messages over 64 KiB may
// take, and to refuse small requests split across reads too must also hold the small share with small unfinished
// messages (64 MiB / 64 KiB = 1,024 streams, 11 more connections at 100 streams each): past that, only the connection
// limits (`maxConnectionsPerPeer`) stand in the way, which is why the status page and metrics show this budget.
import { Code, XdsError } from '@xds/api';
import type { ResolvedLimits } from './limits.js';

/** The limits that refuse a message that cannot reserve its bytes. */
export type PartialRequestLimit = 'maxPartialRequestBytesTotal' | 'maxPartialRequestBytesPerConnection';

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
  /** Bytes reserved now: the announced lengths of the messages partly received. */
  readonly reservedBytes: number;
  /** The messages holding them. */
  readonly messages: number;
  /** The connections those messages are on. */
  readonly connections: number;
  /** The most bytes reserved at once since start. */
  readonly peakBytes: number;
  /** Messages refused since start (each ended its stream or call), by the limit that refused them. */
  readonly refused: Readonly<Record<PartialRequestLimit, number>>;
}

/** The server-wide account of partly received request bytes, and each connection's. */
export class PartialRequestBudget {
  readonly #total: number;
  readonly #perConnection: number;
  readonly #onRefused: (limit: PartialRequestLimit) => void;
  readonly #connections = new Map<object, number>();
  #reserved = 0;
  #messages = 0;
  #peak = 0;
  readonly #refused: Record<PartialRequestLimit, number> = {
    maxPartialRequestBytesTotal: 0,
    maxPartialRequestBytesPerConnection: 0,
  };

  /** `onRefused` hears of each refusal (the server counts it as a stream ended by that limit). */
  constructor(limits: ResolvedLimits, onRefused: (limit: PartialRequestLimit) => void = () => {}) {
    this.#total = limits.maxPartialRequestBytesTotal;
    this.#perConnection = limits.maxPartialRequestBytesPerConnection;
    this.#onRefused = onRefused;
  }

  /**
   * Reserves `bytes` (a message's announced length) for a message on `connection`; returns undefined, or, when they
   * do not fit, an XdsError (RESOURCE_EXHAUSTED) naming the limit, having reserved nothing.
   */
  reserve(connection: object, bytes: number): XdsError | undefined {
    const held = this.#connections.get(connection) ?? 0;
    if (held + bytes > this.#perConnection) {
      return this.#refuse(
        'maxPartialRequestBytesPerConnection',
        `request messages partly received on this connection would pass limits.maxPartialRequestBytesPerConnection (${this.#perConnection} bytes): ${held} held, this message announces ${bytes}`,
      );
    }
    const share = bytes > smallRequestBytes ? bigShareOf(this.#total) : this.#total;
    if (this.#reserved + bytes > share) {
      const which =
        share === this.#total
          ? ''
          : ` (messages over ${smallRequestBytes} bytes may hold ${share} of it; the rest is kept for small ones)`;
      return this.#refuse(
        'maxPartialRequestBytesTotal',
        `request messages partly received on the server would pass limits.maxPartialRequestBytesTotal (${this.#total} bytes)${which}: ${this.#reserved} held, this message announces ${bytes}`,
      );
    }
    this.#connections.set(connection, held + bytes);
    this.#reserved += bytes;
    this.#messages++;
    if (this.#reserved > this.#peak) this.#peak = this.#reserved;
    return undefined;
  }

  /** Gives back what {@link reserve} took for one message on `connection` (it completed, or its call ended). */
  release(connection: object, bytes: number): void {
    const held = (this.#connections.get(connection) ?? 0) - bytes;
    if (held > 0) this.#connections.set(connection, held);
    else this.#connections.delete(connection);
    this.#reserved = Math.max(0, this.#reserved - bytes);
    this.#messages = Math.max(0, this.#messages - 1);
  }

  /** The account now, and refusals since start. */
  stats(): PartialRequestStats {
    return {
      limitBytes: this.#total,
      perConnectionLimitBytes: this.#perConnection,
      reservedBytes: this.#reserved,
      messages: this.#messages,
      connections: this.#connections.size,
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
