import { create } from '@bufbuild/protobuf';
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
  DeltaDiscoveryResponseSchema,
  type DiscoveryMethod,
} from '@xds/api';
import { deserializer, nackCode, serializer, shortTypeName } from './codec.js';
import { BaseDiscoveryStream, type StreamContext, type TypeStateBase } from './discovery-stream.js';
import { decodeDeltaResponse, type ReceivedResponse, settle } from './received.js';

/** The delta state of one type on one stream. */
export interface DeltaTypeState extends TypeStateBase {
  /** The names subscribed explicitly (may hold `"*"`). */
  names: Set<string>;
  /** True while the subscription is the implicit wildcard of a first request with both lists empty (D7). */
  implicitWildcard: boolean;
}

function isWildcard(state: DeltaTypeState): boolean {
  return state.implicitWildcard || state.names.has('*');
}

/**
 * An incremental (delta) stream, aggregated or for one type: subscription changes go in
 * `resource_names_subscribe` / `_unsubscribe` without a nonce; an ACK is the type and the response's nonce; a
 * NACK adds `error_detail`. An ACKed response adds its resources to what the client holds and removes its
 * `removed_resources`.
 */
export class DeltaStream extends BaseDiscoveryStream<
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DeltaTypeState
> {
  /** Prepares a delta stream on `method` (`kind: 'delta'`). */
  constructor(ctx: StreamContext, method: DiscoveryMethod) {
    super(ctx, method, {
      serialize: serializer(DeltaDiscoveryRequestSchema),
      deserialize: deserializer(DeltaDiscoveryResponseSchema),
    });
  }

  /** Sends `names` in `resource_names_subscribe`. `[]` on a new type is the implicit wildcard. */
  subscribe(typeUrl: string, names: readonly string[]): void {
    const state = this.state(typeUrl);
    this.#change(state, [...names], []);
  }

  /** Sends `names` in `resource_names_unsubscribe`; the client forgets them unless it is still wildcard. */
  unsubscribe(typeUrl: string, names: readonly string[]): void {
    const state = this.types.get(typeUrl);
    if (state?.subscribed !== true) {
      throw new Error(`unsubscribe(${shortTypeName(typeUrl)}): the client is not subscribed to this type`);
    }
    this.#change(state, [], [...names]);
  }

  /** Sends the difference between the current subscription and `names` in one request. */
  setSubscription(typeUrl: string, names: readonly string[]): void {
    const state = this.state(typeUrl);
    const wanted = new Set(names);
    const add = [...wanted].filter((name) => !state.names.has(name));
    const drop = [...state.names].filter((name) => !wanted.has(name));
    // Leaving the implicit wildcard is unsubscribing "*" (D7).
    if (state.implicitWildcard && !wanted.has('*') && !drop.includes('*')) drop.push('*');
    this.#change(state, add, drop);
  }

  protected newState(typeUrl: string): DeltaTypeState {
    return {
      typeUrl,
      subscribed: false,
      latest: undefined,
      held: new Map(),
      names: new Set(),
      implicitWildcard: false,
    };
  }

  protected typeOf(message: DeltaDiscoveryResponse): string {
    return message.typeUrl !== '' ? message.typeUrl : (this.fixedType ?? '');
  }

  protected decode(message: DeltaDiscoveryResponse, typeUrl: string): ReceivedResponse {
    return decodeDeltaResponse(message, typeUrl);
  }

  protected received(): void {}

  protected answer(response: ReceivedResponse, state: DeltaTypeState, nackMessage: string | undefined): void {
    const ack = nackMessage === undefined;
    this.send(
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: state.typeUrl,
        responseNonce: response.nonce,
        ...(ack ? {} : { errorDetail: { code: nackCode, message: nackMessage } }),
      }),
    );
    settle(response, nackMessage);
    if (!ack || response.protocol !== 'delta') return;
    for (const resource of response.resources) {
      if (resource.message !== undefined) state.held.set(resource.name, resource.message);
    }
    for (const name of response.removed) state.held.delete(name);
  }

  #change(state: DeltaTypeState, subscribe: string[], unsubscribe: string[]): void {
    const first = !state.subscribed;
    state.subscribed = true;
    if (first && subscribe.length === 0) state.implicitWildcard = true;
    for (const name of subscribe) state.names.add(name);
    for (const name of unsubscribe) {
      state.names.delete(name);
      if (name === '*') state.implicitWildcard = false;
    }
    this.send(
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: state.typeUrl,
        resourceNamesSubscribe: subscribe,
        resourceNamesUnsubscribe: unsubscribe,
      }),
    );
    if (!isWildcard(state)) for (const name of unsubscribe) state.held.delete(name);
  }
}
