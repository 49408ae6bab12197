// One answer of a unary call (the Fetch methods, CSDS FetchClientStatus) or of a CSDS StreamClientStatus stream,
// written within the server's write budget as a discovery stream's response is (rules S12, L2; probe Q5). Before,
// these answers went to grpc-js whether or not the caller read: a caller that opened calls and never read made the
// server queue their answers outside the budget, and a stream's object-mode writes took 16 answers before saying
// "wait". Now an answer waits for its turn in the budget (write-budget.ts), its bytes count until they are flushed
// to the socket or the call ends, and an answer not flushed within `limits.drainTimeoutMs` has its call reset
// (RST_STREAM ENHANCE_YOUR_CALM, which gRPC clients report as RESOURCE_EXHAUSTED: a status could not pass the
// unread bytes before it), counted in `endedByLimit.drainTimeoutMs` and logged with the reason.
//
// A unary answer is flushed when its HTTP/2 stream closes cleanly (grpc-js sends the status once the message is
// flushed, and the stream closes once the status is sent); one on a stream, when grpc-js calls its write back.
import { type sendUnaryData, status } from '@grpc/grpc-js';
import { Code, XdsError } from '@xds/api';
import { http2StreamOf, resetCall } from './reset-call.js';
import type { StreamContext } from './stream-context.js';
import type { InFlightWrite, WriteOwner } from './write-budget.js';

/** What an answer needs of its grpc-js call (unary or stream). */
export interface AnswerCall {
  readonly cancelled: boolean;
  getPeer(): string;
  once(event: 'cancelled', listener: () => void): unknown;
  off(event: 'cancelled', listener: () => void): unknown;
}

/** The call ended before its answer had a turn. */
const cancelled = () => new XdsError(Code.Cancelled, 'the call ended before its answer was sent');

/**
 * One answer: waits for its turn in the write budget ({@link charged}), is sent ({@link sendUnary} or
 * {@link writeTo}), and is {@link done} once flushed or once its call ended, whichever comes first. Until then it
 * counts in the budget's `unflushedBytes`, and, until it stalls (write-budget.ts), in its `inFlightBytes`.
 */
export class BudgetedAnswer implements WriteOwner {
  readonly #ctx: StreamContext;
  readonly #call: AnswerCall;
  readonly #bytes: number;
  readonly #what: string;
  #write: InFlightWrite | undefined;
  #turn: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  #ended = false;
  #finish!: (flushed: boolean) => void;
  readonly #onCancelled = () => this.#end();
  /** Resolves once the answer was flushed (true) or its call ended (false). */
  readonly done: Promise<boolean>;

  /** `what` names the call in the log (`CSDS`, `Fetch`). */
  constructor(ctx: StreamContext, call: AnswerCall, bytes: number, what: string) {
    this.#ctx = ctx;
    this.#call = call;
    this.#bytes = bytes;
    this.#what = what;
    this.done = new Promise((resolve) => {
      this.#finish = resolve;
    });
    call.once('cancelled', this.#onCancelled);
  }

  /** True once the answer was flushed or its call ended (the write budget skips it). */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Waits for the answer's turn in the write budget and counts its bytes there; rejects with CANCELLED when the
   * call ends first.
   */
  charged(): Promise<void> {
    if (this.#call.cancelled) this.#end();
    if (this.#ended) return Promise.reject(cancelled());
    if (this.#ctx.budget.admit(this)) {
      this.#write = this.#ctx.budget.charge(this.#bytes, this);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.#turn = { resolve, reject };
    });
  }

  /** The write budget's call: the answer's turn (it asks again, as a stream does). */
  resume(): void {
    const turn = this.#turn;
    if (this.#ended || turn === undefined || !this.#ctx.budget.admit(this)) return;
    this.#turn = undefined;
    this.#write = this.#ctx.budget.charge(this.#bytes, this);
    turn.resolve();
  }

  /** Answers a unary call with `body` (after {@link charged}); flushed when its HTTP/2 stream closes cleanly. */
  sendUnary(body: Uint8Array, callback: sendUnaryData<Uint8Array>): void {
    const stream = http2StreamOf(this.#call);
    callback(null, body);
    // Another grpc-js layout: the flush cannot be seen, and the answer counts as sent once grpc-js has it.
    if (stream === undefined) this.#flushed();
    else if (stream.closed === true) this.#end();
    else stream.once('close', () => (stream.rstCode === 0 ? this.#flushed() : this.#end()));
  }

  /** Writes `body` on a stream (after {@link charged}); flushed when grpc-js calls the write back. */
  writeTo<T>(call: { write(chunk: T, done: (error?: Error | null) => void): unknown }, body: T): void {
    call.write(body, (error) => (error ? this.#end() : this.#flushed()));
  }

  /**
   * The write budget's call: the answer was not flushed within `limits.drainTimeoutMs` (rule S12). The call is
   * reset: its status could not pass the unread bytes before it.
   */
  drainTimedOut(timeoutMs: number): void {
    if (this.#ended) return;
    const reason = `the client did not read the ${this.#what} answer within limits.drainTimeoutMs (${timeoutMs} ms)`;
    this.#ctx.limitReached('drainTimeoutMs');
    this.#ctx.logger.warn(
      { peer: this.#call.getPeer(), code: status.RESOURCE_EXHAUSTED, details: reason },
      `${this.#what} call ended`,
    );
    this.#end();
    resetCall(this.#call);
  }

  #flushed(): void {
    if (this.#ended) return;
    const write = this.#write;
    this.#write = undefined;
    if (write !== undefined) this.#ctx.budget.flushed(write);
    this.#end(true);
  }

  /** Flushed or gone: the answer leaves the budget (and its queue) and is done. */
  #end(flushed = false): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#call.off('cancelled', this.#onCancelled);
    this.#ctx.budget.forget(this);
    if (this.#write !== undefined) this.#ctx.budget.release(this.#write);
    this.#write = undefined;
    const turn = this.#turn;
    this.#turn = undefined;
    turn?.reject(cancelled());
    this.#finish(flushed);
  }
}

/**
 * Answers a unary call with `body` within the write budget (see {@link BudgetedAnswer}); a call that ends before
 * its turn gets CANCELLED. Resolves once the answer was flushed or the call ended.
 */
export async function sendUnaryAnswer(
  ctx: StreamContext,
  call: AnswerCall,
  body: Uint8Array,
  callback: sendUnaryData<Uint8Array>,
  what: string,
): Promise<void> {
  const answer = new BudgetedAnswer(ctx, call, body.length, what);
  try {
    await answer.charged();
  } catch {
    callback({ code: status.CANCELLED, details: 'the call ended before its answer was sent' });
    return;
  }
  answer.sendUnary(body, callback);
  await answer.done;
}
