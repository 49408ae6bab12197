/**
 * The operator HTTP(S) server that `xds-server` and `xds-relay` share: a table of GET routes, the security headers
 * of every response (nosniff, a strict Content-Security-Policy, no framing), an optional bearer token, optional
 * HTTPS with certificates reloaded on change, and rule L4: no request, however malformed (`GET http://[`), escapes
 * its handler; each ends with a status and the process carries on.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger, ServerTls } from '@xds/server';
import { parseAddress } from '../address.js';
import { bearerMatches, tokenDigest } from '../bearer-token.js';
import { AdminSlots } from './admin-slots.js';

/** One page: answers a GET (or HEAD) of its path. */
export type Route = (url: URL, response: ServerResponse) => void | Promise<void>;

/** Options of {@link createHttpAdmin}. */
export interface HttpAdminOptions {
  /**
   * The bearer token every page but the open ones asks for (`Authorization: Bearer TOKEN`, compared in constant
   * time); without it the pages are open (keep them on loopback then).
   */
  readonly token?: string;
  /** Pages served without the token; default `/healthz` and `/readyz` (they say only whether the process is up). */
  readonly openPaths?: readonly string[];
  /** Serve HTTPS with these certificates (reloaded when their files change) instead of HTTP. */
  readonly tls?: ServerTls;
  /**
   * Open connections at most (default {@link adminDefaults}.maxConnections). Past it a new connection takes the
   * slot of the connection waiting longest between requests (admin-slots.ts), or is closed at once when every
   * connection is in the middle of a request. The port shares the process's file descriptors with the xDS port:
   * without a cap, idle admin connections could take them all and refuse every new proxy.
   */
  readonly maxConnections?: number;
  /**
   * A connection that sends nothing (no first request, no next one, a TLS handshake not finished) and reads
   * nothing for this long is closed (default {@link adminDefaults}.idleTimeoutMs).
   */
  readonly idleTimeoutMs?: number;
  /** A request's headers and body must arrive within this time (default {@link adminDefaults}.requestTimeoutMs). */
  readonly requestTimeoutMs?: number;
}

/** The admin port's connection limits by default (rule L2; docs/security.md). */
export const adminDefaults = Object.freeze({
  /** Operators, scrapers and probes: a few dozen connections; 256 leaves room and bounds file descriptors. */
  maxConnections: 256,
  /** Long enough for any scraper between two requests on a kept-alive connection. */
  idleTimeoutMs: 10_000,
  /** The pages are GETs with no body: a request takes milliseconds to arrive. */
  requestTimeoutMs: 10_000,
});

/** Inactivity allowed while a request is being answered (see `listen`). */
const responseIdleMs = 120_000;

/** Refusals past `maxConnections` are logged at most this often (with their count), not once each. */
const dropLogEveryMs = 60_000;

/** An admin HTTP(S) server. */
export interface HttpAdmin {
  /** Listens on `host:port`; resolves the bound port (useful with port 0). */
  listen(address: string): Promise<number>;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
  /** The request handler, to mount elsewhere (it applies the headers, the token and rule L4 too). */
  readonly handle: (request: IncomingMessage, response: ServerResponse) => void;
}

/** The headers of every response: no sniffing, no framing, no referrer, and nothing loads but what a page allows. */
export const securityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
});

/** Writes a body with its content type, never cached; `extra` headers (a page's own CSP) win. */
export function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...extra }).end(body);
}

/** Writes JSON. */
export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
}

/** Plain text. */
export const textType = 'text/plain; charset=utf-8';

/** The URL of an origin-form request target (`/debug/syncz?x=1`), or undefined for anything else. */
function requestUrl(target: string | undefined): URL | undefined {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) return undefined;
  try {
    return new URL(target, 'http://admin');
  } catch {
    return undefined;
  }
}

