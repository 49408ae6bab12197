// Connection bounds of the REST listener (`XdsServer.listenRest`, rule L2). It is a plain HTTP/1.1 server, outside
// the xDS port's connection gate: before these bounds one address held 1,500 silent sockets on it (each until
// Node's header timeout, 65–95 s later), file descriptors the xDS port shares (audit finding F21). The REST listener
// takes the xDS port's limits: at most `maxConnections` sockets, `maxConnectionsPerPeer` from one peer (an IPv6 /64
// is one peer), request headers within `connectionSetupTimeoutMs`, a whole request within
// `partialRequestTimeoutMs`, and an idle keep-alive socket closed after 5 s.
import { createServer, type Server as HttpServer, type RequestListener, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { Code, XdsError } from '@xds/api';
import { peerKey, refusalLogIntervalMs } from './connection-gate.js';
import type { ResolvedLimits } from './limits.js';
import type { Logger } from './logger.js';

/** The limits of the xDS port that bound the REST listener too. */
export type RestConnectionLimits = Pick<
  ResolvedLimits,
  'maxConnections' | 'maxConnectionsPerPeer' | 'connectionSetupTimeoutMs' | 'partialRequestTimeoutMs'
>;

/** How long a keep-alive socket with no request under way is held. */
export const restKeepAliveMs = 5_000;

/** The `http.createServer` options that bound how long one request may take (Node checks them every second). */
export function restServerOptions(limits: RestConnectionLimits): ServerOptions {
  const headersTimeout = Math.min(limits.connectionSetupTimeoutMs, limits.partialRequestTimeoutMs);
  return {
    headersTimeout,
    requestTimeout: Math.max(headersTimeout, limits.partialRequestTimeoutMs),
    keepAliveTimeout: restKeepAliveMs,
    connectionsCheckingInterval: 1_000,
  };
}

/** What the REST listener refused, by limit. */
export interface RestConnectionStats {
  readonly open: number;
  readonly refused: { readonly maxConnections: number; readonly maxConnectionsPerPeer: number };
}

/**
 * Counts `server`'s sockets and closes at once those past `maxConnections` or `maxConnectionsPerPeer`, logging at
 * most once per 10 s; returns a reader of the counts.
 */
export function boundRestConnections(
  server: HttpServer,
  limits: RestConnectionLimits,
  logger: Logger,
): () => RestConnectionStats {
  const perPeer = new Map<string, number>();
  const refused = { maxConnections: 0, maxConnectionsPerPeer: 0 };
  let open = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  let since = 0;
  server.on('connection', (socket: Socket) => {
    const peer = peerKey(socket.remoteAddress);
    const fromPeer = peer === undefined ? 0 : (perPeer.get(peer) ?? 0);
    const limit =
      open >= limits.maxConnections
        ? 'maxConnections'
        : peer !== undefined && fromPeer >= limits.maxConnectionsPerPeer
          ? 'maxConnectionsPerPeer'
          : undefined;
    if (limit !== undefined) {
      socket.destroy();
      refused[limit]++;
      since++;
      const now = Date.now();
      if (now - loggedAt >= refusalLogIntervalMs) {
        logger.warn(
          { peer: peer ?? 'unknown', limit, max: limits[limit], refusedSincePreviousLine: since },
          `REST connection refused: limits.${limit} (${limits[limit]}) reached`,
        );
        loggedAt = now;
        since = 0;
      }
      return;
    }
    open++;
    if (peer !== undefined) perPeer.set(peer, fromPeer + 1);
    socket.once('close', () => {
      open--;
      if (peer === undefined) return;
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left <= 0) perPeer.delete(peer);
      else perPeer.set(peer, left);
    });
  });
  return () => ({ open, refused: { ...refused } });
}

/** A REST listener: its HTTP server, bound port and counts. */
export interface RestListener {
  readonly server: HttpServer;
  readonly port: number;
  readonly stats: () => RestConnectionStats;
}

/** Serves `handler` on `host:port` under the REST listener's bounds; rejects UNAVAILABLE when it cannot listen. */
export function listenRestAt(
  address: string,
  handler: RequestListener,
  limits: RestConnectionLimits,
  logger: Logger,
): { readonly server: HttpServer; readonly listening: Promise<RestListener> } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  const server = createServer(restServerOptions(limits), handler);
  const stats = boundRestConnections(server, limits, logger);
  const listening = new Promise<RestListener>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new XdsError(Code.Unavailable, `cannot listen on ${address}: ${error.message}`)),
    );
    server.listen(port, host.replace(/^\[|\]$/g, ''), () => {
      const bound = server.address();
      resolve({ server, port: typeof bound === 'object' && bound !== null ? bound.port : port, stats });
    });
  });
  return { server, listening };
}

/** The counts of several REST listeners, added up. */
export function sumRestStats(readers: readonly (() => RestConnectionStats)[]): RestConnectionStats {
  const sum = { open: 0, refused: { maxConnections: 0, maxConnectionsPerPeer: 0 } };
  for (const stats of readers.map((read) => read())) {
    sum.open += stats.open;
    sum.refused.maxConnections += stats.refused.maxConnections;
    sum.refused.maxConnectionsPerPeer += stats.refused.maxConnectionsPerPeer;
  }
  return sum;
}
