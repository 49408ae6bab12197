// The base of SotW and delta streams: what both share lives here once, and the subclasses hold only what differs.
// Requests pass through admission (stream-admission.ts: node rules S2, types S1, limits L2, authorization L6) in
// order; a request's type and the types the server does not serve are stream-types.ts's (S1, S15); responses go out
// through the writer (stream-writer.ts: push order S11, one unflushed response S12); this file ties them to the
// call, the watches, the ACK/NACK rules (S3–S5) and ending with a clear status.
import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import { Code, type Node, type TypeUrl, XdsError } from '@xds/api';
import type { ConfigWatcher, DeltaWatch, SotwWatch, WatchOptions } from '@xds/cache';
import { UndecodableRequest } from './codec.js';
import type { ResponseParts } from './direct-write.js';
import { LazyResponseEvent, type RequestEvent, type ResponseNames } from './events.js';
import { callHook, type HookContext, hookFailure } from './hooks.js';
import { withFirstNode, withLaterNode } from './request-node.js';
import { statusDetails, toStatus } from './status.js';
import { type AdmissionHost, type AnyRequest, StreamAdmission } from './stream-admission.js';
import type { StreamContext } from './stream-context.js';
import { StreamTypes } from './stream-types.js';
import { StreamWriter, type WriterHost } from './stream-writer.js';
import { nameCost, peerOf } from './subscription-budget.js';
import type { ServedMethod } from './type-service.js';
import { TypeState } from './type-state.js';

export type { AnyRequest } from './stream-admission.js';

type Call = ServerDuplexStream<unknown, Uint8Array>;

export type { ResponseNames } from './events.js';

const ttlFeature = 'xds.config.supports-resource-ttl';

/**
 * What SotW and delta streams share: admission of requests (rules S1, S2, L2, L6), the ordered push queue with
 * backpressure (rules S11, S12), ACK/NACK bookkeeping (S3–S5), and ending with a clear status.
 */
export abstract class DiscoveryStream<Req extends AnyRequest> implements AdmissionHost<Req>, WriterHost {
  readonly id: number;
  readonly ads: boolean;
  abstract readonly kind: 'sotw' | 'delta';
  node: Node | undefined;
  nodeId = '';
  readonly types = new Map<TypeUrl, TypeState>();
  protected readonly ctx: StreamContext;
  protected readonly call: Call;
  readonly #method: ServedMethod;
  readonly #admission: StreamAdmission<Req>;
  readonly #writer: StreamWriter;
  #ended = false;
  #nonce = 0;
  #hookContext: HookContext | undefined;
  /** The stream's types: what a request is about (S1), and the ones the server does not serve (S15). */
  readonly #types: StreamTypes;
  #abort: AbortController | undefined;
  /** The shared node this stream holds (shared-nodes.ts), given back when it ends. */
  #held: Node | undefined;
  /** Requests received so far (decoded or not). */
  #received = 0;
  /** Names and globs subscribed over all of the stream's types (rule L2, `limits.maxNamesPerStream`). */
  #subscribedNames = 0;

  constructor(ctx: StreamContext, call: Call, method: ServedMethod) {
    this.ctx = ctx;
    this.call = call;
    this.#method = method;
    this.id = ctx.nextStreamId();
    this.ads = method.typeUrl === undefined;
    this.#admission = new StreamAdmission(ctx, this, method, call);
    this.#writer = new StreamWriter(ctx, call, this);
    this.#types = new StreamTypes(ctx, method);
  }

  /** Wires the call's events. */
  start(): void {
    const call = this.call;
    // Rule S2: the node of the first request is the stream's, decoded (request-node.ts) or shared with streams of
    // the same node bytes (Q11); a later request's is left on the wire but for its id.
    call.on('data', (request: Req | UndecodableRequest) => {
      if (this.#ended) return;
      this.#admission.receive(this.#received++ === 0 ? this.#first(request) : withLaterNode(request));
    });
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
    else this.#admission.open();
  }

  /** The first request, its node decoded or shared; a shared node is held until the stream ends. */
  #first(request: Req | UndecodableRequest): Req | UndecodableRequest {
    const registry = this.ctx.registry;
    const nodes = registry.nodes;
    const first = withFirstNode(request, this.ctx.limits, nodes);
    const node = first instanceof UndecodableRequest ? undefined : first.node;
    if (node === undefined || !nodes.holds(node)) return first;
    this.#held = node;
    // Rule L2: the nodes one peer's streams keep are bounded (limits.maxNodeBytesPerPeer, Q11).
    const refused = registry.holdNode(this, node, nodes.bytesOf(node));
    if (refused === undefined) return first;
    return new UndecodableRequest(refused.message, refused.code, 'maxNodeBytesPerPeer');
  }

