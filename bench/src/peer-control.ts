/**
 * What our two bench peer processes share (ours-peer.ts, the origin; relay-peer.ts, an `@xds/relay` tier): traffic
 * counters taken from an XdsServer's events, `GET /stats` and `POST /gc` with the Go peer's field names, the control
 * HTTP server, the loopback-only flags, the ready line (`{"xds":…,"control":…,"pid":…}`) and the stop when stdin
 * closes. See peer.ts for the driver's side.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeCount } from '@xds/cache';
import type { XdsServer } from '@xds/server';

/** A control route beyond /stats and /gc: returns false when it does not handle `route` (`POST /snapshot`). */
export type ControlRoute = (
  route: string,
  url: URL,
  request: IncomingMessage,
  response: ServerResponse,
) => boolean;

/** Writes a JSON reply. */
export function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

/** Reads a request body. */
export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The value of `--name V` or `--name=V` on the command line. */
export function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  for (const [i, arg] of args.entries()) {
    if (arg === `--${name}`) return args[i + 1] ?? fallback;
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return fallback;
}

/** `host:port` of a loopback address; throws for any other host. */
export function loopback(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  if (host !== '127.0.0.1' && host !== '[::1]') throw new Error(`${address}: only loopback addresses`);
  return { host, port: Number(address.slice(at + 1)) };
}

/** What {@link runPeer} serves. */
export interface PeerProcess {
  /** The downstream xDS server whose traffic `/stats` counts. */
  readonly server: XdsServer;
  /** Stops the peer; default `server.close()`. */
  readonly close?: () => Promise<void>;
  /** Handles anything beyond `/stats` and `/gc`. */
  readonly routes?: ControlRoute;
  /** Fields added to `/stats`. */
  readonly extraStats?: () => Record<string, unknown>;
}

/** Serves the control API of a peer, listens for xDS and prints the ready line once both listen. */
export async function runPeer(peer: PeerProcess): Promise<void> {
  const { server, routes = () => false, extraStats = () => ({}) } = peer;
  const counters = { requests: 0, acks: 0, nacks: 0, responsesSent: 0, bytesSent: 0 };
  server.on('request', () => {
    counters.requests++;
  });
  server.on('ack', () => {
    counters.acks++;
  });
  server.on('nack', () => {
    counters.nacks++;
  });
  server.on('response', (event) => {
    counters.responsesSent++;
    counters.bytesSent += event.bytes;
  });
  const stats = () => {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      heapAlloc: memory.heapUsed,
      heapInuse: memory.heapTotal,
      sys: memory.rss,
      rssBytes: memory.rss,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
      cpuUserMs: cpu.user / 1000,
      cpuSysMs: cpu.system / 1000,
      streams: server.streamCount,
      ...counters,
      encodes: encodeCount(),
      unflushedBytes: server.writeBudget().unflushedBytes,
      ...extraStats(),
    };
  };
  const control = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://control');
    const route = `${request.method} ${url.pathname}`;
    if (route === 'GET /stats') reply(response, 200, stats());
    else if (route === 'POST /gc') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      reply(response, 200, stats());
    } else if (!routes(route, url, request, response))
      reply(response, 404, { ok: false, error: `no route ${route}` });
  });
  // The driver keeps its control connection alive between requests (Node's default agent). Node's server would close
  // an idle one after 5 s (keepAliveTimeout) on a timer; when the peer's event loop is busy for longer than that (a
  // push to 1,000 clients on a starved machine), the timer runs in the loop turn before the one that reads the
  // driver's next request, already sent on that connection: the socket is closed with the request unread, the
  // kernel answers with a reset, and the driver's POST fails with "read ECONNRESET" (the one-hour soak at minute
  // 36). The driver's agent closes its own idle sockets; the peer never does, and never times a request out (the
  // driver has its own timeout).
  control.keepAliveTimeout = 0;
  control.requestTimeout = 0;
  const xds = loopback(option('xds', '127.0.0.1:0'));
  const controlAt = loopback(option('control', '127.0.0.1:0'));
  const xdsPort = await server.listen(`${xds.host}:${xds.port}`);
  await new Promise<void>((resolve) => control.listen(controlAt.port, controlAt.host, resolve));
  const controlPort = (control.address() as AddressInfo).port;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    control.close();
    control.closeAllConnections();
    const timer = setTimeout(() => process.exit(0), 2000);
    timer.unref();
    (peer.close ?? (() => server.close()))().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (option('exit-on-stdin-close', 'true') !== 'false') {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  process.stdout.write(
    `${JSON.stringify({ xds: `${xds.host}:${xdsPort}`, control: `${controlAt.host}:${controlPort}`, pid: process.pid })}\n`,
  );
}
