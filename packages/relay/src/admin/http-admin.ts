/**
 * A small admin HTTP server: a table of GET routes, JSON and text answers, a 404 that lists the pages, and no
 * exception escaping a handler (rule L4). The relay's pages are routes of it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseAddress } from '@xds/reference-server';
import type { Logger } from '@xds/server';

/** One page. */
export type Route = (url: URL, response: ServerResponse) => void | Promise<void>;

/** An admin HTTP server. */
export interface HttpAdmin {
  /** Listens on `host:port`; resolves the bound port (useful with port 0). */
  listen(address: string): Promise<number>;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
  /** The request handler, to mount elsewhere. */
  readonly handle: (request: IncomingMessage, response: ServerResponse) => void;
}

/** Writes a body with its content type, never cached. */
export function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

/** Writes JSON. */
export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
}

/** Plain text. */
export const textType = 'text/plain; charset=utf-8';

/** Serves `routes` (GET and HEAD only). */
export function createHttpAdmin(routes: Readonly<Record<string, Route>>, logger: Logger): HttpAdmin {
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://admin');
    const route = routes[url.pathname];
    if (route === undefined) {
      sendJson(response, 404, { error: `no page ${url.pathname}`, pages: Object.keys(routes) });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendJson(response, 405, { error: `${request.method} is not allowed` });
      return;
    }
    Promise.resolve()
      .then(() => route(url, response))
      .catch((error: unknown) => {
        logger.error({ err: error, path: url.pathname }, 'admin request failed');
        if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
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
