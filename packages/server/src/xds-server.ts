/**
 * The XdsServer class: the public API that mounts the xDS services (ADS, per-type, CSDS, REST) over one shared
 * context (server-context.ts), listens, reports status (rule S5) and closes gracefully.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { Server, ServerCredentials, type ServerInterceptor, status } from '@grpc/grpc-js';
import { Code, XdsError } from '@xds/api';
import { EventEmitter } from 'eventemitter3';
import { type ClientInfo, type ClientsOptions, describeClients } from './client-status.js';
import { ConnectionGate, type ConnectionStats, gateLimits, openFilesLimit } from './connection-gate.js';
import { type StatusCallStats, statusCallStats } from './csds-service.js';
import type { XdsServerEvents } from './events.js';
import { http2ServersOf } from './grpc-http2-servers.js';
import { silentLogger } from './logger.js';
import { grpcServerOptions, type XdsServerOptions } from './options.js';
import { PartialRequestBudget, type PartialRequestStats } from './partial-request-budget.js';
import { partialRequestInterceptor } from './partial-requests.js';
import { refuseCompressedRequests } from './request-compression.js';
import { createRestHandler } from './rest.js';
import { listenRestAt, type RestConnectionStats, sumRestStats } from './rest-listener.js';
import { serverContext, serverLimits } from './server-context.js';
import { registerServices, registerTypeService } from './services.js';
import { guardGrpcServer } from './session-guard.js';
import type { StreamContext } from './stream-context.js';
import { type StreamCounts, StreamRegistry } from './stream-registry.js';
import { ServerTls, type TlsOptions } from './tls.js';
import type { TypeServiceOptions } from './type-service.js';
import { WriteBudget, type WriteBudgetStats } from './write-budget.js';

/** Why grpc-js could not bind, in a few words: `address already in use`, or its own message. */
function bindFailure(error: Error): string {
  const known: Record<string, string> = {
    EADDRINUSE: 'address already in use',
    EACCES: 'permission denied',
    EADDRNOTAVAIL: 'address not available on this host',
  };
  const code = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(error.message)?.[1];
  return code === undefined ? error.message : (known[code] ?? error.message);
}

/** Options of {@link XdsServer.listen}. */
export interface ListenOptions {
  /**
   * Serve TLS (or mutual TLS with `ca`): PEM bytes or file paths, files reloaded when they change; or a
   * {@link ServerTls} the caller made (to watch its `reloaded` and `reloadFailed` events). Default plaintext.
   */
  readonly tls?: TlsOptions | ServerTls;
}

/**
 * The xDS server: ADS and the per-type SotW, delta and fetch services, CSDS, and optionally REST, answering from a
 * cache. Every stream's per-type state (rules S3–S5) shows in {@link XdsServer.clients}, in CSDS and in events.
 */
