// Test support: a real gRPC server on 127.0.0.1 that speaks ADS (SotW or delta) the way a broken or hostile origin
// does, sending whatever bytes a test makes, so the client's bounds (rule L2) and containment (rule L4) are proven
// against the wire, not a mock.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { AnySchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  discoveryMethods,
  TypeUrl,
} from '@xds/api';

/** A request as the hostile server got it. */
export type AnyRequest = DiscoveryRequest | DeltaDiscoveryRequest;

/** A hostile server: its address, the requests it got, and how to stop it. */
export interface HostileServer {
  readonly address: string;
  readonly requests: AnyRequest[];
  /** Stops taking streams and waits for the open ones to end. */
  close(): Promise<void>;
  /** Ends every open stream at once (the client sees the server go away) and stops. */
  kill(): void;
}

/**
 * Serves ADS of `protocol` on 127.0.0.1: every request is recorded, and `answer` is given it, its number on the
 * stream (0 first) and a writer of raw response bytes.
 */
export async function hostileServer(
  protocol: 'sotw' | 'delta',
  answer: (request: AnyRequest, index: number, write: (bytes: Uint8Array) => void) => void,
): Promise<HostileServer> {
  const method = discoveryMethods.find((m) => m.kind === protocol && m.typeUrl === undefined)!;
  const schema = protocol === 'sotw' ? DiscoveryRequestSchema : DeltaDiscoveryRequestSchema;
  const requests: AnyRequest[] = [];
  const server = new grpc.Server();
  const identity = (bytes: Uint8Array) => Buffer.from(bytes);
  server.addService(
    {
      ads: {
        path: method.path,
        requestStream: true,
        responseStream: true,
        requestDeserialize: (bytes: Buffer) => fromBinary(schema, bytes),
        requestSerialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      ads: (call: grpc.ServerDuplexStream<AnyRequest, Uint8Array>) => {
        let index = 0;
        call.on('data', (request: AnyRequest) => {
          requests.push(request);
          answer(request, index++, (bytes) => call.write(bytes));
        });
        call.on('error', () => {});
        call.on('end', () => call.end());
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    kill: () => server.forceShutdown(),
  };
}

/** A Cluster response of `protocol` offering `anys` (in delta each wrapped in a Resource named by its index). */
export function clusterResponse(
  protocol: 'sotw' | 'delta',
  nonce: string,
  anys: ReturnType<typeof create<typeof AnySchema>>[],
  names: readonly string[] = [],
): Uint8Array {
  if (protocol === 'sotw')
    return toBinary(
      DiscoveryResponseSchema,
      create(DiscoveryResponseSchema, {
        typeUrl: TypeUrl.Cluster,
        versionInfo: nonce,
        nonce,
        resources: anys,
      }),
    );
  return toBinary(
    DeltaDiscoveryResponseSchema,
    create(DeltaDiscoveryResponseSchema, {
      typeUrl: TypeUrl.Cluster,
      systemVersionInfo: nonce,
      nonce,
      resources: anys.map((resource, i) => ({ name: names[i] ?? '', version: `${nonce}-${i}`, resource })),
    }),
  );
}