  /** What hooks see of the stream (made on first use). */
  get hookContext(): HookContext {
    if (this.#hookContext !== undefined) return this.#hookContext;
    const stream = this;
    this.#hookContext = {
      streamId: this.id,
      kind: this.kind,
      ads: this.ads,
      method: this.#method.path,
      peer: this.call.getPeer(),
      get node() {
        return stream.node;
      },
      get nodeId() {
        return stream.nodeId;
      },
      call: this.call,
      get signal() {
        stream.#abort ??= new AbortController();
        if (stream.#ended) stream.#abort.abort();
        return stream.#abort.signal;
      },
    };
    return this.#hookContext;
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

  /** True once ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Admission's call: the first request named this node. */
  identify(node: Node): void {
    this.node = node;
    this.nodeId = node.id;
  }

  /** Admission's call: the first request was accepted, the stream is open. */
  opened(): void {
    this.ctx.registry.admit(this);
    this.ctx.events.emit('streamOpen', {
      streamId: this.id,
      nodeId: this.nodeId,
      kind: this.kind,
      ads: this.ads,
      method: this.#method.path,
      peer: this.call.getPeer(),
    });
  }

  /** Admission's call: an accepted request of a type the service serves. */
  process(request: Req, typeUrl: string): void {
    if (!this.ctx.servesType(typeUrl) && !this.types.has(typeUrl as TypeUrl))
      this.#types.addUnknown(typeUrl, this);
    this.handle(request, typeUrl as TypeUrl);
  }

  /** Where the watch of a type comes from: the cache, or, for a type the server does not know, nowhere (S15). */
  protected watcher(typeUrl: TypeUrl): ConfigWatcher {
    return this.#types.watcher(typeUrl);
  }

  /** Admission's call, rule S1: which type a request is about. */
  typeOf(request: Req): string {
    return this.#types.typeOf(request.typeUrl);
  }

  /** The writer's call: take and write the response of a type, if its watch has one. */
  respond(typeUrl: TypeUrl): void {
    const state = this.types.get(typeUrl);
    if (state !== undefined) this.respondFor(state);
  }

  /** Handles one request of a known type. */
  protected abstract handle(request: Req, typeUrl: TypeUrl): void;

  /** Takes and writes the response of one type, if its watch has one. */
  protected abstract respondFor(state: TypeState): void;

  /** Opens the watch of a type new on the stream and keeps its state. */
  protected openType(typeUrl: TypeUrl, open: (options: WatchOptions) => SotwWatch | DeltaWatch): TypeState {
    const node = this.node!;
    const watch = open({
      node,
      typeUrl,
      ads: this.ads,
      onReady: this.#writer.due,
      legacyWildcard: this.ctx.legacyWildcard(node, typeUrl),
      supportsTtl: node.clientFeatures.includes(ttlFeature),
      peer: peerOf(this.call.getPeer()),
    });
    // The watch's type URL is the registered type's string, not this request's copy (one per type, not per stream).
    const state = new TypeState(watch.typeUrl, watch);
    this.types.set(watch.typeUrl, state);
    return state;
  }

  /**
   * Rule L2: the subscription of `state`'s type is about to hold `count` names and globs of `bytes` bytes. Checks
   * the bound of a type the server does not serve (`limits.maxNamesPerUnknownType`), the stream's bound over its
   * types (`limits.maxNamesPerStream`) and the budget of subscribed names of the server, the connection and the
   * peer (`limits.maxSubscriptionBytes…`); throws the RESOURCE_EXHAUSTED error naming the limit that it would pass
   * (the stream then ends, and its charge is given back), else records the new size. The subscription itself is
   * changed by the caller afterwards.
   */
  protected resubscribe(state: TypeState, count: number, bytes: number): void {
    const limits = this.ctx.limits;
    const typeUrl = state.typeUrl;
    if (count > limits.maxNamesPerUnknownType && this.#types.isUnknown(typeUrl)) {
      this.ctx.limitReached('maxNamesPerUnknownType');
      throw new XdsError(
        Code.ResourceExhausted,
        `the subscription of ${typeUrl}, a type this server does not serve (rule S15), would hold ${count} names, more than limits.maxNamesPerUnknownType (${limits.maxNamesPerUnknownType})`,
      );
    }
    const names = this.#subscribedNames - state.subscribedNames + count;
    if (names > limits.maxNamesPerStream) {
      this.ctx.limitReached('maxNamesPerStream');
      throw new XdsError(
        Code.ResourceExhausted,
        `the stream's subscriptions would hold ${names} names over its types (${count} of ${typeUrl}), more than limits.maxNamesPerStream (${limits.maxNamesPerStream})`,
      );
    }
    const charge = nameCost(count, bytes) - nameCost(state.subscribedNames, state.subscribedBytes);
    if (charge !== 0) {
      const refused = this.ctx.registry.resubscribe(
        this,
        charge,
        count - state.subscribedNames,
        `the subscription of ${typeUrl} (${count} names of ${bytes} bytes)`,
      );
      if (refused !== undefined) throw refused;
    }
    this.#subscribedNames = names;
    state.subscribedNames = count;
    state.subscribedBytes = bytes;
  }

  /** A nonce unique on this stream (rule S3). */
  protected nextNonce(): string {
    this.#nonce++;
    return this.#nonce.toString(36);
  }

  /**
   * Writes an encoded response, records it as the type's latest (rule S3) and tells 'response' listeners. Until
   * it is flushed, the stream writes nothing else (rule S12).
   */
  protected send(
    state: TypeState,
    version: string,
    nonce: string,
    bytes: ResponseParts,
    names: () => ResponseNames,
  ): void {
    state.sent(version, nonce);
    this.#writer.write(bytes);
    const events = this.ctx.events;
    const hook = this.ctx.hooks.onResponse;
    if (events.listenerCount('response') === 0 && hook === undefined) return;
    // The names are listed only if a listener reads them (1,000 names per response to 10,000 streams add up).
    const response = new LazyResponseEvent(
      this.id,
      this.nodeId,
      state.typeUrl,
      version,
      nonce,
      bytes.length,
      names,
    );
    events.emit('response', response);
    if (hook === undefined) return;
    const context = this.hookContext;
    // The stream takes its next response once the hook settled; a failure ends it (rule L4).
    const pending = callHook(this.ctx, 'onResponse', () => hook(response, context));
    if (pending !== undefined)
      this.#writer.hold(pending, (error) =>
        this.fail(hookFailure(this.ctx, 'onResponse', error, { streamId: this.id, nodeId: this.nodeId })),
      );
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
    // The cache learns of ACKs too (SnapshotCache.lastAcked, go-control-plane #564).
    state.watch.answered(detail === undefined);
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
    // Every client ACKs every push: the event is built only for a listener.
    if (events.listenerCount('ack') === 0) return;
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
   * Ends the stream with a status and forgets its watches. A status goes out after the response before it: when
   * the last write is still unflushed, the stream is reset after `limits.drainTimeoutMs` (rule S12).
   */
  end(code: number, reason: string): void {
    if (this.#ended) return;
    const unread = this.#writer.lastWritePending;
    // The reason may quote the client's text: it goes out (and to 'streamClose') cut (rule L2, status.ts).
    const details = statusDetails(reason);
    this.#close(code, details);
    if (code === status.OK) this.call.end();
    else this.call.emit('error', { code, details });
    if (unread) this.#writer.resetIfStillUnread();
  }

  /** Ends the stream with the status of an error. */
  fail(error: unknown): void {
    const { code, details } = toStatus(error);
    if (!(error instanceof XdsError))
      this.ctx.logger.error({ streamId: this.id, nodeId: this.nodeId, err: error }, 'xDS stream failed');
    else
      this.ctx.logger.warn({ streamId: this.id, nodeId: this.nodeId, code, details }, 'xDS stream refused');
    this.end(code, details);
  }

  /** The writer's call: the stream ends without a status reaching the client (its call is reset). */
  abandon(code: number, reason: string): void {
    if (!this.#ended) this.#close(code, reason);
  }

  #gone(reason: string): void {
    if (this.#ended) return;
    this.#close(status.CANCELLED, reason);
  }

  #close(code: number, reason: string): void {
    this.#ended = true;
    this.#abort?.abort();
    this.#admission.close();
    this.#writer.close();
    for (const state of this.types.values()) state.watch.cancel();
    if (this.#held !== undefined) this.ctx.registry.nodes.release(this.#held);
    this.ctx.registry.leave(this);
    this.ctx.events.emit('streamClose', { streamId: this.id, nodeId: this.nodeId, code, reason });
  }
}
