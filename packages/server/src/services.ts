import type {
  handleBidiStreamingCall,
  handleUnaryCall,
  Server,
  ServerDuplexStream,
  ServiceDefinition,
  status,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  ClientStatusRequestSchema,
  Code,
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  discoveryMethods,
  type TypeUrl,
  XdsError,
} from '@xds/api';
import { sendUnaryAnswer } from './answer-write.js';
import {
  encodeSotwResponse,
  messageEncoder,
  passThrough,
  requestDecoder,
  UndecodableRequest,
} from './codec.js';
import { registerCsds } from './csds-service.js';
import { DeltaStream } from './delta-stream.js';
import { currentResponse, fetchFor } from './fetch.js';
import type { ResolvedLimits } from './limits.js';
import { sotwRequestDecoder } from './sotw-request.js';
import { SotwStream } from './sotw-stream.js';
import { statusDetails, toStatus } from './status.js';
import type { StreamContext, StreamHandle } from './stream-context.js';
import { type ServedMethod, type TypeServiceOptions, typeServiceMethods } from './type-service.js';

const identity = (bytes: Buffer) => bytes;

/** The gRPC definition of a discovery method: generic discovery messages, responses already encoded. */
function definition(method: ServedMethod, limits: ResolvedLimits) {
  const input = method.kind === 'delta' ? DeltaDiscoveryRequestSchema : DiscoveryRequestSchema;
  const streaming = method.kind !== 'fetch';
  return {
    path: method.path,
    requestStream: streaming,
    responseStream: streaming,
    requestSerialize: messageEncoder(input) as (value: unknown) => Buffer,
    // A stream's node is decoded from its first request only (request-node.ts); Fetch has only a first request.
    requestDeserialize:
      method.kind === 'delta'
        ? requestDecoder(input, limits, true)
        : sotwRequestDecoder(DiscoveryRequestSchema, limits, streaming),
    responseSerialize: passThrough as (value: unknown) => Buffer,
    responseDeserialize: identity,
    originalName: method.localName,
  };
}

function streamHandler(
  ctx: StreamContext,
  method: ServedMethod,
): handleBidiStreamingCall<unknown, Uint8Array> {
  return (call) => {
    const stream =
      method.kind === 'delta'
        ? new DeltaStream(ctx, call as ServerDuplexStream<DeltaDiscoveryRequest, Uint8Array>, method)
        : new SotwStream(ctx, call as ServerDuplexStream<DiscoveryRequest, Uint8Array>, method);
    stream.start();
  };
}

function fetchHandler(
  ctx: StreamContext,
  method: ServedMethod,
): handleUnaryCall<DiscoveryRequest | UndecodableRequest, Uint8Array> {
  return (call, callback) => {
    const request = call.request;
    if (request instanceof UndecodableRequest) {
      if (request.limit !== undefined) ctx.limitReached(request.limit);
      callback({ code: request.code as number as status, details: statusDetails(request.message) });
      return;
    }
    const typeUrl = method.typeUrl as TypeUrl;
    const origin = { kind: 'fetch', where: method.path, peer: call.getPeer(), call } as const;
    fetchFor(ctx, request, typeUrl, origin, (outcome) => {
      const body =
        'current' in outcome
          ? messageEncoder(DiscoveryResponseSchema)(currentResponse(request, typeUrl))
          : encodeSotwResponse(outcome.response, '', ctx.controlPlane);
      return { body, bytes: body.length };
    }).then(
      // Within the write budget, reset past limits.drainTimeoutMs unread (answer-write.ts, rule S12; probe Q5).
      (body) => sendUnaryAnswer(ctx, call, body, callback, 'Fetch'),
      (error: unknown) => callback(toStatus(error)),
    );
  };
}

type Service = { definition: Record<string, unknown>; implementation: UntypedServiceImplementation };

/** Adds one method's definition and handler to a service. */
function addMethod(service: Service, ctx: StreamContext, method: ServedMethod): void {
  service.definition[method.localName] = definition(method, ctx.limits);
  service.implementation[method.localName] = (
    method.kind === 'fetch' ? fetchHandler(ctx, method) : streamHandler(ctx, method)
  ) as never;
}

/** Adds ADS, every per-type SotW / delta / fetch service and CSDS to a grpc-js server. */
export function registerServices(
  server: Server,
  ctx: StreamContext,
  streams: () => Iterable<StreamHandle>,
): void {
  const services = new Map<string, Service>();
  for (const method of discoveryMethods) {
    const name = method.method.parent.typeName;
    let service = services.get(name);
    if (service === undefined) {
      service = { definition: {}, implementation: {} };
      services.set(name, service);
    }
    addMethod(service, ctx, {
      path: method.path,
      kind: method.kind,
      typeUrl: method.typeUrl,
      localName: method.method.localName,
    });
  }
  for (const { definition: def, implementation } of services.values()) {
    server.addService(def as ServiceDefinition, implementation);
  }

  registerCsds(server, ctx, streams);
}

/**
 * Adds a per-type discovery service for one type URL (`Stream{name}`, `Delta{name}`, `Fetch{name}` on `service`)
 * to a grpc-js server. Throws an XdsError (InvalidArgument) for a malformed name or a type the server does not
 * serve (register it with the cache first).
 */
export function registerTypeService(server: Server, ctx: StreamContext, options: TypeServiceOptions): void {
  const methods = typeServiceMethods(options);
  if (!ctx.servesType(options.typeUrl))
    throw new XdsError(
      Code.InvalidArgument,
      `type service ${options.service}: the server does not serve ${options.typeUrl} (register the type with the cache)`,
    );
  const service: Service = { definition: {}, implementation: {} };
  for (const method of methods) addMethod(service, ctx, method);
  server.addService(service.definition as ServiceDefinition, service.implementation);
}

export { ClientStatusRequestSchema, DeltaDiscoveryRequestSchema, DiscoveryRequestSchema };
