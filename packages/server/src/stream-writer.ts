// The write side of one discovery stream: which types are due a response, the push order among them, and rule S12
// (at most one response written and not yet flushed per stream, counted in bytes against the server's write
// budget). A write's callback comes once its bytes went to the socket (direct-write.ts, or grpc-js's own path); its object-mode stream would
// otherwise take 16 more. A type due meanwhile stays in its watch, which coalesces newer snapshots, and is taken
// only after the flush: a slow client gets the latest state, never a backlog, and holds one response's bytes. A
// client that does not read within `limits.drainTimeoutMs` has its stream reset (rules S12, L2).
import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import type { TypeUrl } from '@xds/api';
import { joinResponse } from './codec.js';
import { type ResponseParts, type ResponseWrite, responseWriter } from './direct-write.js';
import { scheduleDrain } from './drain-queue.js';
import { resetCall } from './reset-call.js';
import type { StreamContext } from './stream-context.js';
import type { InFlightWrite, WriteOwner } from './write-budget.js';

/** What the writer needs of its stream. */
export interface WriterHost {
  readonly id: number;
  readonly nodeId: string;
  readonly ended: boolean;
  /** Takes the response of a type from its watch, if it has one, and writes it with {@link StreamWriter.write}. */
  respond(typeUrl: TypeUrl): void;
  /** Ends the stream with the status of an error. */
  fail(error: unknown): void;
  /** Ends the stream's bookkeeping with a status the client cannot be sent (its call is reset instead). */
  abandon(code: number, reason: string): void;
}

/** Writes a stream's responses in push order, one unflushed at a time (rule S12), within the write budget. */
export class StreamWriter implements WriteOwner {
  readonly #ctx: StreamContext;
  readonly #call: ServerDuplexStream<unknown, Uint8Array>;
  readonly #host: WriterHost;
  /** Straight to the call's HTTP/2 stream when grpc-js allows, else through the call (direct-write.ts). */
  readonly #write: ResponseWrite;
  readonly #ready = new Set<TypeUrl>();
  #scheduled = false;
  /** The response written and not flushed yet (rule S12: at most one). */
  #unflushed: InFlightWrite | undefined;
  /** True while an `onResponse` hook of the last response is pending: the next response waits for it. */
  #held = false;
  /** True while the last write has not been flushed (kept after the stream ended, unlike {@link #unflushed}). */
  #lastWritePending = false;
  /** grpc-js's write callback; it closes over the writer only, never over a response (rule S12). */
  readonly #onFlushed = (error?: Error | null) => this.#flushed(error);

  constructor(ctx: StreamContext, call: ServerDuplexStream<unknown, Uint8Array>, host: WriterHost) {
    this.#ctx = ctx;
    this.#call = call;
    this.#host = host;
    this.#write = responseWriter(call, joinResponse);
  }

  /** True once the stream ended (the write budget skips it). */
  get ended(): boolean {
    return this.#host.ended;
  }

  /** True while the last write has not been flushed, even after the stream ended. */
  get lastWritePending(): boolean {
    return this.#lastWritePending;
  }