export class XdsServer extends EventEmitter<XdsServerEvents> {
  readonly #options: XdsServerOptions;
  readonly #registry: StreamRegistry;
  readonly #ctx: StreamContext;
  readonly #budget: WriteBudget;
  readonly #partialRequests: PartialRequestBudget;
  readonly #partialRequestInterceptor: ServerInterceptor;
  readonly #connections: ConnectionGate;
  readonly #filesLimit: number | undefined;
  readonly #http: HttpServer[] = [];
  readonly #rest: (() => RestConnectionStats)[] = [];
  #grpc: Server | undefined;
  #streamIds = 0;
  #filesWarned = false;
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(options: XdsServerOptions) {
    super();
    if (options === undefined || typeof options.cache?.watchSotw !== 'function') {
      throw new XdsError(
        Code.InvalidArgument,
        'XdsServer needs options.cache (a SnapshotCache, LinearCache, MuxCache or ConfigWatcher)',
      );
    }
    this.#options = options;
    const limits = serverLimits(options);
    this.#budget = new WriteBudget(options.writeBudget, limits.drainTimeoutMs);
    const registry = new StreamRegistry(limits);
    this.#registry = registry;
    this.#partialRequests = new PartialRequestBudget(limits, (limit) => registry.limitReached(limit));
    const partial = partialRequestInterceptor(this.#partialRequests);
    // Also refuses compressed request messages before grpc-js inflates them (request-compression.ts, probe Q12).
    this.#partialRequestInterceptor = (method, call) => {
      refuseCompressedRequests(call);
      return partial(method, call);
    };
    // Unset, the connection cap stays below the open-file limit; set, it is the operator's (warned in listen).
    const filesLimit = openFilesLimit();
    this.#filesLimit = filesLimit;
    this.#connections = new ConnectionGate(
      gateLimits(options.limits, limits, filesLimit),
      options.logger ?? silentLogger,
    );
    this.#ctx = serverContext(options, {
      events: this,
      limits,
      budget: this.#budget,
      partialRequests: this.#partialRequests,
      registry,
      nextStreamId: () => ++this.#streamIds,
      closing: () => this.#closing,
    });
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** The grpc-js server this XdsServer listens with (created on first use). */
  get grpcServer(): Server {
    if (this.#grpc === undefined) {
      const options = grpcServerOptions(this.#options, this.#ctx.limits);
      // Rule L2: every call's unfinished requests within the partial-request budget; first, so that it sees
      // grpc-js's own call (the application's interceptors, if any, come after it).
      this.#grpc = new Server({
        ...options,
        interceptors: [this.#partialRequestInterceptor, ...(options.interceptors ?? [])],
      });
      this.addTo(this.#grpc);
    }
    return this.#grpc;
  }

  /** Mounts the xDS services (ADS, per-type, CSDS) on an application's own grpc-js server. */
  addTo(server: Server): void {
    registerServices(server, this.#ctx, () => this.#registry.open);
  }

  /**
   * Mounts a per-type discovery service for a type the server serves (a type registered with the cache, or a
   * built-in one under another name): `Stream{name}`, `Delta{name}` and `Fetch{name}` on the gRPC service
   * `options.service`, with the generic `envoy.service.discovery.v3` messages, on this server's own grpc-js server
   * (before `listen`) or on `grpcServer`. Throws an XdsError (InvalidArgument) for a malformed name or a type the
   * server does not serve.
   */
  addTypeService(options: TypeServiceOptions, grpcServer: Server = this.grpcServer): void {
    registerTypeService(grpcServer, this.#ctx, options);
  }

  /**
   * Listens for xDS over gRPC on `host:port`, plaintext or with `options.tls`; resolves the bound port (useful with
   * port 0). Rejects with INVALID_ARGUMENT when the certificates cannot be read or do not match their key.
   */
  listen(address: string, options: ListenOptions = {}): Promise<number> {
    if (this.#closing) return Promise.reject(new XdsError(Code.Unavailable, 'the server is closed'));
    let credentials: ServerCredentials;
    try {
      credentials = this.#credentials(options.tls);
    } catch (error) {
      return Promise.reject(XdsError.from(error));
    }
    return new Promise((resolve, reject) => {
      this.grpcServer.bindAsync(address, credentials, (error, port) => {
        // grpc-js's message repeats itself ("No address added out of total 1 resolved errors: [listen
        // EADDRINUSE: …]"); say the cause once, without the error as `cause` (a logger would print it again).
        if (error) {
          reject(new XdsError(Code.Unavailable, `cannot listen on ${address}: ${bindFailure(error)}`));
          return;
        }
        // Node 20 aborts on a session freed before its streams (session-guard.ts, docs/security.md).
        if (!guardGrpcServer(this.grpcServer))
          this.#ctx.logger.warn({}, 'HTTP/2 session guard unavailable (grpc-js layout changed)');
        if (!this.limitConnections(this.grpcServer))
          this.#ctx.logger.warn({}, 'connection limits unavailable (grpc-js layout changed)');
        else this.#checkFilesLimit();
        resolve(port);
      });
    });
  }

  /**
   * Applies `limits.maxConnections` and `limits.maxConnectionsPerPeer` (rule L2) to the listeners of a grpc-js
   * server: `listen` does it for its own; an application that mounts the services on its own server (`addTo`) may
   * call it after each `bindAsync` has called back (every service on that server is then behind the limits, and
   * the refusals show in {@link connectionStats}). Returns false when grpc-js keeps its listeners where this cannot
   * reach them (another grpc-js layout): the server then runs without connection limits.
   */
  limitConnections(server: Server): boolean {
    const servers = http2ServersOf(server);
    if (servers === undefined) return false;
    for (const http2Server of servers) this.#connections.gate(http2Server);
    return true;
  }

  /** Warns once when a `maxConnections` the operator set is not below the process's open-file limit. */
  #checkFilesLimit(): void {
    const files = this.#filesLimit;
    const cap = this.#connections.maxConnections;
    if (files === undefined || cap < files || this.#filesWarned) return;
    this.#filesWarned = true;
    this.#ctx.logger.warn(
      { maxConnections: cap, openFilesLimit: files },
      `limits.maxConnections (${cap}) is not below the open-file limit (${files}): connections past that limit fail at accept for every client; lower the limit or raise ulimit -n`,
    );
  }

  #credentials(tls: TlsOptions | ServerTls | undefined): ServerCredentials {
    if (tls === undefined) return ServerCredentials.createInsecure();
    const files = tls instanceof ServerTls ? tls : new ServerTls(tls);
    const logger = this.#ctx.logger;
    files.on('reloaded', () => logger.info({}, 'TLS certificates reloaded; new connections use them'));
    files.on('reloadFailed', ({ message }) =>
      logger.warn(
        { reason: message },
        'TLS certificate files changed but cannot be used; the previous ones stay',
      ),
    );
    return files.serverCredentials();
  }

  /**
   * A request handler for `POST /v3/discovery:{clusters,endpoints,listeners,...}` (proto3 JSON) to mount on an
   * application's HTTP server; it answers 404 for other paths unless `next` is given.
   */
  restHandler(): (request: IncomingMessage, response: ServerResponse, next?: () => void) => void {
    const handle = createRestHandler(
      this.#ctx,
      Math.min(this.#options.maxMessageBytes ?? 64 * 1024 * 1024, this.#ctx.limits.maxRequestBytes),
    );
    const logger = this.#ctx.logger;
    return (request, response, next) => {
      let handled: boolean;
      try {
        handled = handle(request, response);
      } catch (error) {
        // Rule L4: nothing a request holds escapes its handler.
        logger.error({ err: error }, 'REST xDS request failed');
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end('{"message":"internal error"}');
        return;
      }
      if (handled) return;
      if (next !== undefined) next();
      else response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
    };
  }

  /**
   * Serves REST xDS on its own HTTP listener at `host:port`; resolves the bound port. The listener has the xDS
   * port's connection limits (`maxConnections`, `maxConnectionsPerPeer`, `connectionSetupTimeoutMs` for headers,
   * `partialRequestTimeoutMs` for a request; rule L2): see {@link restConnectionStats}.
   */
  async listenRest(address: string): Promise<number> {
    const { maxConnections, maxConnectionsPerPeer } = this.#connections;
    const limits = { ...this.#ctx.limits, maxConnections, maxConnectionsPerPeer };
    const logger = this.#options.logger ?? silentLogger;
    const { server, listening } = listenRestAt(address, this.restHandler(), limits, logger);
    this.#http.push(server);
    const listener = await listening;
    this.#rest.push(listener.stats);
    return listener.port;
  }

  /** Sockets the REST listeners hold, and those they refused by limit, over every `listenRest` call. */
  restConnectionStats(): RestConnectionStats {
    return sumRestStats(this.#rest);
  }

  /**
   * One entry per connected node: its streams and, per type, subscription, versions, nonces and status. It copies
   * every subscribed name of every node unless `options.maxSubscribedNames` caps them: to count nodes use
   * {@link clientCount}, to look at one node {@link clientOf}.
   */
  clients(options?: ClientsOptions): ClientInfo[] {
    return describeClients(this.#registry.open, options);
  }

  /** How many nodes are connected (distinct node ids with an open stream); it reads a count, copies nothing. */
  clientCount(): number {
    return this.#registry.openNodeCount;
  }

  /** True when node `nodeId` has an open stream; a lookup, not a scan. */
  hasClient(nodeId: string): boolean {
    return this.#registry.openOf(nodeId).size > 0;
  }

  /** The entry of {@link clients} for one node, from its own streams only; undefined when it is not connected. */
  clientOf(nodeId: string, options?: ClientsOptions): ClientInfo | undefined {
    const streams = this.#registry.openOf(nodeId);
    return streams.size === 0 ? undefined : describeClients(streams, options)[0];
  }

  /**
   * The server-wide write budget: response bytes written and not yet flushed, the bound, the peak, and how many
   * streams wait for their turn (see `XdsServerOptions.writeBudget`).
   */
  writeBudget(): WriteBudgetStats {
    return this.#budget.stats();
  }

  /**
   * CSDS calls: answers being built (and the peak), calls waiting for a turn, callers with calls in flight, answers
   * built since start, and answers sent but not flushed (each holds its caller's share until it is; probe Q5).
   */
  statusCalls(): StatusCallStats {
    return statusCallStats(this.#ctx);
  }

  /**
   * Request messages partly received (rule L2): the bytes their headers announced, held now against
   * `limits.maxPartialRequestBytesTotal` (and each connection's `maxPartialRequestBytesPerConnection`), the peak,
   * and the messages refused by each limit since start (their streams and calls ended with RESOURCE_EXHAUSTED).
   */
  partialRequestStats(): PartialRequestStats {
    return this.#partialRequests.stats();
  }

  /**
   * The grpc-js server interceptor that holds every call's unfinished request messages within the partial-request
   * budget (rule L2), and refuses request messages sent compressed before they are inflated (UNIMPLEMENTED). The server `listen` makes has it; an application that mounts the services on its own grpc-js
   * server (`addTo`) passes it first in that server's `interceptors`, so that unary calls (Fetch, CSDS) are bounded
   * too (its discovery streams are either way).
   */
  get partialRequestInterceptor(): ServerInterceptor {
    return this.#partialRequestInterceptor;
  }

  /** The number of open streams (past their first request). */
  get streamCount(): number {
    return this.#registry.open.size;
  }

  /** The number of pending streams: opened (headers received) with no first request accepted yet (rule L2). */
  get pendingStreams(): number {
    return this.#registry.pendingCount;
  }

  /**
   * The connection cap in force: `limits.maxConnections` when set; unset, its default (50,000) or, when the
   * process's open-file limit is lower, that limit less 1,024 descriptors kept for everything else.
   */
  get maxConnections(): number {
    return this.#connections.maxConnections;
  }

  /**
   * Connections held by the listeners under the connection limits, the distinct peers among them, and the
   * connections refused by each limit since start (rule L2: `maxConnections`, `maxConnectionsPerPeer`).
   */
  connectionStats(): ConnectionStats {
    return this.#connections.stats();
  }

  /** Streams open and pending, and streams ended because they went past a limit, by limit (rules L2, S12). */
  streamStats(): StreamStats {
    return this.#registry.stats();
  }

  /**
   * Closes gracefully: refuses new streams, ends open ones with UNAVAILABLE (clients reconnect elsewhere), stops
   * listening, and resolves when connections are gone (forcing them after `closeGraceMs`).
   */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#closing = true;
    this.#budget.close();
    this.#registry.close();
    // Every stream, pending ones included, ends with a status; requests that arrive from now on are refused.
    for (const stream of [...this.#registry.open, ...this.#registry.pendingStreams()])
      stream.end(status.UNAVAILABLE, 'server is closing');
    const grace = this.#options.closeGraceMs ?? 5000;
    const grpc = this.#grpc;
    const waits: Promise<void>[] = this.#http.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    if (grpc !== undefined) {
      waits.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            grpc.forceShutdown();
            resolve();
          }, grace);
          timer.unref();
          grpc.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        }),
      );
    }
    this.#closed = Promise.all(waits).then(() => undefined);
    return this.#closed;
  }
}

/** What {@link XdsServer.streamStats} reports. */
export type StreamStats = StreamCounts;

/** Mounts an XdsServer's services (ADS, per-type SotW / delta / fetch, CSDS) on an application's grpc-js server. */
export function addXdsServices(grpcServer: Server, xdsServer: XdsServer): void {
  xdsServer.addTo(grpcServer);
}
