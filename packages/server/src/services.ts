import type { DescMethod } from '@bufbuild/protobuf';
import {
  type handleBidiStreamingCall,
  type handleUnaryCall,
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  ClientStatusRequestSchema,
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DiscoveryMethod,
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  discoveryMethods,
  methodPath,
} from '@xds/api';
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
import { sotwRequestDecoder } from './sotw-request.js';
import { SotwStream } from './sotw-stream.js';
import { toStatus } from './status.js';
import type { StreamContext, StreamHandle } from './stream-context.js';

const identity = (bytes: Buffer) => bytes;

function definition(method: DescMethod, streaming: boolean, encode: (value: never) => Buffer) {
  return {
    path: methodPath(method),
    requestStream: streaming,
    responseStream: streaming,
    requestSerialize: messageEncoder(method.input) as (value: unknown) => Buffer,
    requestDeserialize:
      method.input.typeName === DiscoveryRequestSchema.typeName
        ? sotwRequestDecoder(DiscoveryRequestSchema)
        : requestDecoder(method.input),
    responseSerialize: encode as (value: unknown) => Buffer,
    responseDeserialize: identity,
    originalName: method.localName,
  };
}

function streamHandler(
  ctx: StreamContext,
  method: DiscoveryMethod,
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
  method: DiscoveryMethod,
): handleUnaryCall<DiscoveryRequest | UndecodableRequest, Uint8Array> {
  return (call, callback) => {
    const request = call.request;
    if (request instanceof UndecodableRequest) {
      callback({ code: status.INVALID_ARGUMENT, details: request.message });
      return;
    }
    const typeUrl = method.typeUrl!;
    const origin = { kind: 'fetch', where: method.path, peer: call.getPeer(), call } as const;
    fetchFor(ctx, request, typeUrl, origin, (outcome) => {
      const body =
        'current' in outcome
          ? messageEncoder(DiscoveryResponseSchema)(currentResponse(request, typeUrl))
          : encodeSotwResponse(outcome.response, '', ctx.controlPlane);
      return { body, bytes: body.length };
    }).then(
      (body) => callback(null, body),
      (error: unknown) => callback(toStatus(error)),
    );
  };
}

/** Adds ADS, every per-type SotW / delta / fetch service and CSDS to a grpc-js server. */
export function registerServices(
  server: Server,
  ctx: StreamContext,
  streams: () => Iterable<StreamHandle>,
): void {
  const services = new Map<
    string,
    { definition: Record<string, unknown>; implementation: UntypedServiceImplementation }
  >();
  for (const method of discoveryMethods) {
    const name = method.method.parent.typeName;
    let service = services.get(name);
    if (service === undefined) {
      service = { definition: {}, implementation: {} };
      services.set(name, service);
    }
    const local = method.method.localName;
    if (method.kind === 'fetch') {
      service.definition[local] = definition(method.method, false, passThrough as never);
      service.implementation[local] = fetchHandler(ctx, method) as never;
    } else {
      service.definition[local] = definition(method.method, true, passThrough as never);
      service.implementation[local] = streamHandler(ctx, method) as never;
    }
  }
  for (const { definition: def, implementation } of services.values()) {
    server.addService(def as ServiceDefinition, implementation);
  }

  registerCsds(server, ctx, streams);
}

export { ClientStatusRequestSchema, DeltaDiscoveryRequestSchema, DiscoveryRequestSchema };
