/**
 * Writes one stream's requests with backpressure (rule L2 from the client's side; probe5 P7). A server that stops
 * reading fills the HTTP/2 window, and every request written after that waits in the client's memory: a relay whose
 * downstream clients churn their subscriptions would queue each change whole. So a request is written only while the
 * call's buffer drains (grpc-js `write()` has not asked for `drain`) and the bytes written but not yet flushed stay
 * under `limits.maxQueuedRequestBytes`. Otherwise the type is marked pending, and what it owes the server is built
 * from its state when the call drains: one request per kind and type, however many changes came meanwhile.
 *
 * What coalescing keeps (rules S4, S5, D8): only the latest nonce of a type can be answered (an answer to an older one
 * is stale and ignored), so only the latest ACK or NACK is kept, with its `error_detail`. A SotW request carries the
 * whole subscription, so the latest is built at drain; a delta change is the net subscribe/unsubscribe since the
 * stream was last told, which `TypeState` already tracks. A stream's first request of a type (with the node on the
 * stream's first) is built at drain from what the client holds then (rules S13, D6), and not at all if no watch
 * wants the type any more (an empty first request would mean the wildcard, rules S9, D7). A name dropped and asked
 * again while requests waited is withdrawn, then asked anew: its resource was forgotten when it was dropped, and a
 * server sends a name again only when it is newly asked (rules S7, D3).
 *
 * If the call does not drain for `limits.drainTimeoutMs`, the stream is ended with an error naming the limit; the
 * client reconnects and presents its state on the new stream (rules S13, D6, X3).
 */
import type * as grpc from '@grpc/grpc-js';
import type { Node } from '@xds/api';
import type { ResolvedClientLimits } from './options.js';
import type { Protocol, ReadResponse } from './protocol.js';
import type { TypeState } from './type-state.js';
import type { XdsClient } from './xds-client.js';

/** True when no watch wants anything of the type. */
function isEmpty(type: TypeState): boolean {
  const sub = type.subscription();
  return !sub.wildcard && sub.names.size === 0;
}

/** The latest answer owed to a type's latest response. */
type Verdict =
  | { readonly kind: 'ack'; readonly response: ReadResponse }
  | { readonly kind: 'nack'; readonly nonce: string; readonly text: string };

/** What a type owes the server, built when the call drains. */
interface Pending {
  initial: boolean;
  verdict: Verdict | undefined;
  resubscribe: boolean;
}

/** The requests of the current stream: what waits for room, and how many were written or coalesced. */
export interface RequestBacklog {
  /** Bytes of requests written to the stream and not yet taken by the connection. */
  readonly queuedBytes: number;
  /** Types with a request owed that waits for the stream to drain (0 when nothing waits). */
  readonly waitingTypes: number;
  /** Requests written on the stream so far. */
  readonly written: number;
  /** Requests that were not written because a later one of their type took their place while the stream was full. */
  readonly coalesced: number;
}

/** What a sender needs of its client. */
export interface SenderContext {
  readonly wire: Protocol<unknown, unknown>;
  readonly limits: ResolvedClientLimits;
  /** The node, for the stream's first request only (rule S2); undefined after it. */
  nodeDue(): Node | undefined;
  /** The call did not drain for `limits.drainTimeoutMs`: end the stream with `reason`. */
  stalled(reason: string): void;
}

/** Writes the requests of one stream, coalescing what the server has not read yet. */
export class RequestSender {
  readonly #call: grpc.ClientDuplexStream<Buffer, unknown>;
  readonly #ctx: SenderContext;
  readonly #pending = new Map<TypeState, Pending>();
  #queuedBytes = 0;
  #written = 0;
  #coalesced = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(call: grpc.ClientDuplexStream<Buffer, unknown>, ctx: SenderContext) {
    this.#call = call;
    this.#ctx = ctx;
    call.on('drain', () => this.#flush());
  }

  /** What the sender holds and has done, for {@link XdsClient.requestBacklog}. */
  get backlog(): RequestBacklog {
    return {
      queuedBytes: this.#queuedBytes,
      waitingTypes: this.#pending.size,
      written: this.#written,
      coalesced: this.#coalesced,
    };
  }

