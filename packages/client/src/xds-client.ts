/**
 * `XdsClient`: a production xDS client. One ADS stream (SotW or delta) to one of several servers; watches by type
 * and name; ACK, and NACK with the message of a validation hook; reconnect with exponential backoff and jitter to
 * the next server; and on every new stream it presents what it holds (rules S13, D6), so a server holding the same
 * content sends nothing again. Resources keep their encoded bytes, so a relay forwards them as received (rule X2).
 */
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { Code, type Node, NodeSchema, XdsError } from '@xds/api';
import { EventEmitter } from 'eventemitter3';
import { Backoff } from './backoff.js';
import { deltaProtocol } from './delta-protocol.js';
import type { XdsClientEvents } from './events.js';
import {
  type ClientLogger,
  cutText,
  type ResolvedClientLimits,
  resolveClientLimits,
  type Validate,
  type XdsClientOptions,
} from './options.js';
import type { Protocol, Received } from './protocol.js';
import { type RequestBacklog, RequestSender } from './request-sender.js';
import { schemaOf, type XdsResource } from './resource.js';
import { type ClientStream, ResponseHandler } from './response-handler.js';
import { sotwProtocol } from './sotw-protocol.js';
import { TypeState, type Watcher, type WatchUpdate } from './type-state.js';
import { openWatch, type WatchHandle, type WatchHost } from './watch-handle.js';

/** True when no watch of the type names anything. */
function isEmpty(type: TypeState): boolean {
  const sub = type.subscription();
  return !sub.wildcard && sub.names.size === 0;
}

const silent: ClientLogger = { debug: () => {}, info: () => {}, warn: () => {} };

/**
 * An xDS client over one ADS stream. It connects at the first {@link watch}.
 *
 * @example
 * ```ts
 * const client = new XdsClient({ servers: ['127.0.0.1:18000'], node: 'node-1' });
 * const cancel = client.watch(TypeUrl.Cluster, '*', (update) => console.log(update.updated.map((r) => r.name)));
 * // …
 * cancel();
 * await client.close();
 * ```
 */