  /**
   * A watch may have a response: queue its type and drain soon (after the unflushed write's flush, if any). Bound
   * to the writer, one function for every watch of the stream (their `onReady`).
   */
  readonly due = (watch: { readonly typeUrl: TypeUrl }): void => {
    this.#ready.add(watch.typeUrl);
    if (this.#scheduled || this.#unflushed !== undefined || this.#held || this.#host.ended) return;
    this.#scheduled = true;
    scheduleDrain(this);
  };

  /** The scheduled drain (see {@link scheduleDrain}). */
  drainScheduled(): void {
    this.#scheduled = false;
    this.#drain();
  }

  /** The write budget's call: this stream's turn to write. */
  resume(): void {
    this.#drain();
  }

  /** Writes an encoded response; until it is flushed, the stream writes nothing else (rule S12). */
  write(response: ResponseParts): void {
    this.#unflushed = this.#ctx.budget.charge(response.length, this);
    this.#lastWritePending = true;
    this.#write(response, this.#onFlushed);
  }

  /**
   * The next response waits for `pending` (an `onResponse` hook); when it rejects, `failed` ends the stream. A
   * stream holds at most one such hook at a time, so a slow hook bounds what it keeps.
   */
  hold(pending: Promise<void>, failed: (error: unknown) => void): void {
    this.#held = true;
    pending.then(
      () => {
        this.#held = false;
        this.#drain();
      },
      (error: unknown) => {
        this.#held = false;
        if (!this.#host.ended) failed(error);
      },
    );
  }

  /** The stream ended: nothing more is written, and its unflushed bytes leave the budget. */
  close(): void {
    this.#ready.clear();
    this.#ctx.budget.forget(this);
    if (this.#unflushed !== undefined) this.#ctx.budget.release(this.#unflushed);
    this.#unflushed = undefined;
  }

  /**
   * A status goes out after the response before it, so a client that half-closed (or is refused) but does not read
   * would hold that response and the stream forever: reset the call when the last write is still unflushed after
   * `limits.drainTimeoutMs` (rule S12).
   */
  resetIfStillUnread(): void {
    const timeoutMs = this.#ctx.limits.drainTimeoutMs;
    const timer = setTimeout(() => {
      if (!this.#lastWritePending) return;
      const reason = `the client did not read the last response within limits.drainTimeoutMs (${timeoutMs} ms) after the stream ended`;
      this.#ctx.limitReached('drainTimeoutMs');
      this.#ctx.logger.warn(
        { streamId: this.#host.id, nodeId: this.#host.nodeId, details: reason },
        'xDS stream reset',
      );
      resetCall(this.#call);
    }, timeoutMs);
    timer.unref();
  }

  /**
   * The write budget's call: this stream's response was not flushed within `limits.drainTimeoutMs` (rule S12). A
   * status cannot pass the unread bytes before it, so the stream is reset (RST_STREAM ENHANCE_YOUR_CALM, which gRPC
   * clients read as RESOURCE_EXHAUSTED); the server's events and logs carry the full reason.
   */
  drainTimedOut(timeoutMs: number): void {
    const host = this.#host;
    if (host.ended) return;
    const reason = `the client did not read a response within limits.drainTimeoutMs (${timeoutMs} ms)`;
    this.#ctx.limitReached('drainTimeoutMs');
    this.#ctx.logger.warn(
      { streamId: host.id, nodeId: host.nodeId, code: status.RESOURCE_EXHAUSTED, details: reason },
      'xDS stream ended',
    );
    host.abandon(status.RESOURCE_EXHAUSTED, reason);
    if (!resetCall(this.#call))
      this.#call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: reason });
  }

  /** grpc-js's write callback: flushed, or failed because the call is gone (then the call's events end it). */
  #flushed(error: Error | null | undefined): void {
    this.#lastWritePending = false;
    const write = this.#unflushed;
    if (write === undefined) return;
    this.#unflushed = undefined;
    if (error) this.#ctx.budget.release(write);
    else this.#ctx.budget.flushed(write);
    this.#drain();
  }

  #drain(): void {
    const host = this.#host;
    while (this.#unflushed === undefined && !this.#held && !host.ended && this.#ready.size > 0) {
      // The server-wide budget: when spent, this stream waits its turn (it is resumed) before taking a response.
      if (!this.#ctx.budget.admit(this)) return;
      const types = this.#ctx.types;
      let next: TypeUrl | undefined;
      for (const typeUrl of this.#ready)
        if (next === undefined || types.pushOrder(typeUrl) < types.pushOrder(next)) next = typeUrl;
      this.#ready.delete(next!);
      try {
        host.respond(next!);
      } catch (error) {
        host.fail(error);
      }
    }
  }
}
