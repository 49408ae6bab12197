// A tiny xDS server for the client's own tests: it accepts every discovery stream, queues what the client sends,
// and writes what the test tells it to. Not part of the package (excluded from the build).
import { create, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { type Any, anyPack } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
  DeltaDiscoveryResponseSchema,
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  type DiscoveryResponse,
  DiscoveryResponseSchema,
  discoveryMethods,
  ResourceSchema,
} from '@xds/api';
import { XdsTestClient } from '../client.js';
import { deserializer, serializer } from '../codec.js';
import type { XdsTestClientOptions } from '../options.js';

/** A FIFO whose `shift` waits, up to a deadline, for the next item. */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  readonly #waiting: ((item: T) => void)[] = [];

  constructor(readonly what: string) {}

  push(item: T): void {
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(item);
    else this.#items.push(item);
  }

  /** How many items are queued and not yet shifted. */
  get size(): number {
    return this.#items.length;
  }

  shift(timeoutMs = 2000): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const waiter = (value: T) => {
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(new Error(`${this.what}: nothing within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.push(waiter);
    });
  }
}

type Request = DiscoveryRequest | DeltaDiscoveryRequest;
type Response = DiscoveryResponse | DeltaDiscoveryResponse;

/** One stream the client opened, as the server sees it. */
export class ScriptedStream {
  readonly requests: AsyncQueue<Request>;
  readonly all: Request[] = [];

  constructor(
    readonly path: string,
    readonly call: grpc.ServerDuplexStream<Request, Response>,
  ) {
    this.requests = new AsyncQueue(`request on ${path}`);
    call.on('data', (request: Request) => {
      this.all.push(request);
      this.requests.push(request);
    });
    call.on('error', () => {});
    call.on('end', () => call.end());
  }

  /** The next SotW request (fails if it is a delta one). */
  async nextSotw(): Promise<DiscoveryRequest> {
    const request = await this.requests.shift();
    if (request.$typeName !== DiscoveryRequestSchema.typeName) {
      throw new Error(`got ${request.$typeName}`);
    }
    return request;
  }

  /** The next delta request (fails if it is a SotW one). */
  async nextDelta(): Promise<DeltaDiscoveryRequest> {
    const request = await this.requests.shift();
    if (request.$typeName !== DeltaDiscoveryRequestSchema.typeName) {
      throw new Error(`got ${request.$typeName}`);
    }
    return request;
  }

  send(response: Response): void {
    this.call.write(response);
  }

  /** Ends the stream with a status. */
  fail(code: grpc.status, details: string): void {
    this.call.emit('error', Object.assign(new Error(details), { code, details }));
  }
}

/** The server: every SotW and delta stream method of every discovery service. */
export class ScriptedServer {
  readonly streams = new AsyncQueue<ScriptedStream>('stream');

  private constructor(
    readonly server: grpc.Server,
    readonly address: string,
  ) {}

  static async start(): Promise<ScriptedServer> {
    const server = new grpc.Server();
    const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const handlers: grpc.UntypedServiceImplementation = {};
    let scripted: ScriptedServer | undefined;
    for (const m of discoveryMethods) {
      if (m.kind === 'fetch') continue;
      const delta = m.kind === 'delta';
      definition[m.path] = {
        path: m.path,
        requestStream: true,
        responseStream: true,
        requestSerialize: serializer(delta ? DeltaDiscoveryRequestSchema : DiscoveryRequestSchema),
        requestDeserialize: deserializer(delta ? DeltaDiscoveryRequestSchema : DiscoveryRequestSchema),
        responseSerialize: serializer(delta ? DeltaDiscoveryResponseSchema : DiscoveryResponseSchema),
        responseDeserialize: deserializer(delta ? DeltaDiscoveryResponseSchema : DiscoveryResponseSchema),
      } as grpc.MethodDefinition<unknown, unknown>;
      handlers[m.path] = (call: grpc.ServerDuplexStream<Request, Response>) => {
        scripted?.streams.push(new ScriptedStream(m.path, call));
      };
    }
    server.addService(definition, handlers);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
    });
    scripted = new ScriptedServer(server, `127.0.0.1:${port}`);
    return scripted;
  }

  close(): void {
    this.server.forceShutdown();
  }
}

/** Packs messages as the `resources` of a SotW response. */
export function pack<Desc extends DescMessage>(schema: Desc, ...inits: MessageInitShape<Desc>[]): Any[] {
  return inits.map((init) => anyPack(schema, create(schema, init)));
}

/** A SotW response. */
export function sotwResponse(
  typeUrl: string,
  versionInfo: string,
  nonce: string,
  resources: Any[],
): DiscoveryResponse {
  return create(DiscoveryResponseSchema, { typeUrl, versionInfo, nonce, resources });
}

/** Packs one message into an `Any`. */
export function packOne<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): Any {
  return anyPack(schema, create(schema, init));
}

/** A delta response; each resource is given with its name, version and packed message. */
export function deltaResponse(
  typeUrl: string,
  nonce: string,
  resources: { name: string; version: string; resource: Any }[],
  removedResources: string[] = [],
): DeltaDiscoveryResponse {
  return create(DeltaDiscoveryResponseSchema, {
    typeUrl,
    nonce,
    systemVersionInfo: nonce,
    removedResources,
    resources: resources.map((r) => create(ResourceSchema, r)),
  });
}

/** Options of {@link withClient}: those of the client, with a default node. */
export type HarnessOptions = Omit<XdsTestClientOptions, 'address' | 'node'> & {
  node?: XdsTestClientOptions['node'];
};

/**
 * Starts a scripted server and a client on it, runs `fn`, then closes both whatever happened. The client's
 * default deadline is short, so that a broken test fails fast.
 */
export async function withClient(
  options: HarnessOptions,
  fn: (client: XdsTestClient, server: ScriptedServer) => Promise<void>,
): Promise<void> {
  const server = await ScriptedServer.start();
  const client = new XdsTestClient({ timeoutMs: 2000, node: 'node-1', ...options, address: server.address });
  try {
    await fn(client, server);
  } finally {
    await client.close();
    server.close();
  }
}
