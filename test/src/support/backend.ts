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

/**
 * How long the interop tests wait for an answer or a change: generous, because CI runs every package's tests at
 * once on two cores, and a deadline only matters when something is wrong.
 */
export const interopWaitMs = 60_000;

/** Calls `Which` on a target (for example `xds:///echo.test:8080`); resolves the backend's name. */
export function which(client: Client, timeoutMs = 30_000): Promise<string> {
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

/**
 * Calls `which` until `predicate` holds for a result, or rejects after the deadline with what was seen. A failed
 * call is retried after 10 ms (a channel in TRANSIENT_FAILURE fails calls at once), so the deadline, not a count of
 * quick failures, ends the wait.
 */
export async function until(
  client: Client,
  predicate: (name: string) => boolean,
  timeoutMs = interopWaitMs,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  for (let i = 0; i < 1_000_000 && Date.now() < deadline; i++) {
    try {
      const name = await which(client, Math.max(1, deadline - Date.now()));
      if (predicate(name)) return name;
      seen.push(name);
    } catch (error) {
      seen.push(`error: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error(`no matching answer within ${timeoutMs} ms; last answers: ${seen.slice(-5).join(', ')}`);
}

/** Calls `which` until every backend of `names` has answered (bounded by a deadline); resolves the names seen. */
export async function untilAll(
  client: Client,
  names: readonly string[],
  timeoutMs = interopWaitMs,
): Promise<string[]> {
  const seen = new Set<string>();
  await until(
    client,
    (name) => {
      seen.add(name);
      return names.every((n) => seen.has(n));
    },
    timeoutMs,
  );
  return [...seen].sort();
}
