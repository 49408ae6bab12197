import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { JsonValue } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { parseAddress } from '../address.js';
import type { AdminContext } from './admin-context.js';
import { adsz, configDump, configz, edsz } from './debug-views.js';
import { renderStatusPage } from './status-page.js';
import { syncz } from './syncz.js';

/** The admin HTTP server (see {@link createAdminServer}). */
export interface AdminServer {
  /** Listens on `host:port`; resolves the bound port (useful with port 0). */
  listen(address: string): Promise<number>;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
  /** The request handler, to mount elsewhere. */
  readonly handle: (request: IncomingMessage, response: ServerResponse) => void;
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

function json(response: ServerResponse, status: number, value: JsonValue | object): void {
  send(response, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
}

const text = 'text/plain; charset=utf-8';

/**
 * The admin endpoints: `/` (status page), `/debug/syncz`, `/debug/configz`, `/debug/adsz`,
 * `/debug/config_dump?node=ID`, `/debug/edsz`, `/healthz`, `/readyz` and `/metrics` (Prometheus). GET only.
 */
export function createAdminServer(ctx: AdminContext, logger: Logger): AdminServer {
  const routes: Record<string, (url: URL, response: ServerResponse) => void | Promise<void>> = {
    '/': (_url, response) =>
      send(response, 200, 'text/html; charset=utf-8', renderStatusPage(syncz(ctx), ctx.xdsAddress())),
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
      ctx.ready() ? send(response, 200, text, 'ready\n') : send(response, 503, text, 'not ready\n'),
    '/metrics': async (_url, response) => {
      const body = await ctx.registry.metrics();
      send(response, 200, ctx.registry.contentType, body);
    },
  };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://admin');
    const route = routes[url.pathname];
    if (route === undefined) {
      json(response, 404, { error: `no page ${url.pathname}`, pages: Object.keys(routes) });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      json(response, 405, { error: `${request.method} is not allowed` });
      return;
    }
    Promise.resolve()
      .then(() => route(url, response))
      .catch((error: unknown) => {
        logger.error({ err: error, path: url.pathname }, 'admin request failed');
        if (!response.headersSent) json(response, 500, { error: 'internal error' });
        else response.destroy();
      });
  };

  let server: Server | undefined;
  return {
    handle,
    listen(address) {
      const parsed = parseAddress(address);
      if (typeof parsed === 'string') return Promise.reject(new Error(parsed));
      const http = createServer(handle);
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
      const http = server;
      if (http === undefined) return Promise.resolve();
      return new Promise((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
