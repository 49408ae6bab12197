import type { Message } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import type { DeltaDiscoveryRequest, DiscoveryMethod, DiscoveryRequest, Node } from '@xds/api';
import { type CallCodec, type StreamEnd, XdsCall } from './call.js';
import { shortTypeName } from './codec.js';
import type { ReceivedResponse } from './received.js';
import type { ResponseLog } from './response-log.js';

/** A request the client sent, as the server decodes it. */
export type SentRequest = DiscoveryRequest | DeltaDiscoveryRequest;

/** What every stream of a client shares with it. */
export interface StreamContext {
  /** The gRPC client (channel) the streams run on. */
  readonly grpcClient: grpc.Client;
  /** The node sent on the first request of each stream. */
  readonly node: Node;
  /** Send the node on every request, not only the first of a stream. */
  readonly sendNodeOnEveryRequest: boolean;
  /** Answer every response at once (ACK, or NACK when `nack` or decoding says so). */
  readonly autoAck: boolean;
  /** The NACK decision for `autoAck`. */
  readonly nack: (response: ReceivedResponse) => string | undefined;
  /** Where responses are recorded and awaited. */
  readonly log: ResponseLog;
  /** Where sent requests are recorded. */
  readonly requests: SentRequest[];
  /** Told once when a stream ends. */
  readonly onEnd: (end: StreamEnd, stream: DiscoveryStream) => void;
}

/** The state of one type on one stream that both protocols keep. */
export interface TypeStateBase {
  /** The type URL. */
  readonly typeUrl: string;
  /** True once the client subscribed to the type on this stream. */
  subscribed: boolean;
  /** The latest response of the type: the one `ack` and `nack` answer. */
  latest: ReceivedResponse | undefined;
  /** The resources the client holds, by name. */
  held: Map<string, Message>;
}

/** The calls every stream supports; see the methods of the same names on `XdsTestClient`. */
export interface DiscoveryStream {
  /** The method path of the stream. */
  readonly path: string;
  /** True when the stream carries `typeUrl` (an ADS stream carries every type). */
  serves(typeUrl: string): boolean;
  /** How the stream ended, if it did. */
  readonly end: StreamEnd | undefined;
  /** Resolves when the stream ends. */
  readonly ended: Promise<StreamEnd>;
  /** Adds names to the subscription of a type and sends the request for it. */
  subscribe(typeUrl: string, names: readonly string[]): void;
  /** Removes names from the subscription of a type and sends the request for it. */
  unsubscribe(typeUrl: string, names: readonly string[]): void;
  /** Replaces the subscription of a type and sends the request for it. */
  setSubscription(typeUrl: string, names: readonly string[]): void;
  /** Sends a request as it is given. */
  sendRaw(request: SentRequest): void;
  /** ACKs the latest response of a type. */
  ack(typeUrl: string): void;
  /** NACKs the latest response of a type. */
  nack(typeUrl: string, message: string): void;
  /** The resources the client holds for a type. */
  held(typeUrl: string): ReadonlyMap<string, Message>;
  /** Cancels the stream. */
  cancel(): void;
}

/**
 * What SotW and delta streams share: the gRPC call, the node on the first request, the request log, and the
 * handling of each response (decode, record, answer).
 */
export abstract class BaseDiscoveryStream<
  Req extends SentRequest,
  Res extends Message,
  State extends TypeStateBase,
