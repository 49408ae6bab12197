// A CSDS client for the server's tests: FetchClientStatus and StreamClientStatus over a real grpc-js channel.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type ChannelCredentials,
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  ClientStatusDiscoveryService,
  type ClientStatusRequest,
  ClientStatusRequestSchema,
  type ClientStatusResponse,
  ClientStatusResponseSchema,
  methodPath,
} from '@xds/api';

type RequestInit = Parameters<typeof create<typeof ClientStatusRequestSchema>>[1];

const fetchMethod = ClientStatusDiscoveryService.methods.find((m) => m.methodKind === 'unary')!;
const streamMethod = ClientStatusDiscoveryService.methods.find((m) => m.methodKind === 'bidi_streaming')!;
const encode = (r: ClientStatusRequest) => Buffer.from(toBinary(ClientStatusRequestSchema, r));
const decode = (b: Buffer) => fromBinary(ClientStatusResponseSchema, b);

/** A request for the given node ids (exact matchers); none means every node. */
export function forNodes(...ids: string[]): RequestInit {
  return { nodeMatchers: ids.map((id) => ({ nodeId: { matchPattern: { case: 'exact', value: id } } })) };
}

/** A CSDS client on `address`, deadline `timeoutMs` per call; plaintext unless `channel` credentials are given. */
export function csdsClient(address: string, timeoutMs = 10_000, channel?: ChannelCredentials) {
  const Client = makeGenericClientConstructor({}, 'Csds');
  const client = new Client(address, channel ?? credentials.createInsecure());
  const deadline = () => Date.now() + timeoutMs;
  return {
    /** FetchClientStatus; rejects with the call's ServiceError. */
    fetch(request: RequestInit): Promise<ClientStatusResponse> {
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          methodPath(fetchMethod),
          encode,
          decode,
          create(ClientStatusRequestSchema, request),
          { deadline: deadline() },
          (error: ServiceError | null, value?: ClientStatusResponse) =>
            error ? reject(error) : resolve(value!),
        );
      });
    },
    /** StreamClientStatus: sends each request in turn, waiting for its answer; rejects with the stream's error. */
    stream(requests: readonly RequestInit[]): Promise<ClientStatusResponse[]> {
      return new Promise((resolve, reject) => {
        const call: ClientDuplexStream<ClientStatusRequest, ClientStatusResponse> =
          client.makeBidiStreamRequest(methodPath(streamMethod), encode, decode, { deadline: deadline() });
        const answers: ClientStatusResponse[] = [];
        const sendNext = () => {
          const next = requests[answers.length];
          if (next === undefined) call.end();
          else call.write(create(ClientStatusRequestSchema, next));
        };
        call.on('data', (response: ClientStatusResponse) => {
          answers.push(response);
          sendNext();
        });
        call.on('error', reject);
        call.on('end', () => resolve(answers));
        sendNext();
      });
    },
    close: () => client.close(),
  };
}
