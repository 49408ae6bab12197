// A CSDS call for the relay's tests: FetchClientStatus over a real grpc-js channel with a client certificate.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type Client, makeGenericClientConstructor, type ServiceError, status } from '@grpc/grpc-js';
import {
  ClientStatusDiscoveryService,
  type ClientStatusRequest,
  ClientStatusRequestSchema,
  ClientStatusResponseSchema,
  methodPath,
} from '@xds/api';
import { type TestCertificate, tlsCredentials } from '@xds/testing';

const fetchMethod = ClientStatusDiscoveryService.methods.find((m) => m.methodKind === 'unary');

/** FetchClientStatus for every node on `address` with `cert`; resolves with the call's error code and details. */
export function fetchClientStatus(
  address: string,
  ca: Buffer,
  cert: TestCertificate,
): Promise<{ code: number; details: string; nodes: string[] }> {
  const Csds = makeGenericClientConstructor({}, 'Csds');
  const client: Client = new Csds(address, tlsCredentials(ca, cert));
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      methodPath(fetchMethod!),
      (r: ClientStatusRequest) => Buffer.from(toBinary(ClientStatusRequestSchema, r)),
      (b: Buffer) => fromBinary(ClientStatusResponseSchema, b),
      create(ClientStatusRequestSchema, {}),
      { deadline: Date.now() + 30_000 },
      (error: ServiceError | null, response) => {
        client.close();
        resolve({
          code: error?.code ?? status.OK,
          details: error?.details ?? '',
          nodes: response?.config.map((c) => c.node?.id ?? '') ?? [],
        });
      },
    );
  });
}
