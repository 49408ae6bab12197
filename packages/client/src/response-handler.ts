/**
 * What one response does to an {@link XdsClient}: bounded before anything of it is decoded or kept (rule L2, see
 * `response-bounds.ts`), judged by the validation hook, applied, ACKed or NACKed (rules S5, D8; a NACK is data, not
 * an exception), and told to the `update` listeners and the watches. The client owns the stream and its lifecycle;
 * this is the response path alone.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Backoff } from './backoff.js';
import type { XdsClientEvents } from './events.js';
import { judge } from './judge.js';
import {
  type ClientLimitName,
  type ClientLogger,
  cutText,
  type ResolvedClientLimits,
  type Validate,
} from './options.js';
import type { Protocol, Received, ResponseHead } from './protocol.js';
import type { RequestSender } from './request-sender.js';
import { checkAccepted, checkHead, nonceRefusal } from './response-bounds.js';
import type { Applied, TypeState, Watcher, WatchUpdate } from './type-state.js';

/** One ADS stream of a client. */
export interface ClientStream {
  readonly address: string;
  /** True once the node was sent (on the stream's first request, rule S2). */
  nodeSent: boolean;
  readonly grpcClient: grpc.Client;
  readonly call: grpc.ClientDuplexStream<Buffer, unknown>;
  /** Writes the stream's requests with backpressure (every request goes through it). */
  readonly sender: RequestSender;
  readonly ended: Promise<void>;
  done: boolean;
  /** Why the client itself ended the stream (a response past a limit), reported instead of the cancel status. */
  refusal?: string;
  /** Responses of a type never subscribed, so far on this stream (logged at 1, 2, 4, 8, …). */
  unsubscribed?: number;
}

/** What the response path needs of its client. */
export interface ResponseContext {
  readonly protocol: 'sotw' | 'delta';
  readonly wire: Protocol<unknown, unknown>;
  readonly limits: ResolvedClientLimits;
  readonly validate: Validate | undefined;
  readonly logger: ClientLogger;
  readonly backoff: Backoff;
  /** The types watched, by type URL. */
  readonly types: ReadonlyMap<string, TypeState>;
  /** True while `stream` is the client's stream and the client is open. */
  current(stream: ClientStream): boolean;
  /** The encoded bytes held across every type. */
  heldBytes(): number;
  /** Emits a client event (a listener that throws is contained by the client, rule L4). */
  emit<E extends keyof XdsClientEvents>(event: E, ...args: XdsClientEvents[E]): boolean;
}

/** The most of a server's type URL a log line carries. */
const maxLoggedTypeUrlBytes = 256;

/** Handles the responses of a client's streams. */
export class ResponseHandler {
  readonly #ctx: ResponseContext;

  constructor(ctx: ResponseContext) {
    this.#ctx = ctx;
  }

