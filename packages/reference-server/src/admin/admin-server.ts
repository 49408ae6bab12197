// The admin HTTP(S) server: routing, the security headers of every response, the bearer token, and rule L4 (no
// request, however malformed, escapes its handler: each ends with a status and the process carries on).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { JsonValue } from '@bufbuild/protobuf';
import type { ServerTls } from '@xds/server';
import type { Logger } from 'pino';
import { parseAddress } from '../address.js';
import type { AdminContext } from './admin-context.js';
import { adsz, configDump, configz, edsz } from './debug-views.js';
import { renderStatusPage, statusPageContentSecurityPolicy } from './status-page.js';
import { syncz } from './syncz.js';

/** Options of {@link createAdminServer}. */
export interface AdminServerOptions {
  /**
   * The bearer token every page but `/healthz` and `/readyz` asks for (`Authorization: Bearer TOKEN`); without it
   * the pages are open (on loopback only, as the command line enforces).
   */
  readonly token?: string;
  /** Serve HTTPS with these certificates (reloaded when their files change) instead of HTTP. */
  readonly tls?: ServerTls;
}

/** Pages a probe reads without the token: they say only whether the process is up and ready. */
const openPaths = new Set(['/healthz', '/readyz']);

/** The headers of every admin response: no sniffing, no framing, no referrer, and nothing loads but our own. */
const securityHeaders = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares a presented bearer token with the expected one in constant time (over their SHA-256 digests). */
function tokenMatches(expected: Buffer, header: string | undefined): boolean {
  const match = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(header ?? '');
  return timingSafeEqual(expected, digest(match?.[1] ?? '')) && match !== null;
}

/** The path of an origin-form request target (`/debug/syncz?x=1`), or undefined for anything else. */
function requestPath(target: string | undefined): URL | undefined {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) return undefined;
  try {
    return new URL(target, 'http://admin');
  } catch {
    return undefined;
  }
}

/** The admin HTTP server (see {@link createAdminServer}). */
export interface AdminServer {
  /** Listens on `host:port`; resolves the bound port (useful with port 0). */
  listen(address: string): Promise<number>;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
  /** The request handler, to mount elsewhere. */
  readonly handle: (request: IncomingMessage, response: ServerResponse) => void;
}

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  response
    .writeHead(status, { ...securityHeaders, 'content-type': type, 'cache-control': 'no-store', ...extra })
    .end(body);
}

function json(response: ServerResponse, status: number, value: JsonValue | object): void {
  send(response, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
}

const text = 'text/plain; charset=utf-8';

/**
 * The admin endpoints: `/` (status page), `/debug/syncz`, `/debug/configz`, `/debug/adsz`,
 * `/debug/config_dump?node=ID`, `/debug/edsz`, `/healthz`, `/readyz` and `/metrics` (Prometheus). GET only.
 */
export function createAdminServer(
  ctx: AdminContext,
  logger: Logger,
  options: AdminServerOptions = {},
): AdminServer {
  const expected = options.token === undefined ? undefined : digest(options.token);
  const routes: Record<string, (url: URL, response: ServerResponse) => void | Promise<void>> = {
    '/': (_url, response) =>
      send(response, 200, 'text/html; charset=utf-8', renderStatusPage(syncz(ctx), ctx.xdsAddress()), {
        'content-security-policy': statusPageContentSecurityPolicy,
      }),
    '/debug/syncz': (_url, response) => json(response, 200, syncz(ctx)),
    '/debug/configz': (_url, response) => json(response, 200, configz(ctx)),
    '/debug/adsz': (_url, response) => json(response, 200, adsz(ctx)),
    '/debug/edsz': (_url, response) => json(response, 200, edsz(ctx)),
    '/debug/config_dump': (url, response) => {
      const node = url.searchParams.get('node');
      if (node === null || node === '') {
        json(response, 400, { error: 'give a node id or snapshot key: /debug/config_dump?node=ID' });
        return;
      }
      const dump = configDump(ctx, node);
      if (dump === undefined) json(response, 404, { error: `no connected node or snapshot key "${node}"` });
      else json(response, 200, dump);
    },
    '/healthz': (_url, response) => send(response, 200, text, 'ok\n'),
    '/readyz': (_url, response) =>
      ctx.ready()
        ? send(response, 200, text, 'ready\n')
        : send(
            response,
            503,
            text,
            `not ready${ctx.notReady?.() === undefined ? '' : `: ${ctx.notReady()}`}\n`,
          ),
    '/metrics': async (_url, response) => {
      const body = await ctx.registry.metrics();
      send(response, 200, ctx.registry.contentType, body);
    },
  };

  const fail = (response: ServerResponse, error: unknown, path: string) => {
    logger.error({ err: error, path }, 'admin request failed');
    if (!response.headersSent) json(response, 500, { error: 'internal error' });
    else response.destroy();
  };

  const route = (request: IncomingMessage, response: ServerResponse) => {
    const url = requestPath(request.url);
    if (url === undefined) {
      json(response, 400, { error: 'the request target must be a path, such as /debug/syncz' });
      return;
    }
    if (
      expected !== undefined &&
      !openPaths.has(url.pathname) &&
      !tokenMatches(expected, request.headers.authorization)
    ) {
      send(response, 401, 'application/json; charset=utf-8', '{"error":"a bearer token is needed"}\n', {
        'www-authenticate': 'Bearer realm="xds-server admin"',
      });
      return;
    }
    const page = routes[url.pathname];
    if (page === undefined) {
      json(response, 404, { error: `no page ${url.pathname}`, pages: Object.keys(routes) });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      json(response, 405, { error: `${request.method} is not allowed` });
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
      let http: Server;
      if (tls === undefined) {
        http = createServer(handle);
      } else {
        const https = createHttpsServer(tls.secureContextOptions(), handle);
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
      // A client that sends garbage gets 400 from Node; its socket errors must not reach the process.
      http.on('clientError', (_error, socket) => {
        if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
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
