import { create, isMessage, type Message } from '@bufbuild/protobuf';
import { Client, credentials, status as Status } from '@grpc/grpc-js';
import { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema, NodeSchema } from '@xds/api';
import type { StreamEnd } from './call.js';
import { type Protocol, shortTypeName, streamMethod } from './codec.js';
import { DeltaStream } from './delta-stream.js';
import type { DiscoveryStream, SentRequest, StreamContext } from './discovery-stream.js';
import type {
  DeltaDiscoveryRequestInit,
  DiscoveryRequestInit,
  SendOptions,
  XdsTestClientOptions,
} from './options.js';
import type { ReceivedResponse } from './received.js';
import { ResponseLog, type ResponsePredicate, type WaitOptions } from './response-log.js';
import { SotwStream } from './sotw-stream.js';

const adsKey = '';

/**
 * An xDS client for tests. It speaks SotW or delta, over ADS or one stream per type, subscribes and ACKs or
 * NACKs as Envoy does, records every request and response, and lets a test await responses with a deadline.
 *
 * Streams open at their first request (the first `subscribe` or `send`); nothing reconnects. Call
 * {@link close} at the end of the test.
 *
 * @example
 * ```ts
 * const client = new XdsTestClient({ address: '127.0.0.1:18000', node: 'node-1' });
 * client.subscribe(TypeUrl.Cluster, []);
 * const response = await client.next(TypeUrl.Cluster);
 * assert.deepEqual(response.names, ['backend']);
 * await client.close();
 * ```
 */
export class XdsTestClient {
  /** The protocol the client speaks. */
  readonly protocol: Protocol;
  /** True when every type goes over one aggregated (ADS) stream. */
  readonly ads: boolean;
  readonly #grpc: Client;
  readonly #ctx: StreamContext;
  readonly #log: ResponseLog;
  readonly #requests: SentRequest[] = [];
  readonly #streams = new Map<string, DiscoveryStream>();
  readonly #firstEnd: Promise<StreamEnd>;
  #resolveFirstEnd: (end: StreamEnd) => void = () => {};
  #closing: Promise<void> | undefined;