/** Serves `routes` (GET and HEAD only) over HTTP, or HTTPS with `options.tls`. */
export function createHttpAdmin(
  routes: Readonly<Record<string, Route>>,
  logger: Logger,
  options: HttpAdminOptions = {},
): HttpAdmin {
  const expected = options.token === undefined ? undefined : tokenDigest(options.token);
  const open = new Set(options.openPaths ?? ['/healthz', '/readyz']);

  const fail = (response: ServerResponse, error: unknown, path: string) => {
    logger.error({ err: error, path }, 'admin request failed');
    if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
    else response.destroy();
  };

  const route = (request: IncomingMessage, response: ServerResponse) => {
    for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value);
    const url = requestUrl(request.url);
    if (url === undefined) {
      sendJson(response, 400, { error: 'the request target must be a path, such as /healthz' });
      return;
    }
    if (
      expected !== undefined &&
      !open.has(url.pathname) &&
      !bearerMatches(expected, request.headers.authorization)
    ) {
      response.setHeader('www-authenticate', 'Bearer realm="admin"');
      sendJson(response, 401, { error: 'a bearer token is needed' });
      return;
    }
    const page = routes[url.pathname];
    if (page === undefined) {
      sendJson(response, 404, { error: `no page ${url.pathname}`, pages: Object.keys(routes) });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendJson(response, 405, { error: `${request.method} is not allowed` });
      return;
    }
    Promise.resolve()
      .then(() => page(url, response))
      .catch((error: unknown) => fail(response, error, url.pathname));
  };

  // Rule L4: whatever a request holds, it ends here with a status.
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    try {
      route(request, response);
    } catch (error) {
      fail(response, error, String(request.url).slice(0, 256));
    }
  };

  let server: Server | undefined;
  let unwatch: (() => void) | undefined;
  return {
    handle,
    listen(address) {
      const parsed = parseAddress(address);
      if (typeof parsed === 'string') return Promise.reject(new Error(parsed));
      const tls = options.tls;
      const idleTimeoutMs = options.idleTimeoutMs ?? adminDefaults.idleTimeoutMs;
      const requestTimeoutMs = options.requestTimeoutMs ?? adminDefaults.requestTimeoutMs;
      // how often Node checks the headers and request timeouts (its default, 30 s, would let a slow sender
      // hold a connection that long past them)
      const connectionsCheckingInterval = Math.max(100, Math.min(1_000, requestTimeoutMs / 2));
      let http: Server;
      if (tls === undefined) {
        http = createServer({ connectionsCheckingInterval }, handle);
      } else {
        const https = createHttpsServer(
          {
            ...tls.secureContextOptions(),
            // a handshake on a busy machine can take seconds: the idle bound, but never under 30 s
            handshakeTimeout: Math.max(idleTimeoutMs, 30_000),
            connectionsCheckingInterval,
          },
          handle,
        );
        tls.on('reloaded', () => https.setSecureContext(tls.secureContextOptions()));
        tls.on('reloadFailed', ({ message }) =>
          logger.warn(
            { reason: message },
            'admin TLS files changed but cannot be used; the previous ones stay',
          ),
        );
        unwatch = tls.watch();
        http = https as unknown as Server;
      }
      // Rule L2: connections are capped, and one that sends nothing is closed (the socket's inactivity timeout
      // also runs before the first request, where Node's headers timeout does not yet apply).
      // Past maxConnections, a new connection takes the slot of one waiting between requests (probe Q8).
      const maxConnections = options.maxConnections ?? adminDefaults.maxConnections;
      let dropped = 0;
      let droppedLoggedAt = -Infinity;
      const slots = new AdminSlots(maxConnections, () => {
        dropped++;
        if (Date.now() - droppedLoggedAt < dropLogEveryMs) return;
        droppedLoggedAt = Date.now();
        logger.warn(
          { dropped, maxConnections },
          'admin connections refused: the admin port has maxConnections open, each in the middle of a request',
        );
      });
      slots.attach(http);
      http.timeout = idleTimeoutMs;
      http.keepAliveTimeout = Math.min(idleTimeoutMs, 5_000);
      http.headersTimeout = requestTimeoutMs;
      http.requestTimeout = requestTimeoutMs;
      // Once a request is in, the page may take its time (a large dump on a busy machine) and the client its time
      // to read it: only a connection that neither side moves for responseIdleMs is closed. After the response,
      // Node's keep-alive timeout takes over.
      http.on('request', (request: IncomingMessage) => request.socket.setTimeout(responseIdleMs));
      // Bytes that are not HTTP get a 400 from here, a request past requestTimeoutMs a 408; a socket error never
      // reaches the process.
      http.on('clientError', (error: NodeJS.ErrnoException, socket) => {
        const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
        if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
        else socket.destroy();
      });
      server = http;
      return new Promise((resolve, reject) => {
        http.once('error', (error) => reject(new Error(`cannot listen on ${address}: ${error.message}`)));
        http.listen(parsed.port, parsed.host, () => {
          const bound = http.address();
          resolve(typeof bound === 'object' && bound !== null ? bound.port : parsed.port);
        });
      });
    },
    close() {
      unwatch?.();
      const http = server;
      if (http === undefined) return Promise.resolve();
      return new Promise((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
