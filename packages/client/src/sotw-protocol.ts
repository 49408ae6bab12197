/**
 * State-of-the-world ADS: every request carries the type's whole subscription; an ACK repeats the response's
 * version and nonce, a NACK the version last accepted. On a new stream the first request presents the version held
 * (rule S13), so that a server with the same content may leave it unanswered: only when what the client holds is the
 * whole state at that version for the subscription it asks (see `resume-coverage.ts`), else `''`.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import {
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  type DiscoveryResponse,
  DiscoveryResponseSchema,
  discoveryMethods,
  type Node,
} from '@xds/api';
import {
  nackCode,
  namesOf,
  type Protocol,
  type ReadResponse,
  type ResourceLimits,
  type ResponseHead,
  receive,
  toBuffer,
} from './protocol.js';
import { decodeResource } from './resource.js';
import type { TypeState } from './type-state.js';

const method = discoveryMethods.find((m) => m.kind === 'sotw' && m.typeUrl === undefined)!;

/** The SotW variant. */
export const sotwProtocol: Protocol<DiscoveryRequest, DiscoveryResponse> = {
  method,
  serialize: (request) => toBuffer(toBinary(DiscoveryRequestSchema, request)),
  deserialize: (bytes, limits) => receive(bytes, limits, DiscoveryResponseSchema, AnySchema),
  initial(type: TypeState, node: Node | undefined) {
    // The version only when what the client holds is complete at it for what it asks now (rule S13).
    return request(type, { versionInfo: type.resumeVersion(), responseNonce: '' }, node);
  },
  resubscribe(type: TypeState) {
    if (type.told && !type.changed) return undefined;
    return request(type, { versionInfo: type.version, responseNonce: type.nonce });
  },
  withdraw(type: TypeState) {
    const bounced = type.takeBounced();
    if (bounced === undefined) return undefined;
    // The whole subscription without them, answering the latest nonce (a stale one would be ignored, rule S4).
    const sub = type.subscription();
    const names = sub.wildcard && !bounced.wildcard ? ['*'] : [];
    for (const name of sub.names) if (!bounced.names.has(name)) names.push(name);
    return create(DiscoveryRequestSchema, {
      typeUrl: type.typeUrl,
      resourceNames: names,
      versionInfo: type.version,
      responseNonce: type.nonce,
    });
  },
  head(response: DiscoveryResponse): ResponseHead {
    return {
      typeUrl: response.typeUrl,
      nonce: response.nonce,
      version: response.versionInfo,
      offered: response.resources.map((any) => ({ name: undefined, version: undefined, value: any.value })),
      removed: [],
    };
  },
  read(response: DiscoveryResponse, limits: ResourceLimits): ReadResponse {
    return {
      typeUrl: response.typeUrl,
      nonce: response.nonce,
      version: response.versionInfo,
      resources: response.resources.map((any) =>
        decodeResource(response.typeUrl, any.typeUrl, any.value, {}, limits),
      ),
      removed: [],
      heartbeats: 0,
    };
  },
  ack(type: TypeState, response: ReadResponse) {
    return request(type, { versionInfo: response.version, responseNonce: response.nonce });
  },
  nack(type: TypeState, response: { readonly nonce: string }, message: string) {
    return request(type, {
      versionInfo: type.version,
      responseNonce: response.nonce,
      errorDetail: { code: nackCode, message },
    });
  },
};

function request(
  type: TypeState,
  fields: { versionInfo: string; responseNonce: string; errorDetail?: { code: number; message: string } },
  node?: Node,
): DiscoveryRequest {
  return create(DiscoveryRequestSchema, {
    typeUrl: type.typeUrl,
    resourceNames: namesOf(type),
    ...fields,
    ...(node === undefined ? {} : { node }),
  });
}
