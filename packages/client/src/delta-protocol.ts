/**
 * Incremental (delta) ADS: requests carry subscription changes; an ACK or NACK names the nonce. On a new stream the
 * first request of a type subscribes to everything watched and presents the versions held in
 * `initial_resource_versions` (rule D6), so that a server with the same content sends only what differs.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
  DeltaDiscoveryResponseSchema,
  discoveryMethods,
  type Node,
  ResourceSchema,
} from '@xds/api';
import { nackCode, type Protocol, receive, toBuffer } from './protocol.js';
import { type Decoded, decodeResource } from './resource.js';
import type { TypeState } from './type-state.js';

const method = discoveryMethods.find((m) => m.kind === 'delta' && m.typeUrl === undefined)!;

/**
 * The fields of a `DeltaDiscoveryResponse` that name removed resources: `removed_resources` (6) and
 * `removed_resource_names` (8), bounded together by `limits.maxRemovedPerResponse` before they are decoded.
 */
const removalFields = [6, 8] as const;

/** The delta variant. */
export const deltaProtocol: Protocol<DeltaDiscoveryRequest, DeltaDiscoveryResponse> = {
  method,
  serialize: (request) => toBuffer(toBinary(DeltaDiscoveryRequestSchema, request)),
  deserialize: (bytes, limits) =>
    receive(bytes, limits, DeltaDiscoveryResponseSchema, ResourceSchema, removalFields),
  initial(type: TypeState, node: Node | undefined) {
    const sub = type.subscription();
    const names = sub.wildcard ? ['*', ...sub.names] : [...sub.names];
    type.markTold();
    const initialResourceVersions: Record<string, string> = {};
    for (const [name, resource] of type.held) initialResourceVersions[name] = resource.version;
    return create(DeltaDiscoveryRequestSchema, {
      typeUrl: type.typeUrl,
      resourceNamesSubscribe: names,
      initialResourceVersions,
      ...(node === undefined ? {} : { node }),
    });
  },
  resubscribe(type: TypeState) {
    // Only what changed since the stream was told: O(the change), however many names the type holds.
    if (!type.changed) return undefined;
    const { added, removed, wildcard } = type.takeDelta();
    const subscribe = wildcard === true ? [...added, '*'] : [...added];
    const unsubscribe = wildcard === false ? [...removed, '*'] : [...removed];
    if (subscribe.length === 0 && unsubscribe.length === 0) return undefined;
    return create(DeltaDiscoveryRequestSchema, {
      typeUrl: type.typeUrl,
      responseNonce: type.nonce,
      resourceNamesSubscribe: subscribe,
      resourceNamesUnsubscribe: unsubscribe,
    });
  },
  withdraw(type) {
    const bounced = type.takeBounced();
    if (bounced === undefined) return undefined;
    // A subscription change only: no nonce, so that it is neither an ACK nor stale (rule D2).
    return create(DeltaDiscoveryRequestSchema, {
      typeUrl: type.typeUrl,
      resourceNamesUnsubscribe: bounced.wildcard ? [...bounced.names, '*'] : [...bounced.names],
    });
  },
  head(response) {
    const offered = response.resources.flatMap((r) =>
      r.resource === undefined
        ? []
        : [{ name: r.name === '' ? undefined : r.name, version: r.version, value: r.resource.value }],
    );
    return {
      typeUrl: response.typeUrl,
      nonce: response.nonce,
      version: response.systemVersionInfo,
      offered,
      removed: response.removedResources,
    };
  },
  read(response, limits) {
    const resources: Decoded[] = [];
    let heartbeats = 0;
    for (const r of response.resources) {
      if (r.resource === undefined) {
        heartbeats++;
        continue;
      }
      resources.push(
        decodeResource(
          response.typeUrl,
          r.resource.typeUrl,
          r.resource.value,
          { name: r.name, version: r.version },
          limits,
        ),
      );
    }
    return {
      typeUrl: response.typeUrl,
      nonce: response.nonce,
      version: response.systemVersionInfo,
      resources,
      removed: response.removedResources,
      heartbeats,
    };
  },
  ack(type, response) {
    return create(DeltaDiscoveryRequestSchema, { typeUrl: type.typeUrl, responseNonce: response.nonce });
  },
  nack(type: TypeState, response: { readonly nonce: string }, message: string) {
    return create(DeltaDiscoveryRequestSchema, {
      typeUrl: type.typeUrl,
      responseNonce: response.nonce,
      errorDetail: { code: nackCode, message },
    });
  },
};