  /** Creates the client; it connects when the first request is sent. */
  constructor(options: XdsTestClientOptions) {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
    this.protocol = options.protocol ?? 'sotw';
    this.ads = options.ads ?? true;
    this.#grpc = new Client(
      options.address,
      options.credentials ?? credentials.createInsecure(),
      options.channelOptions ?? {},
    );
    this.#log = new ResponseLog(timeoutMs, (typeUrl) => this.#existing(typeUrl)?.end);
    this.#firstEnd = new Promise((resolve) => {
      this.#resolveFirstEnd = resolve;
    });
    const node = create(NodeSchema, typeof options.node === 'string' ? { id: options.node } : options.node);
    this.#ctx = {
      grpcClient: this.#grpc,
      node,
      sendNodeOnEveryRequest: options.sendNodeOnEveryRequest ?? false,
      autoAck: options.autoAck ?? true,
      nack: options.nack ?? (() => undefined),
      log: this.#log,
      requests: this.#requests,
      onEnd: (end, stream) => {
        this.#log.streamEnded(end, (typeUrl) => stream.serves(typeUrl));
        this.#resolveFirstEnd(end);
      },
    };
  }

  /**
   * Adds `names` to the subscription of a type and sends a request. SotW: a `DiscoveryRequest` with the whole
   * subscription, the version last accepted and the latest nonce. Delta: `resource_names_subscribe: names`.
   * `[]` for a type not yet subscribed is the legacy (SotW) or implicit (delta) wildcard; `"*"` is the explicit
   * wildcard. Every call sends one request.
   */
  subscribe(typeUrl: string, names: readonly string[]): void {
    this.#stream(typeUrl).subscribe(typeUrl, names);
  }

  /**
   * Removes `names` from the subscription of a type and sends a request (SotW: the remaining names; delta:
   * `resource_names_unsubscribe: names`). The client stops holding those resources unless it is subscribed by
   * wildcard. Throws when the type was never subscribed.
   */
  unsubscribe(typeUrl: string, names: readonly string[]): void {
    this.#stream(typeUrl).unsubscribe(typeUrl, names);
  }

  /**
   * Replaces the subscription of a type with `names` and sends a request (SotW: the list; delta: the names
   * added in `resource_names_subscribe` and those dropped in `resource_names_unsubscribe`).
   */
  setSubscription(typeUrl: string, names: readonly string[]): void {
    this.#stream(typeUrl).setSubscription(typeUrl, names);
  }

  /**
   * Sends a request exactly as given, for protocol tests (crafted nonces, `error_detail`, another node, …):
   * no node is added and the subscription bookkeeping is not changed. A `DiscoveryRequest` for a SotW client,
   * a `DeltaDiscoveryRequest` for a delta one.
   */
  send(request: DiscoveryRequestInit | DeltaDiscoveryRequestInit, options?: SendOptions): void {
    const expected = this.protocol === 'sotw' ? DiscoveryRequestSchema : DeltaDiscoveryRequestSchema;
    if (isMessage(request) && !isMessage(request, expected)) {
      const given = (request as Message).$typeName;
      throw new TypeError(`send(): a ${this.protocol} client sends ${expected.typeName}, not ${given}`);
    }
    const message: SentRequest =
      this.protocol === 'sotw'
        ? create(DiscoveryRequestSchema, request as DiscoveryRequestInit)
        : create(DeltaDiscoveryRequestSchema, request as DeltaDiscoveryRequestInit);
    const typeUrl = options?.typeUrl ?? message.typeUrl;
    if (!this.ads && typeUrl === '') {
      throw new Error(
        'send(): a request with an empty type_url needs options.typeUrl to pick a per-type stream',
      );
    }
    this.#stream(typeUrl).sendRaw(message);
  }

  /**
   * Resolves with the next response of `typeUrl` that no earlier `next()` returned, waiting for it if needed.
   * Rejects after the deadline (`options.timeoutMs`, else the client's `timeoutMs`), or when the stream that
   * carries the type ends, with an Error that names the type and says what was received.
   */
  next(typeUrl: string, options?: WaitOptions): Promise<ReceivedResponse> {
    return this.#log.next(typeUrl, options);
  }

  /**
   * Resolves with the first response of `typeUrl`, already received or yet to come, for which `predicate`
   * returns true; it is given the response and the resources the client held right after it. Does not move the
   * cursor of {@link next}. Rejects like `next()`, or with what `predicate` throws.
   */
  waitFor(typeUrl: string, predicate: ResponsePredicate, options?: WaitOptions): Promise<ReceivedResponse> {
    return this.#log.waitFor(typeUrl, predicate, options);
  }

  /** Every response received, or those of one type, in order. */
  responses(typeUrl?: string): ReceivedResponse[] {
    return this.#log.responses(typeUrl);
  }

  /**
   * The resources of a type the client holds now, by name (a copy). SotW Listener and Cluster responses
   * replace the set; responses of other SotW types add to it; delta responses add their resources and remove
   * their `removed_resources`. Only ACKed responses count.
   */
  resources(typeUrl: string): ReadonlyMap<string, Message> {
    return this.#existing(typeUrl)?.held(typeUrl) ?? new Map();
  }

  /**
   * ACKs the latest response of a type (with `autoAck: false`): SotW sends its version and nonce; delta sends
   * its nonce. The response's resources are then applied.
   */
  ack(typeUrl: string): void {
    this.#answering(typeUrl, 'ack').ack(typeUrl);
  }

  /**
   * NACKs the latest response of a type (with `autoAck: false`): `error_detail` is `{code: 3, message}`; SotW
   * sends the version last accepted and the response's nonce; delta sends the nonce.
   */
  nack(typeUrl: string, message: string): void {
    this.#answering(typeUrl, 'nack').nack(typeUrl, message);
  }

  /** Every request sent, in order, as the server decodes it. */
  get requests(): readonly SentRequest[] {
    return this.#requests;
  }

  /**
   * Resolves when a stream ends: the stream of `typeUrl` when given (on ADS, the one stream), otherwise the
   * first stream of the client to end. The status is the server's, or `CANCELLED` after {@link close}.
   */
  ended(typeUrl?: string): Promise<StreamEnd> {
    if (typeUrl === undefined) return this.#firstEnd;
    return this.#existing(typeUrl)?.ended ?? (this.#closing ? this.#firstEnd : this.#stream(typeUrl).ended);
  }

  /**
   * Calls `listener` on every response from now on, after the client recorded and (with `autoAck`) answered
   * it. An exception thrown by `listener` cancels the stream. Returns a function that removes the listener.
   */
  onResponse(listener: (response: ReceivedResponse) => void): () => void {
    return this.#log.onResponse(listener);
  }

  /**
   * Cancels every stream, waits for them to end, fails every pending `next()` / `waitFor()` and closes the
   * channel. Safe to call more than once.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const streams = [...this.#streams.values()];
    for (const stream of streams) stream.cancel();
    await Promise.all(streams.map((stream) => stream.ended));
    this.#log.rejectAll('the client was closed');
    this.#resolveFirstEnd({ code: Status.CANCELLED, details: 'the client was closed', path: '' });
    this.#grpc.close();
  }

  #key(typeUrl: string): string {
    return this.ads ? adsKey : typeUrl;
  }

  #existing(typeUrl: string): DiscoveryStream | undefined {
    return this.#streams.get(this.#key(typeUrl));
  }

  #answering(typeUrl: string, what: string): DiscoveryStream {
    const stream = this.#existing(typeUrl);
    if (stream === undefined) {
      throw new Error(`${what}(${shortTypeName(typeUrl)}): no stream carries this type`);
    }
    return stream;
  }

  #stream(typeUrl: string): DiscoveryStream {
    if (this.#closing !== undefined) throw new Error('the client is closed');
    const key = this.#key(typeUrl);
    let stream = this.#streams.get(key);
    if (stream === undefined) {
      const method = streamMethod(this.protocol, this.ads ? undefined : typeUrl);
      stream =
        this.protocol === 'sotw' ? new SotwStream(this.#ctx, method) : new DeltaStream(this.#ctx, method);
      this.#streams.set(key, stream);
    }
    return stream;
  }
}
