// A real gRPC backend for interop tests: a generic unary method that answers its own name.
import { Client, credentials, Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';

/** The method every backend serves. */
export const whichPath = '/interop.Echo/Which';

const identity = (b: Buffer) => b;
const definition = {
  Which: {
    path: whichPath,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} as unknown as ServiceDefinition;

/** A running backend. */
export interface Backend {
  readonly name: string;
  readonly port: number;
  /** RPCs it answered. */
  readonly calls: number;
  close(): Promise<void>;
}

/** Starts a backend on 127.0.0.1 that answers `name` (on `port`, or any free port). */
export async function startBackend(name: string, port = 0): Promise<Backend> {
  const server = new Server();
  let calls = 0;
  server.addService(definition, {
    Which: (_call: unknown, callback: (error: null, value: Buffer) => void) => {
      calls++;
      callback(null, Buffer.from(name));
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    name,
    port: bound,
    get calls() {
      return calls;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}

/** Calls `Which` on a target (for example `xds:///echo.test:8080`); resolves the backend's name. */
export function which(client: Client, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      whichPath,
      identity,
      identity,
      Buffer.alloc(0),
      { deadline: Date.now() + timeoutMs },
      (error, value) => (error ? reject(error) : resolve(value!.toString())),
    );
  });
}

/** A client channel to a target. */
export function channel(target: string): Client {
  return new Client(target, credentials.createInsecure());
}

/** Calls `which` until `predicate` holds for a result, or rejects after the deadline with what was seen. */
export async function until(
  client: Client,
  predicate: (name: string) => boolean,
  timeoutMs = 10_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    try {
      const name = await which(client, Math.max(1, deadline - Date.now()));
      if (predicate(name)) return name;
      seen.push(name);
    } catch (error) {
      seen.push(`error: ${(error as Error).message}`);
      await new Promise((r) => setImmediate(r));
    }
  }
  throw new Error(`no matching answer within ${timeoutMs} ms; last answers: ${seen.slice(-5).join(', ')}`);
}