  /** The stream's first request of a type, presenting what the client holds. */
  initial(type: TypeState): void {
    this.#owe(type, (p) => {
      p.initial = true;
    });
  }

  /** A changed subscription of a type (nothing is written when the server already has it). */
  resubscribe(type: TypeState): void {
    this.#owe(type, (p) => {
      p.resubscribe = true;
    });
  }

  /** The ACK of a type's response. */
  ack(type: TypeState, response: ReadResponse): void {
    // Only the version and nonce are answered: the decoded resources are not kept with it.
    const kept: ReadResponse = { ...response, resources: [], removed: [] };
    this.#owe(type, (p) => {
      p.verdict = { kind: 'ack', response: kept };
    });
  }

  /** The NACK of a type's response, with its (bounded) error text. */
  nack(type: TypeState, nonce: string, text: string): void {
    this.#owe(type, (p) => {
      p.verdict = { kind: 'nack', nonce, text };
    });
  }

  /** The stream ended: nothing more is written. */
  close(): void {
    this.#closed = true;
    this.#pending.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #owe(type: TypeState, mark: (pending: Pending) => void): void {
    if (this.#closed) return;
    let pending = this.#pending.get(type);
    if (pending === undefined) {
      pending = { initial: false, verdict: undefined, resubscribe: false };
      this.#pending.set(type, pending);
    } else {
      this.#coalesced++;
    }
    mark(pending);
    this.#flush();
  }

  #blocked(): boolean {
    return this.#call.writableNeedDrain || this.#queuedBytes >= this.#ctx.limits.maxQueuedRequestBytes;
  }

  /** Writes what is owed, type by type, until the call asks to wait. */
  #flush(): void {
    if (this.#closed) return;
    for (const [type, pending] of this.#pending) {
      // A stream never told the type has nothing to hear while no watch wants it: an empty first request would
      // mean the wildcard (rules S9, D7).
      if (!type.told && isEmpty(type)) pending.initial = pending.resubscribe = false;
      if (pending.initial) {
        if (this.#blocked()) break;
        pending.initial = false;
        this.#write(this.#ctx.wire.initial(type, this.#ctx.nodeDue()));
      }
      const verdict = pending.verdict;
      if (verdict !== undefined) {
        if (this.#blocked()) break;
        pending.verdict = undefined;
        this.#write(
          verdict.kind === 'ack'
            ? this.#ctx.wire.ack(type, verdict.response)
            : this.#ctx.wire.nack(type, { nonce: verdict.nonce }, verdict.text),
        );
      }
      if (pending.resubscribe) {
        if (this.#blocked()) break;
        if (!type.told) {
          // Built from the state now: on a stream not yet told the type, the first request tells it all.
          pending.resubscribe = false;
          this.#write(this.#ctx.wire.initial(type, this.#ctx.nodeDue()));
        } else {
          // Names dropped and asked again meanwhile are withdrawn first, then asked anew (the resubscribe stays
          // owed if the call fills in between).
          const withdraw = this.#ctx.wire.withdraw(type);
          if (withdraw !== undefined) {
            this.#write(withdraw);
            if (this.#blocked()) break;
          }
          pending.resubscribe = false;
          const request = this.#ctx.wire.resubscribe(type);
          if (request !== undefined) this.#write(request);
        }
      }
      this.#pending.delete(type);
    }
    this.#arm();
  }

  #write(request: unknown): void {
    const bytes = this.#ctx.wire.serialize(request);
    const size = bytes.byteLength;
    this.#queuedBytes += size;
    this.#written++;
    this.#call.write(bytes, () => {
      this.#queuedBytes -= size;
      // Progress: the drain timer starts again, and what waits is written if there is room now.
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#flush();
    });
  }

  /** While something waits for the call to drain, the stream has `limits.drainTimeoutMs` to make progress. */
  #arm(): void {
    if (this.#pending.size === 0) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (this.#timer !== undefined) return;
    const { drainTimeoutMs, maxQueuedRequestBytes } = this.#ctx.limits;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed || this.#pending.size === 0) return;
      this.#ctx.stalled(
        `the server read none of the client's requests for limits.drainTimeoutMs=${drainTimeoutMs} ms ` +
          `(${this.#queuedBytes} bytes written and not flushed, limits.maxQueuedRequestBytes=` +
          `${maxQueuedRequestBytes}; ${this.#pending.size} types waiting); the stream was ended`,
      );
    }, drainTimeoutMs);
    this.#timer.unref();
  }
}
