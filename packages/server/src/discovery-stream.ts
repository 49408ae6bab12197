import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import {
  Code,
  type DiscoveryMethod,
  isTypeUrl,
  type Node,
  resourceType,
  type TypeUrl,
  XdsError,
} from '@xds/api';
import type { DeltaWatch, SotwWatch, WatchOptions } from '@xds/cache';
import { UndecodableRequest } from './codec.js';
import { scheduleDrain } from './drain-queue.js';
import type { RequestEvent } from './events.js';
import { resetCall } from './reset-call.js';
import { toStatus } from './status.js';
import type { StreamContext } from './stream-context.js';
import type { RegisteredStream } from './stream-registry.js';
import { TypeState } from './type-state.js';
import type { InFlightWrite, WriteOwner } from './write-budget.js';

/** The fields SotW and delta requests share. */
export interface AnyRequest {
  readonly node?: Node | undefined;
  readonly typeUrl: string;
  readonly responseNonce: string;
}

type Call = ServerDuplexStream<unknown, Uint8Array>;

/** The names a written response carries, for the 'response' event. */
export interface ResponseNames {
  readonly resources: readonly string[];
  readonly removed: readonly string[];
}

const ttlFeature = 'xds.config.supports-resource-ttl';

const pushOrder = (typeUrl: TypeUrl) => resourceType(typeUrl)?.pushOrder ?? 99;

/**
 * What SotW and delta streams share: the node rules (S2), the type rules (S1), authorization, serial request
 * handling, the ordered push queue with backpressure (rules S11, S12), and ending with a clear status.
 *
 * Rule S12: a stream has at most one response written and not yet flushed (grpc-js calls a write's callback once
 * its bytes went to the socket; its object-mode stream would otherwise take 16 more). A type due meanwhile stays
 * in the watch, which coalesces newer snapshots, and is taken only after the flush: a slow client gets the latest
 * state, never a backlog, and what it holds is one response's bytes.
 */
export abstract class DiscoveryStream<Req extends AnyRequest> implements RegisteredStream, WriteOwner {
  readonly id: number;
  readonly ads: boolean;
  abstract readonly kind: 'sotw' | 'delta';
  node: Node | undefined;
  nodeId = '';
  readonly types = new Map<TypeUrl, TypeState>();
  protected readonly ctx: StreamContext;
  protected readonly call: Call;
  readonly #method: DiscoveryMethod;
  readonly #ready = new Set<TypeUrl>();
  #scheduled = false;
  #ended = false;
  /** undefined: not decided yet; a list: requests held while authorization runs. */
  #held: Req[] | undefined;
  #authorized = false;
  #nonce = 0;
  /** The response written and not flushed yet (rule S12: at most one). */
  #unflushed: InFlightWrite | undefined;
  /** True while the last write has not been flushed (kept after the stream ended, unlike {@link #unflushed}). */
  #lastWritePending = false;
  /** grpc-js's write callback; it closes over the stream only, never over a response (rule S12). */
  readonly #onFlushed = (error?: Error | null) => this.#flushed(error);

  constructor(ctx: StreamContext, call: Call, method: DiscoveryMethod) {
    this.ctx = ctx;
    this.call = call;
    this.#method = method;
    this.id = ctx.nextStreamId();
    this.ads = method.typeUrl === undefined;
  }