export class XdsClient extends EventEmitter<XdsClientEvents> {
  /** The protocol spoken. */
  readonly protocol: 'sotw' | 'delta';
  /** The node sent on each stream's first request. */
  readonly node: Node;
  readonly #servers: readonly string[];
  readonly #wire: Protocol<unknown, unknown>;
  readonly #limits: ResolvedClientLimits;
  readonly #validate: Validate | undefined;
  readonly #backoff: Backoff;
  readonly #logger: ClientLogger;
  readonly #credentials: grpc.ChannelCredentials;
  readonly #channelOptions: grpc.ChannelOptions;
  readonly #types = new Map<string, TypeState>();
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => void this.close();
  readonly #host: WatchHost = {
    subscriptionChanged: (type) => this.#subscriptionChanged(type),
    handOver: (type, watcher, held) => this.#handOver(type, watcher, held),
  };
  readonly #responses: ResponseHandler;
  #index = 0;
  #stream: ClientStream | undefined;
  #connected = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Creates the client; it connects at the first watch. Throws an XdsError for bad options. */
  constructor(options: XdsClientOptions) {
    super();
    if (options.servers.length === 0)
      throw new XdsError(Code.InvalidArgument, 'XdsClient: options.servers names no server');
    this.#servers = [...options.servers];
    this.protocol = options.protocol ?? 'sotw';
    this.#wire = (this.protocol === 'delta' ? deltaProtocol : sotwProtocol) as Protocol<unknown, unknown>;
    this.node = create(NodeSchema, typeof options.node === 'string' ? { id: options.node } : options.node);
    if (this.node.id === '') throw new XdsError(Code.InvalidArgument, 'XdsClient: the node has no id');
    this.#limits = resolveClientLimits(options.limits);
    this.#validate = options.validate;
    this.#backoff = new Backoff(options.backoff);
    this.#logger = options.logger ?? silent;
    this.#credentials = options.credentials ?? grpc.credentials.createInsecure();
    this.#channelOptions = {
      'grpc.max_receive_message_length': this.#limits.maxMessageBytes,
      ...options.channelOptions,
    };
    this.#responses = new ResponseHandler({
      protocol: this.protocol,
      wire: this.#wire,
      limits: this.#limits,
      validate: this.#validate,
      logger: this.#logger,
      backoff: this.#backoff,
      types: this.#types,
      current: (stream) => this.#stream === stream && !this.#closed,
      heldBytes: () => this.heldBytes(),
      emit: (event, ...args) => this.emit(event, ...args),
    });
    this.#signal = options.signal;
    if (this.#signal?.aborted) this.#closed = true;
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** The server of the current stream, or undefined between streams. */
  get address(): string | undefined {
    return this.#stream?.address;
  }

  /** True while a stream's channel is connected. */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * The current stream's requests (rule L2): bytes written and not yet taken by the connection, types whose request
   * waits for room (at `limits.maxQueuedRequestBytes` the client writes nothing more and coalesces what it owes),
   * requests written and requests coalesced. All 0 between streams.
   */
  requestBacklog(): RequestBacklog {
    return this.#stream?.sender.backlog ?? { queuedBytes: 0, waitingTypes: 0, written: 0, coalesced: 0 };
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Watches resources of a type: `names` or `'*'` (every resource of the type; Listener and Cluster, or types the
   * server allows by wildcard). The listener is called with the resources it wants that changed or were removed,
   * and at once (asynchronously) with what the client already holds of them. Throws an XdsError for a type the
   * client cannot decode or after close().
   */
  watch(
    typeUrl: string,
    names: Iterable<string> | '*',
    listener: (update: WatchUpdate) => void,
  ): WatchHandle {
    if (this.#closed) throw new XdsError(Code.FailedPrecondition, 'XdsClient: watch() after close()');
    if (schemaOf(typeUrl) === undefined)
      throw new XdsError(Code.InvalidArgument, `XdsClient: cannot decode resources of type ${typeUrl}`);
    let type = this.#types.get(typeUrl);
    if (type === undefined) {
      type = new TypeState(typeUrl);
      this.#types.set(typeUrl, type);
    }
    return openWatch(type, names, listener, this.#host);
  }

  /** The resources of a type the client holds now, by name (a copy). */
  resources(typeUrl: string): ReadonlyMap<string, XdsResource> {
    return new Map(this.#types.get(typeUrl)?.held ?? []);
  }

  /** One resource the client holds, without copying anything; undefined when it holds none of that name. */
  resource(typeUrl: string, name: string): XdsResource | undefined {
    return this.#types.get(typeUrl)?.held.get(name);
  }

  /**
   * The encoded bytes of the resources the client holds, summed: of one type, or of every type when `typeUrl` is
   * not given (bounded by `limits.maxResourceBytesPerType` and `limits.maxResourceBytesTotal`).
   */
  heldBytes(typeUrl?: string): number {
    if (typeUrl !== undefined) return this.#types.get(typeUrl)?.heldBytes ?? 0;
    let total = 0;
    for (const type of this.#types.values()) total += type.heldBytes;
    return total;
  }

  /** The version of the latest response accepted for a type (`''` before any). */
  version(typeUrl: string): string {
    return this.#types.get(typeUrl)?.version ?? '';
  }

  /** Closes the stream and the channel; no more events. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const stream = this.#stream;
    if (stream === undefined) return;
    stream.call.cancel();
    await stream.ended;
  }

  /**
   * Tells a watch, asynchronously, of `held`: resources it wants that the client held before the watch wanted them.
   * Its `resources` view is made when read.
   */
  #handOver(type: TypeState, watcher: Watcher, held: ReadonlyMap<string, XdsResource>): void {
    if (held.size === 0) return;
    const applied = { updated: [...held.values()], removed: [] };
    queueMicrotask(() => {
      if (!type.watchers.has(watcher)) return;
      const update = type.updateFor(watcher, type.version, applied);
      if (update !== undefined) this.#responses.call(watcher, update);
    });
  }

  #subscriptionChanged(type: TypeState): void {
    const stream = this.#stream;
    if (stream === undefined) {
      if (this.#timer === undefined && !this.#closed) this.#connect();
      return;
    }
    // The sender builds the request when there is room for it (rule L2): changes made meanwhile are coalesced.
    stream.sender.resubscribe(type);
  }

  #connect(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const address = this.#servers[this.#index % this.#servers.length]!;
    const grpcClient = new grpc.Client(address, this.#credentials, this.#channelOptions);
    const call = grpcClient.makeBidiStreamRequest(
      this.#wire.method.path,
      // The sender serializes each request itself, to count the bytes the call holds.
      (bytes: Buffer) => bytes,
      (b: Buffer) => this.#wire.deserialize(b, this.#limits),
    );
    let resolveEnded: () => void = () => {};
    const sender = new RequestSender(call, {
      wire: this.#wire,
      limits: this.#limits,
      nodeDue: () => this.#nodeDue(stream),
      stalled: (reason) => {
        if (stream.done || this.#stream !== stream) return;
        stream.refusal = reason;
        this.#logger.warn({ address, error: reason }, 'xds client: the server does not read its stream');
        call.cancel();
      },
    });
    const stream: ClientStream = {
      address,
      grpcClient,
      call,
      sender,
      ended: new Promise((resolve) => {
        resolveEnded = resolve;
      }),
      done: false,
      nodeSent: false,
    };
    this.#stream = stream;
    call.on('data', (received: Received<unknown>) => this.#guard(stream, received));
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => {
      this.#onEnd(stream, status);
      resolveEnded();
    });
    for (const type of this.#types.values()) {
      type.nonce = '';
      type.resetTold();
      if (!isEmpty(type)) sender.initial(type);
    }
    this.#logger.debug({ address, protocol: this.protocol }, 'xds client: stream opened');
    grpcClient.waitForReady(Number.POSITIVE_INFINITY, (error) => {
      if (error !== undefined || this.#stream !== stream || stream.done) return;
      this.#connected = true;
      this.emit('connected', { address });
    });
  }

  /** The node for the stream's first request, undefined after it. */
  #nodeDue(stream: ClientStream): Node | undefined {
    if (stream.nodeSent) return undefined;
    stream.nodeSent = true;
    return this.node;
  }

  #onEnd(stream: ClientStream, status: grpc.StatusObject): void {
    stream.done = true;
    stream.sender.close();
    stream.grpcClient.close();
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    this.#connected = false;
    const { code } = status;
    const details = stream.refusal ?? status.details;
    this.#logger.info({ address: stream.address, code, details }, 'xds client: stream ended');
    this.emit('disconnected', { address: stream.address, code, details });
    if (this.#closed) return;
    this.#index = (this.#index + 1) % this.#servers.length;
    const attempt = this.#backoff.attempt;
    const delayMs = this.#backoff.next();
    const next = this.#servers[this.#index]!;
    this.emit('reconnecting', { address: next, attempt, delayMs });
    this.#timer = setTimeout(() => this.#connect(), delayMs);
  }

  /**
   * Emits an event; a listener that throws is logged and never reaches grpc-js's `data` handler, which would take
   * the process down (rule L4).
   */
  override emit<E extends keyof XdsClientEvents>(event: E, ...args: XdsClientEvents[E]): boolean {
    try {
      return (super.emit as (event: E, ...args: XdsClientEvents[E]) => boolean)(event, ...args);
    } catch (e) {
      this.#logger.warn(
        { event, error: cutText(e instanceof Error ? e.message : String(e), 1024) },
        'xds client: an event listener threw',
      );
      return true;
    }
  }

  /**
   * Handles a response; anything that throws while doing so ends the stream with the failure named (the client
   * reconnects and presents what it holds), instead of escaping into grpc-js (rule L4).
   */
  #guard(stream: ClientStream, received: Received<unknown>): void {
    try {
      this.#responses.handle(stream, received);
    } catch (e) {
      const error = cutText(e instanceof Error ? e.message : String(e), 1024);
      this.#logger.warn({ address: stream.address, error }, 'xds client: handling a response failed');
      if (stream.done || this.#stream !== stream) return;
      stream.refusal = `the client failed to handle a response: ${error}; the stream was ended`;
      stream.call.cancel();
    }
  }
}
