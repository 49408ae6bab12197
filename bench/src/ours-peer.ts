/**
 * Our bench peer: XdsServer over a SnapshotCache behind the same HTTP control API and ready line as the
 * go-control-plane peer in bench/go-peer (see its README). Run with `node --expose-gc --import tsx`.
 *
 * - `POST /snapshot?node=KEY&version=V`: body = records (see records.ts) → resources (snapshot-records.ts: a record
 *   the peer already holds reuses its resource, a new one is built from its bytes) → `Snapshot.create(resources,
 *   { version: V })` → `setSnapshot(KEY, …)`.
 * - `GET /stats`, `POST /gc`: memory, CPU and traffic counters with the Go peer's field names, plus `encodes`.
 * - `POST /heap-snapshot?file=F`: a V8 heap snapshot (BENCH_HEAP=idle, scenario 4).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { writeHeapSnapshot } from 'node:v8';
import { encodeCount, Snapshot, SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import { snapshotFromRecords } from './snapshot-records.js';

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  for (const [i, arg] of args.entries()) {
    if (arg === `--${name}`) return args[i + 1] ?? fallback;
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return fallback;
}

function loopback(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  if (host !== '127.0.0.1' && host !== '[::1]') throw new Error(`${address}: only loopback addresses`);
  return { host, port: Number(address.slice(at + 1)) };
}

const cache = new SnapshotCache();
/** `--drain-timeout-ms N`: `limits.drainTimeoutMs` (scenario 8 keeps its stalled clients for the whole run). */
const drainTimeout = option('drain-timeout-ms', '');
// Every bench client of the shared snapshot has the same node id, about 100 streams share a connection at 10,000
// clients, and the Go peer has no such limits: ours are raised to match. Keepalive as grpc-go's server (the Go
// peer's): a ping after 2 h, 20 s for its answer. With ours (30 s, 10 s) a full configuration to 1,000 clients on a
// loaded machine lost 85 of 100 connections ("Ping timeout passed without response"): each ping waits behind the
// megabytes already queued on its connection for a load worker that reads them slowly.
const server = new XdsServer({
  cache,
  closeGraceMs: 500,
  limits: {
    maxStreamsPerNode: 1_000_000,
    maxStreamsPerConnection: 10_000,
    ...(drainTimeout === '' ? {} : { drainTimeoutMs: Number(drainTimeout) }),
  },
  keepalive: { timeMs: 2 * 60 * 60 * 1000, timeoutMs: 20_000 },
});
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

function stats() {
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
  };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function handleSnapshot(url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const node = url.searchParams.get('node') ?? '';
  const version = url.searchParams.get('version') ?? '';
  if (node === '' || version === '') {
    reply(response, 400, { ok: false, error: 'query parameters node and version are required' });
    return;
  }
  const body = await readBody(request);
  const start = performance.now();
  try {
    const { resources, commit } = snapshotFromRecords(body);
    cache.setSnapshot(node, Snapshot.create(resources, { version }));
    commit(node);
    reply(response, 200, { ok: true, resources: resources.length, ms: performance.now() - start });
  } catch (error) {
    reply(response, 400, { ok: false, error: error instanceof Error ? error.message : String(error) });
  }
}

let profiler: Session | undefined;

/** `POST /profile?action=start`, then `?action=stop&file=F`: a CPU profile of part of a run (BENCH_PROF=pushes). */
async function profile(action: string, file: string): Promise<void> {
  if (action === 'start') {
    profiler ??= new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    return;
  }
  if (profiler === undefined) throw new Error('no profile started');
  const { profile: taken } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  writeFileSync(file, JSON.stringify(taken));
}

const control = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://control');
  const route = `${request.method} ${url.pathname}`;
  if (route === 'POST /snapshot') {
    handleSnapshot(url, request, response).catch((error: unknown) =>
      reply(response, 500, { ok: false, error: String(error) }),
    );
  } else if (route === 'GET /stats') reply(response, 200, stats());
  else if (route === 'POST /profile') {
    profile(url.searchParams.get('action') ?? '', url.searchParams.get('file') ?? '').then(
      () => reply(response, 200, { ok: true }),
      (error: unknown) => reply(response, 500, { ok: false, error: String(error) }),
    );
  } else if (route === 'POST /heap-snapshot') {
    const file = url.searchParams.get('file') ?? '';
    // The process's memory map beside it: where the RSS that is not V8 heap lives.
    writeFileSync(`${file}.smaps`, readFileSync('/proc/self/smaps'));
    if (url.searchParams.get('heap') !== 'false') writeHeapSnapshot(file);
    reply(response, 200, { ok: true });
  } else if (route === 'POST /gc') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    reply(response, 200, stats());
  } else reply(response, 404, { ok: false, error: `no route ${route}` });
});

// The driver keeps its control connection alive between requests (Node's default agent). Node's server would close
// an idle one after 5 s (keepAliveTimeout) on a timer; when the peer's event loop is busy for longer than that (a
// push to 1,000 clients on a starved machine), the timer runs in the loop turn before the one that reads the
// driver's next request, already sent on that connection: the socket is closed with the request unread, the kernel
// answers with a reset, and the driver's POST fails with "read ECONNRESET" (the one-hour soak at minute 36).
// The driver's agent closes its own idle sockets; the peer never does, and never times a request out (the driver
// has its own timeout).
control.keepAliveTimeout = 0;
control.requestTimeout = 0;

async function main(): Promise<void> {
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
    server.close().then(
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
  const ready = {
    xds: `${xds.host}:${xdsPort}`,
    control: `${controlAt.host}:${controlPort}`,
    pid: process.pid,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`ours-peer: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
