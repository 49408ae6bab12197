import { create } from '@bufbuild/protobuf';
import {
  type DiscoveryMethod,
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  type DiscoveryResponse,
  DiscoveryResponseSchema,
  resourceType,
} from '@xds/api';
import { deserializer, nackCode, serializer, shortTypeName } from './codec.js';
import { BaseDiscoveryStream, type StreamContext, type TypeStateBase } from './discovery-stream.js';
import type { ReceivedResponse } from './received.js';
import { decodeSotwResponse, settle } from './received.js';

/** The SotW state of one type on one stream. */
export interface SotwTypeState extends TypeStateBase {
  /** The subscribed names, in the order first subscribed, each once (may hold `"*"`). */
  names: string[];
  /** True once any request of the type named something; until then an empty list is legacy wildcard (S9). */
  everNamed: boolean;
  /** The version of the last response the client ACKed (`""` before any). */
  acceptedVersion: string;
  /** The nonce of the latest response received (`""` before any). */
  lastNonce: string;
}

/** True when the subscription is a wildcard one: explicit `"*"`, or legacy (nothing ever named). */
function isWildcard(state: SotwTypeState): boolean {
  return state.names.includes('*') || !state.everNamed;
}

/**
 * A state-of-the-world stream, aggregated (ADS) or for one type, that subscribes, ACKs and NACKs as Envoy does:
 * an ACK repeats the response's version and nonce; a NACK carries the version last accepted, the new nonce
 * and `error_detail`; a subscription change carries the version last accepted and the latest nonce; every
 * request carries the type's whole subscription.
 */
export class SotwStream extends BaseDiscoveryStream<DiscoveryRequest, DiscoveryResponse, SotwTypeState> {
  /** Prepares a SotW stream on `method` (`kind: 'sotw'`). */
  constructor(ctx: StreamContext, method: DiscoveryMethod) {
    super(ctx, method, {
      serialize: serializer(DiscoveryRequestSchema),
      deserialize: deserializer(DiscoveryResponseSchema),
    });
  }

  /** Adds `names` to the subscription and sends it whole. `[]` on a new type is legacy wildcard. */
  subscribe(typeUrl: string, names: readonly string[]): void {
    const state = this.state(typeUrl);
    for (const name of names) if (!state.names.includes(name)) state.names.push(name);
    this.#update(state);
  }

  /** Removes `names` from the subscription and sends it whole; the client forgets them unless wildcard. */
  unsubscribe(typeUrl: string, names: readonly string[]): void {
    const state = this.types.get(typeUrl);
    if (state?.subscribed !== true) {
      throw new Error(`unsubscribe(${shortTypeName(typeUrl)}): the client is not subscribed to this type`);
    }
    state.names = state.names.filter((name) => !names.includes(name));
    this.#update(state);
    if (!isWildcard(state)) for (const name of names) state.held.delete(name);
  }

  /** Replaces the subscription and sends it. `[]` on a new type is legacy wildcard; later it means nothing. */
  setSubscription(typeUrl: string, names: readonly string[]): void {
    const state = this.state(typeUrl);
    state.names = [...new Set(names)];
    this.#update(state);
    if (!isWildcard(state)) {
      for (const name of [...state.held.keys()]) if (!state.names.includes(name)) state.held.delete(name);
    }
  }

  protected newState(typeUrl: string): SotwTypeState {
    return {
      typeUrl,
      subscribed: false,
      latest: undefined,
      held: new Map(),
      names: [],
      everNamed: false,
      acceptedVersion: '',
      lastNonce: '',
    };
  }

  protected typeOf(message: DiscoveryResponse): string {
    return message.typeUrl !== '' ? message.typeUrl : (this.fixedType ?? '');
  }

  protected decode(message: DiscoveryResponse, typeUrl: string): ReceivedResponse {
    return decodeSotwResponse(message, typeUrl);
  }

  protected received(state: SotwTypeState, response: ReceivedResponse): void {
    state.lastNonce = response.nonce;
  }

  protected answer(response: ReceivedResponse, state: SotwTypeState, nackMessage: string | undefined): void {
    const ack = nackMessage === undefined;
    this.send(
      create(DiscoveryRequestSchema, {
        typeUrl: state.typeUrl,
        versionInfo: ack ? response.versionInfo : state.acceptedVersion,
        responseNonce: response.nonce,
        resourceNames: [...state.names],
        ...(ack ? {} : { errorDetail: { code: nackCode, message: nackMessage } }),
      }),
    );
    settle(response, nackMessage);
    if (!ack || response.protocol !== 'sotw') return;
    state.acceptedVersion = response.versionInfo;
    // Listener and Cluster responses hold the whole set (S8); other types add to what the client holds.
    if (resourceType(state.typeUrl)?.allRequiredInSotW === true) state.held.clear();
    response.resources.forEach((message, i) => {
      state.held.set(response.names[i] ?? '', message);
    });
  }

  /** Marks the type subscribed and sends its whole subscription with the last accepted version and nonce. */
  #update(state: SotwTypeState): void {
    state.subscribed = true;
    if (state.names.length > 0) state.everNamed = true;
    this.send(
      create(DiscoveryRequestSchema, {
        typeUrl: state.typeUrl,
        versionInfo: state.acceptedVersion,
        responseNonce: state.lastNonce,
        resourceNames: [...state.names],
      }),
    );
  }
}
