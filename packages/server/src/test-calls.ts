// Test helpers: one raw call of any discovery method (stream or Fetch) and one REST POST, each resolving with how it
// ended, so that a test can assert the same outcome on every service of the port.
import { request as httpRequest } from 'node:http';
import { create, toBinary } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor, type ServiceError, status } from '@grpc/grpc-js';
import { DeltaDiscoveryRequestSchema, type DiscoveryMethod, DiscoveryRequestSchema, TypeUrl } from '@xds/api';

/** How a call ended: OK with the first response's bytes, or a status. */
export interface CallEnd {
  readonly code: number;
  readonly details: string;
  /** The first response's bytes, when the call got one. */
  readonly response?: Uint8Array;
}

/** Opens one discovery method as node `nodeId` (type `typeUrl`, default the method's or Cluster) and resolves with how it ended. */
export function callAs(
  address: string,
  method: Pick<DiscoveryMethod, 'kind' | 'path'> & { readonly typeUrl: string | undefined },
  nodeId: string,
  typeUrl: string = method.typeUrl ?? TypeUrl.Cluster,
): Promise<CallEnd> {
  const Client = makeGenericClientConstructor({}, 'Raw');
  const client = new Client(address, credentials.createInsecure());
  const body =
    method.kind === 'delta'
      ? toBinary(
          DeltaDiscoveryRequestSchema,
          create(DeltaDiscoveryRequestSchema, { node: { id: nodeId }, typeUrl }),
        )
      : toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node: { id: nodeId }, typeUrl }));
  const serialize = (b: Uint8Array) => Buffer.from(b);
  const deserialize = (b: Buffer) => b;
  const options = { deadline: Date.now() + 20_000 };
  return new Promise<CallEnd>((resolve) => {
    if (method.kind === 'fetch') {
      client.makeUnaryRequest(
        method.path,
        serialize,
        deserialize,
        body,
        options,
        (error: ServiceError | null, response?: Buffer) =>
          resolve({
            code: error?.code ?? status.OK,
            details: error?.details ?? '',
            ...(response === undefined ? {} : { response }),
          }),
      );
      return;
    }
    const call = client.makeBidiStreamRequest(method.path, serialize, deserialize, options);
    call.on('data', (response: Buffer) => {
      resolve({ code: status.OK, details: '', response });
      call.cancel();
    });
    call.on('error', (error: ServiceError) => resolve({ code: error.code, details: error.details }));
    call.write(body);
  }).finally(() => client.close());
}

/** POSTs a JSON body to the REST listener; resolves with the HTTP status and body. */
export function postJson(
  port: number,
  path: string,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
