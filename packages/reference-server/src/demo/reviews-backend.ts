import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

const identity = (bytes: Buffer) => bytes;

/** A tiny generic gRPC service: `demo.Reviews/Which` answers `{"version":"v1","port":…}` as JSON bytes. */
export const reviewsService: ServiceDefinition = {
  Which: {
    path: '/demo.Reviews/Which',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** A running reviews backend. */
export interface ReviewsBackend {
  readonly version: string;
  readonly port: number;
  /** Calls answered so far. */
  readonly calls: () => number;
  close(): Promise<void>;
}

/** Starts a reviews backend of one version on 127.0.0.1 (a free port unless `port` is given). */
export async function startReviewsBackend(version: string, port = 0): Promise<ReviewsBackend> {
  const server = new Server();
  let calls = 0;
  let bound = 0;
  const implementation: UntypedServiceImplementation = {
    Which: (_call: unknown, callback: (error: null, value: Buffer) => void) => {
      calls++;
      callback(null, Buffer.from(JSON.stringify({ version, port: bound })));
    },
  };
  server.addService(reviewsService, implementation);
  bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, actual) =>
      error ? reject(error) : resolve(actual),
    );
  });
  return {
    version,
    port: bound,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