> implements DiscoveryStream
{
  /** The context shared with the client. */
  protected readonly ctx: StreamContext;
  /** The per-type state, by type URL. */
  protected readonly types = new Map<string, State>();
  /** The one type of a per-type stream; undefined on ADS. */
  protected readonly fixedType: string | undefined;
  readonly #call: XdsCall<Req, Res>;
  #nodeSent = false;
  /** Resolves when the stream ends. */
  readonly ended: Promise<StreamEnd>;

  /** Prepares the stream of `method`; it opens on the first request. */
  constructor(ctx: StreamContext, method: DiscoveryMethod, codec: CallCodec<Req, Res>) {
    this.ctx = ctx;
    this.fixedType = method.typeUrl;
    let resolveEnded: (end: StreamEnd) => void = () => {};
    this.ended = new Promise((resolve) => {
      resolveEnded = resolve;
    });
    this.#call = new XdsCall(ctx.grpcClient, method.path, codec, {
      onMessage: (message) => this.#onMessage(message),
      onEnd: (end) => {
        resolveEnded(end);
        ctx.onEnd(end, this);
      },
    });
  }

  /** The method path of the stream. */
  get path(): string {
    return this.#call.path;
  }

  /** How the stream ended, if it did. */
  get end(): StreamEnd | undefined {
    return this.#call.end;
  }

  /** True when the stream carries `typeUrl`. */
  serves(typeUrl: string): boolean {
    return this.fixedType === undefined || this.fixedType === typeUrl;
  }

  abstract subscribe(typeUrl: string, names: readonly string[]): void;
  abstract unsubscribe(typeUrl: string, names: readonly string[]): void;
  abstract setSubscription(typeUrl: string, names: readonly string[]): void;

  /** Sends a request exactly as given (no node added); it still counts as the stream's first request. */
  sendRaw(request: SentRequest): void {
    this.#send(request as Req, true);
  }

  /** ACKs the latest response of a type. */
  ack(typeUrl: string): void {
    const state = this.types.get(typeUrl);
    this.answer(this.#latest(state, typeUrl, 'ack'), state!, undefined);
  }

  /** NACKs the latest response of a type with `message` in `error_detail`. */
  nack(typeUrl: string, message: string): void {
    const state = this.types.get(typeUrl);
    this.answer(this.#latest(state, typeUrl, 'nack'), state!, message);
  }

  /** The resources the client holds for a type, as a copy. */
  held(typeUrl: string): ReadonlyMap<string, Message> {
    return new Map(this.types.get(typeUrl)?.held);
  }

  /** Cancels the stream. */
  cancel(): void {
    this.#call.cancel();
  }

  /** Sends a request the client built: the node goes on the stream's first one (or every one, if asked). */
  protected send(request: Req): void {
    this.#send(request, false);
  }

  /** The state of a type, created empty on first use. */
  protected state(typeUrl: string): State {
    let state = this.types.get(typeUrl);
    if (state === undefined) {
      if (!this.serves(typeUrl)) {
        throw new Error(`${this.path} carries ${shortTypeName(this.fixedType ?? '')} only, not ${typeUrl}`);
      }
      state = this.newState(typeUrl);
      this.types.set(typeUrl, state);
    }
    return state;
  }

  /** The initial state of a type. */
  protected abstract newState(typeUrl: string): State;
  /** Decodes a response whose effective type is `typeUrl`. */
  protected abstract decode(message: Res, typeUrl: string): ReceivedResponse;
  /** The effective type of a response (its `type_url`, or the stream's type when empty). */
  protected abstract typeOf(message: Res): string;
  /** Notes a response in the type's state before it is answered (nonce bookkeeping). */
  protected abstract received(state: State, response: ReceivedResponse): void;
  /** Sends the ACK (`nackMessage` undefined) or NACK of `response`, and applies it when ACKed. */
  protected abstract answer(response: ReceivedResponse, state: State, nackMessage: string | undefined): void;

  #send(request: Req, raw: boolean): void {
    if (!raw && (!this.#nodeSent || this.ctx.sendNodeOnEveryRequest)) request.node = this.ctx.node;
    this.#call.write(request);
    this.#nodeSent = true;
    this.ctx.requests.push(request);
  }

  #latest(state: State | undefined, typeUrl: string, what: string): ReceivedResponse {
    const latest = state?.latest;
    if (latest === undefined) {
      throw new Error(`${what}(${shortTypeName(typeUrl)}): no ${shortTypeName(typeUrl)} response to answer`);
    }
    return latest;
  }

  #onMessage(message: Res): void {
    const typeUrl = this.typeOf(message);
    const response = this.decode(message, typeUrl);
    const state = this.types.get(typeUrl);
    // A type the client never subscribed to is recorded but not answered, as Envoy ignores it: answering
    // would subscribe to it.
    if (state?.subscribed === true) {
      state.latest = response;
      this.received(state, response);
      if (this.ctx.autoAck) {
        const nackMessage = response.errors.length > 0 ? response.errors.join('; ') : this.ctx.nack(response);
        this.answer(response, state, nackMessage);
      }
    }
    this.ctx.log.add(response, state?.held ?? new Map());
  }
}