  /** Wires the call's events. */
  start(): void {
    const call = this.call;
    call.on('data', (request: Req | UndecodableRequest) => this.#receive(request));
    call.on('end', () => this.end(status.OK, 'client closed'));
    call.on('cancelled', () => this.#gone('client cancelled'));
    call.on('close', () => this.#gone('stream closed'));
    call.on('error', (error: unknown) => this.#gone(error instanceof Error ? error.message : 'stream error'));
    if (this.ctx.closing) {
      this.end(status.UNAVAILABLE, 'server is closing');
      return;
    }
    // Rule L2: pending until its first request, within the connection's stream limit.
    const refused = this.ctx.registry.arrive(this, call.getPeer());
    if (refused !== undefined) this.fail(refused);
  }

  /** The registry's call: no first request within `limits.firstRequestTimeoutMs` (rule L2). */
  firstRequestTimedOut(timeoutMs: number): void {
    if (this.#ended) return;
    this.ctx.limitReached('firstRequestTimeoutMs');
    this.fail(
      new XdsError(
        Code.DeadlineExceeded,
        `no first request accepted within limits.firstRequestTimeoutMs (${timeoutMs} ms)`,
      ),
    );
  }

  /** The write budget's call: this stream's turn to write. */
  resume(): void {
    this.#drain();
  }

  /** True once ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Handles one request of a known type; `initial` when the type is new on the stream. */
  protected abstract handle(request: Req, typeUrl: TypeUrl): void;

  /** Takes and writes the response of one type, if its watch has one. */
  protected abstract respond(state: TypeState): void;

  /** Opens the watch of a type new on the stream and keeps its state. */
  protected openType(typeUrl: TypeUrl, open: (options: WatchOptions) => SotwWatch | DeltaWatch): TypeState {
    const node = this.node!;
    const watch = open({
      node,
      typeUrl,
      ads: this.ads,
      onReady: this.readyCallback(typeUrl),
      legacyWildcard: this.ctx.legacyWildcard(node, typeUrl),
      supportsTtl: node.clientFeatures.includes(ttlFeature),
    });
    const state = new TypeState(typeUrl, watch);
    this.types.set(typeUrl, state);
    return state;
  }

  /** A nonce unique on this stream (rule S3). */
  protected nextNonce(): string {
    this.#nonce++;
    return this.#nonce.toString(36);
  }

  /** The callback a watch calls when it may have a response: queue the type and drain soon. */
  protected readyCallback(typeUrl: TypeUrl): () => void {
    return () => {
      this.#ready.add(typeUrl);
      // With a write unflushed, its flush drains the stream (rule S12).
      if (this.#scheduled || this.#unflushed !== undefined || this.#ended) return;
      this.#scheduled = true;
      scheduleDrain(this);
    };
  }

  /** The scheduled drain (see {@link scheduleDrain}). */
  drainScheduled(): void {
    this.#scheduled = false;
    this.#drain();
  }

  /**
   * Writes an encoded response, records it as the type's latest (rule S3) and tells 'response' listeners. Until
   * it is flushed, the stream writes nothing else (rule S12).
   */
  protected send(
    state: TypeState,
    version: string,
    nonce: string,
    bytes: Uint8Array,
    names: () => ResponseNames,
  ): void {
    state.sent(version, nonce);
    this.#write(bytes);
    const events = this.ctx.events;
    if (events.listenerCount('response') === 0) return;
    // The names are listed only if a listener reads them (1,000 names per response to 10,000 streams add up).
    let listed: ResponseNames | undefined;
    events.emit('response', {
      streamId: this.id,
      nodeId: this.nodeId,
      typeUrl: state.typeUrl,
      version,
      nonce,
      get resources() {
        listed ??= names();
        return listed.resources;
      },
      get removed() {
        listed ??= names();
        return listed.removed;
      },
      bytes: bytes.length,
    });
  }

  /**
   * Rule S5: a request that answers the latest nonce is a NACK when it carries error_detail, an ACK otherwise;
   * versions are never compared. A repeated answer to the same nonce is not counted twice.
   */
  protected answer(
    state: TypeState,
    nonce: string,
    detail: { message: string } | undefined,
    acceptedVersion: string,
  ): void {
    if (state.answeredNonce === nonce) return;
    const events = this.ctx.events;
    if (detail !== undefined) {
      const version = state.sentVersion ?? '';
      const message = state.nacked(detail.message, nonce, this.ctx.limits.maxErrorDetailBytes);
      events.emit('nack', {
        nodeId: this.nodeId,
        streamId: this.id,
        typeUrl: state.typeUrl,
        version,
        nonce,
        message,
        acceptedVersion,
      });
      return;
    }
    state.acked(acceptedVersion, nonce);
    events.emit('ack', {
      nodeId: this.nodeId,
      streamId: this.id,
      typeUrl: state.typeUrl,
      version: acceptedVersion,
      nonce,
    });
  }

  /** Tells 'request' listeners about a request (built only when someone listens). */
  protected emitRequest(event: (ids: { streamId: number; nodeId: string }) => RequestEvent): void {
    const events = this.ctx.events;
    if (events.listenerCount('request') === 0) return;
    events.emit('request', event({ streamId: this.id, nodeId: this.nodeId }));
  }

  /**
   * Ends the stream with a status and forgets its watches. A status goes out after the response before it, so a
   * client that half-closed (or is refused) but does not read would hold that response and the stream forever:
   * when the last write is still unflushed, the stream is reset after `limits.drainTimeoutMs` (rule S12).
   */
  end(code: number, reason: string): void {
    if (this.#ended) return;
    const unread = this.#lastWritePending;
    this.#close(code, reason);
    if (code === status.OK) this.call.end();
    else this.call.emit('error', { code, details: reason });
    if (unread) this.#resetIfStillUnread();
  }

  #resetIfStillUnread(): void {
    const timeoutMs = this.ctx.limits.drainTimeoutMs;
    const timer = setTimeout(() => {
      if (!this.#lastWritePending) return;
      const reason = `the client did not read the last response within limits.drainTimeoutMs (${timeoutMs} ms) after the stream ended`;
      this.ctx.limitReached('drainTimeoutMs');
      this.ctx.logger.warn({ streamId: this.id, nodeId: this.nodeId, details: reason }, 'xDS stream reset');
      resetCall(this.call);
    }, timeoutMs);
    timer.unref();
  }

  /** Ends the stream with the status of an error. */
  protected fail(error: unknown): void {
    const { code, details } = toStatus(error);
    if (!(error instanceof XdsError))
      this.ctx.logger.error({ streamId: this.id, nodeId: this.nodeId, err: error }, 'xDS stream failed');
    else
      this.ctx.logger.warn({ streamId: this.id, nodeId: this.nodeId, code, details }, 'xDS stream refused');
    this.end(code, details);
  }

  /**
   * The write budget's call: this stream's response was not flushed within `limits.drainTimeoutMs` (rule S12). A
   * status cannot pass the unread bytes before it, so the stream is reset (RST_STREAM ENHANCE_YOUR_CALM, which gRPC
   * clients read as RESOURCE_EXHAUSTED); the server's events and logs carry the full reason.
   */
  drainTimedOut(timeoutMs: number): void {
    if (this.#ended) return;
    const reason = `the client did not read a response within limits.drainTimeoutMs (${timeoutMs} ms)`;
    this.ctx.limitReached('drainTimeoutMs');
    this.ctx.logger.warn(
      { streamId: this.id, nodeId: this.nodeId, code: status.RESOURCE_EXHAUSTED, details: reason },
      'xDS stream ended',
    );
    this.#close(status.RESOURCE_EXHAUSTED, reason);
    if (!resetCall(this.call)) this.call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: reason });
  }

  #write(bytes: Uint8Array): void {
    this.#unflushed = this.ctx.budget.charge(bytes.length, this);
    this.#lastWritePending = true;
    this.call.write(bytes, this.#onFlushed);
  }

  /** grpc-js's write callback: flushed, or failed because the call is gone (then the call's events end it). */
  #flushed(error: Error | null | undefined): void {
    this.#lastWritePending = false;
    const write = this.#unflushed;
    if (write === undefined) return;
    this.#unflushed = undefined;
    if (error) this.ctx.budget.release(write);
    else this.ctx.budget.flushed(write);
    this.#drain();
  }

  #gone(reason: string): void {
    if (this.#ended) return;
    this.#close(status.CANCELLED, reason);
  }

  #close(code: number, reason: string): void {
    this.#ended = true;
    this.#ready.clear();
    this.ctx.budget.forget(this);
    if (this.#unflushed !== undefined) this.ctx.budget.release(this.#unflushed);
    this.#unflushed = undefined;
    for (const state of this.types.values()) state.watch.cancel();
    this.ctx.registry.leave(this);
    this.ctx.events.emit('streamClose', { streamId: this.id, nodeId: this.nodeId, code, reason });
  }

  #drain(): void {
    while (this.#unflushed === undefined && !this.#ended && this.#ready.size > 0) {
      // The server-wide budget: when spent, this stream waits its turn (it is resumed) before taking a response.
      if (!this.ctx.budget.admit(this)) return;
      let next: TypeUrl | undefined;
      for (const typeUrl of this.#ready)
        if (next === undefined || pushOrder(typeUrl) < pushOrder(next)) next = typeUrl;
      this.#ready.delete(next!);
      const state = this.types.get(next!);
      if (state === undefined) continue;
      try {
        this.respond(state);
      } catch (error) {
        this.fail(error);
      }
    }
  }

  #receive(request: Req | UndecodableRequest): void {
    if (this.#ended) return;
    if (this.ctx.closing) {
      this.end(status.UNAVAILABLE, 'server is closing');
      return;
    }
    if (request instanceof UndecodableRequest) {
      this.fail(new XdsError(Code.InvalidArgument, request.message));
      return;
    }
    if (this.#held !== undefined) {
      this.#held.push(request);
      return;
    }
    if (!this.#authorized) {
      this.#first(request);
      return;
    }
    this.#process(request);
  }

  /** The first request: node rules (S2), then authorization, then the request itself. */
  #first(request: Req): void {
    const node = request.node;
    if (node === undefined || node.id === '') {
      this.fail(new XdsError(Code.InvalidArgument, 'the first request of a stream must carry node.id'));
      return;
    }
    // Rule L2: a node id within its limit, and within the node's stream limit.
    const refused = this.ctx.registry.claimNode(this, node.id);
    if (refused !== undefined) {
      this.fail(refused);
      return;
    }
    this.node = node;
    this.nodeId = node.id;
    const authorize = this.ctx.authorize;
    if (authorize === undefined) {
      this.#admit([request]);
      return;
    }
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = authorize(node, this.call);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (typeof verdict === 'boolean') {
      this.#decide(verdict, [request]);
      return;
    }
    this.#held = [request];
    verdict.then(
      (ok) => this.#decide(ok, this.#held ?? []),
      (error: unknown) => this.fail(error),
    );
  }

  #decide(ok: boolean, requests: Req[]): void {
    this.#held = undefined;
    if (this.#ended) return;
    if (!ok) {
      this.fail(
        new XdsError(Code.PermissionDenied, `node "${this.nodeId}" may not open ${this.#method.path}`),
      );
      return;
    }
    this.#admit(requests);
  }

  #admit(requests: Req[]): void {
    this.#authorized = true;
    this.ctx.registry.admit(this);
    this.ctx.events.emit('streamOpen', {
      streamId: this.id,
      nodeId: this.nodeId,
      kind: this.kind,
      ads: this.ads,
      method: this.#method.path,
      peer: this.call.getPeer(),
    });
    for (const request of requests) {
      if (this.#ended) return;
      this.#process(request);
    }
  }

  #process(request: Req): void {
    try {
      const id = request.node?.id;
      if (id !== undefined && id !== '' && id !== this.nodeId) {
        throw new XdsError(
          Code.InvalidArgument,
          `node.id changed on the stream from "${this.nodeId}" to "${id}"`,
        );
      }
      this.handle(request, this.#typeOf(request.typeUrl));
    } catch (error) {
      this.fail(error);
    }
  }

  /** Rule S1: which type a request is about. */
  #typeOf(typeUrl: string): TypeUrl {
    const fixed = this.#method.typeUrl;
    if (fixed !== undefined) {
      if (typeUrl === '' || typeUrl === fixed) return fixed;
      throw new XdsError(
        Code.InvalidArgument,
        `type_url ${typeUrl} cannot be requested on ${this.#method.path}`,
      );
    }
    if (typeUrl === '')
      throw new XdsError(Code.InvalidArgument, 'type_url is required on an aggregated (ADS) stream');
    if (!isTypeUrl(typeUrl))
      throw new XdsError(Code.InvalidArgument, `type_url ${typeUrl} is not a type this server serves`);
    return typeUrl;
  }
}