  /** Handles one response of `stream` (ignored when the stream is no longer the client's). */
  handle(stream: ClientStream, { message, withheld, withheldRemoved }: Received<unknown>): void {
    if (!this.#ctx.current(stream)) return;
    const head = this.#ctx.wire.head(message);
    const type = this.#ctx.types.get(head.typeUrl);
    if (type === undefined) {
      // A server does not choose the size of our logs (rule L2): the type URL is cut, and of a run of such
      // responses only the 1st, 2nd, 4th, 8th, … are logged, with the count so far.
      const count = (stream.unsubscribed ?? 0) + 1;
      stream.unsubscribed = count;
      if ((count & (count - 1)) === 0)
        this.#ctx.logger.warn(
          { typeUrl: cutText(head.typeUrl, maxLoggedTypeUrlBytes), responses: count },
          'xds client: a response of a type never subscribed',
        );
      return;
    }
    const refusal = nonceRefusal(type.typeUrl, head.nonce, this.#ctx.limits);
    if (refusal !== undefined) {
      // It cannot be answered without sending the nonce back: the stream ends, the backoff is not reset.
      stream.refusal = refusal;
      this.#ctx.logger.warn({ address: stream.address, typeUrl: type.typeUrl }, `xds client: ${refusal}`);
      stream.call.cancel();
      return;
    }
    this.#ctx.backoff.reset();
    type.nonce = head.nonce;
    const elsewhere = this.#ctx.heldBytes() - type.heldBytes;
    const fullState = this.#ctx.protocol === 'sotw' && type.fullState;
    // Past a bound none of the response's resources is applied (delta removals are, which only shrink what is
    // held: a delta server does not send them again). A bound its head passes costs no decoding.
    if (withheld > 0 || withheldRemoved > 0) {
      // Counted from the wire, never decoded (rule L2): a legitimate response never offers more than the type holds,
      // nor removes more names than the client holds or subscribes to.
      const errors: string[] = [];
      const passed: ClientLimitName[] = [];
      if (withheld > 0) {
        errors.push(
          `the response offers ${withheld} resources of ${type.typeUrl}, over ` +
            `limits.maxResourcesPerType=${this.#ctx.limits.maxResourcesPerType}`,
        );
        passed.push('maxResourcesPerType');
      }
      if (withheldRemoved > 0) {
        errors.push(
          `the response removes ${withheldRemoved} names of ${type.typeUrl}, over ` +
            `limits.maxRemovedPerResponse=${this.#ctx.limits.maxRemovedPerResponse}`,
        );
        passed.push('maxRemovedPerResponse');
      }
      const text = `${errors.join('; ')}; none was decoded`;
      this.#nack(stream, type, head, text, passed, this.#shrinkOnly(type, head.removed));
      return;
    }
    const early = checkHead(type, head, fullState, elsewhere, this.#ctx.limits);
    if (early.errors.length > 0) {
      const text = early.errors.join('; ');
      this.#nack(stream, type, head, text, early.limits, this.#shrinkOnly(type, head.removed));
      return;
    }
    const read = this.#ctx.wire.read(message, this.#ctx.limits);
    const verdict = judge(read, this.#ctx.validate, this.#ctx.limits.maxErrorDetailBytes);
    const removed = [...read.removed];
    if (fullState && !verdict.unnamed) {
      for (const name of type.held.keys()) if (!verdict.present.has(name)) removed.push(name);
    }
    const bounds = checkAccepted(type, verdict.accepted, removed, elsewhere, this.#ctx.limits);
    // Otherwise the accepted resources are applied, even when others are rejected.
    const applied =
      bounds.errors.length === 0 ? type.apply(verdict.accepted, removed) : this.#shrinkOnly(type, removed);
    if (bounds.errors.length > 0 || verdict.errors.count > 0) {
      const text = verdict.errors.text(bounds.errors);
      this.#nack(stream, type, head, text, [...bounds.limits, ...verdict.limits], applied);
      return;
    }
    const first = type.version === '' && read.version !== '';
    type.accepted(read.version);
    stream.sender.ack(type, read);
    this.#ctx.emit('ack', {
      typeUrl: type.typeUrl,
      version: read.version,
      nonce: read.nonce,
      resources: read.resources.length,
    });
    this.#publish(type, stream, applied, read.version, first);
  }

  /** What a response refused whole applies: in delta its removals, in SotW nothing. */
  #shrinkOnly(type: TypeState, removed: readonly string[]): Applied {
    return this.#ctx.protocol === 'delta' ? type.apply([], removed) : { updated: [], removed: [] };
  }

  /** NACKs a response with `errors` (a bounded text), reports it, and tells the watches what it applied all the same. */
  #nack(
    stream: ClientStream,
    type: TypeState,
    head: ResponseHead,
    errors: string,
    passed: readonly ClientLimitName[],
    applied: Applied,
  ): void {
    const text = cutText(errors, this.#ctx.limits.maxErrorDetailBytes);
    stream.sender.nack(type, head.nonce, text);
    const changesOnly = this.#ctx.protocol === 'delta' || !type.fullState;
    type.rejected(applied.updated.length > 0 || applied.removed.length > 0, changesOnly);
    const limits = [...new Set(passed)];
    // The version is reported cut to its limit: a server does not choose the size of our logs.
    const version = cutText(head.version, this.#ctx.limits.maxVersionBytes);
    this.#ctx.logger.warn({ typeUrl: type.typeUrl, version, limits, message: text }, 'xds client: NACK');
    this.#ctx.emit('nack', { typeUrl: type.typeUrl, version, nonce: head.nonce, message: text, limits });
    this.#publish(type, stream, applied, type.version, false);
  }

  /** Tells the `update` listeners and the watches what changed. */
  #publish(type: TypeState, stream: ClientStream, applied: Applied, version: string, first: boolean): void {
    if (applied.updated.length === 0 && applied.removed.length === 0 && !first) return;
    this.#ctx.emit('update', {
      typeUrl: type.typeUrl,
      version,
      updated: applied.updated.map((r) => r.name),
      removed: applied.removed,
      address: stream.address,
    });
    for (const watcher of [...type.watchers]) {
      const update = type.updateFor(watcher, version, applied);
      if (update !== undefined) this.call(watcher, update);
    }
  }

  /** Calls a watch's listener; one that throws is logged, and the others are called all the same. */
  call(watcher: Watcher, update: WatchUpdate): void {
    try {
      watcher.listener(update);
    } catch (e) {
      this.#ctx.logger.warn(
        { typeUrl: update.typeUrl, error: String(e) },
        'xds client: a watch listener threw',
      );
    }
  }
}
