// Rule L2: the bytes of request messages the server has begun to receive and not yet received whole, bounded across
// the server (`limits.maxPartialRequestBytesTotal`) and per HTTP/2 connection
// (`limits.maxPartialRequestBytesPerConnection`), and in time (`limits.partialRequestTimeoutMs`). `limits.maxRequestBytes`
// bounds one message, and grpc-js holds a message's bytes until its last one arrives, so without a bound across
// streams 64 streams of 16 MiB messages hold 1 GiB, and more streams more. This file keeps the accounts;
// partial-requests.ts reserves from them as each call's messages arrive (what a message has received plus a bounded
// look-ahead, not the length its header announces: a header is free to send) and ends the ones past the deadline.
//
// Fairness: a message announced over `smallRequestBytes` (64 KiB) may use only `bigShareOf(total)` of the total
// (three quarters), so the last quarter is left to small messages: an Envoy's ACK or first request is admitted while
// big unfinished messages hold all they may. The per-connection cap keeps one connection from taking more than its
// share. To hold the big share (192 MiB by default) a client must send about half of it, 96 MiB, over at least 6
// connections (192 MiB / 32 MiB), and keep each message unfinished at most `partialRequestTimeoutMs` (30 s); to
// hold it without end it must keep sending about 96 MiB every 30 s. Each unfinished message reserves at least 16 KiB
// ahead of its bytes, so 100 streams of a connection reserve 1.6 MiB for about 100 headers: 120 connections hold the
// big share that way, for 30 s at a time (probe5 P3 held it with 12 headers and 12 KB, forever). Past that, only the
// connection limits (`maxConnectionsPerPeer`) stand in the way, which is why the status page and metrics show this
// budget.
import { Code, XdsError } from '@xds/api';
import type { ResolvedLimits } from './limits.js';

/** The limits that refuse a message that cannot reserve its bytes. */
export type PartialRequestLimit =
  | 'maxPartialRequestBytesTotal'
  | 'maxPartialRequestBytesPerConnection'
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
  /** `limits.partialRequestTimeoutMs`. */
  readonly timeoutMs: number;
  /** Bytes reserved now: what the messages partly received have received, plus each one's look-ahead. */
  readonly reservedBytes: number;
  /** The messages holding them. */
  readonly messages: number;
  /** The connections those messages are on. */
  readonly connections: number;
  /** The most bytes reserved at once since start. */
  readonly peakBytes: number;
  /**
   * Messages refused since start (each ended its stream or call), by the limit that refused them:
   * `partialRequestTimeoutMs` counts the ones still unfinished at their deadline.
   */
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
    partialRequestTimeoutMs: 0,
  };
  /** `limits.partialRequestTimeoutMs`: how long a message may stay unfinished. */
  readonly partialRequestTimeoutMs: number;

  /** `onRefused` hears of each refusal (the server counts it as a stream ended by that limit). */
  constructor(limits: ResolvedLimits, onRefused: (limit: PartialRequestLimit) => void = () => {}) {
    this.#total = limits.maxPartialRequestBytesTotal;
    this.#perConnection = limits.maxPartialRequestBytesPerConnection;
    this.#onRefused = onRefused;
    this.partialRequestTimeoutMs = limits.partialRequestTimeoutMs;
  }

  /**
   * Reserves `bytes` more for a message on `connection` that announced `announced` bytes (its share is chosen by
   * that length); `first` when the message is new (it counts in `messages`). Returns undefined, or, when they do not
   * fit, an XdsError (RESOURCE_EXHAUSTED) naming the limit, having reserved nothing.
   */
  reserve(connection: object, bytes: number, announced: number, first: boolean): XdsError | undefined {
    const held = this.#connections.get(connection) ?? 0;
    if (held + bytes > this.#perConnection) {
      return this.#refuse(
        'maxPartialRequestBytesPerConnection',
        `request messages partly received on this connection would pass limits.maxPartialRequestBytesPerConnection (${this.#perConnection} bytes): ${held} held, this message (announcing ${announced}) asks ${bytes} more`,
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
        `request messages partly received on the server would pass limits.maxPartialRequestBytesTotal (${this.#total} bytes)${which}: ${this.#reserved} held, this message (announcing ${announced}) asks ${bytes} more`,
      );
    }
    this.#connections.set(connection, held + bytes);
    this.#reserved += bytes;
    if (first) this.#messages++;
    if (this.#reserved > this.#peak) this.#peak = this.#reserved;
    return undefined;
  }

  /**
   * Gives back `bytes` that {@link reserve} took for a message on `connection`; `last` when the message is done
   * with (it completed, or its call ended).
   */
  release(connection: object, bytes: number, last: boolean): void {
    const held = (this.#connections.get(connection) ?? 0) - bytes;
    if (held > 0) this.#connections.set(connection, held);
    else this.#connections.delete(connection);
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
      timeoutMs: this.partialRequestTimeoutMs,
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
