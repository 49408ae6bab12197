/**
 * Our bench peer: XdsServer over a SnapshotCache behind the same HTTP control API and ready line as the
 * go-control-plane peer in bench/go-peer (see its README). Run with `node --expose-gc --import tsx`.
 *
 * - `POST /snapshot?node=KEY&version=V`: body = records (see records.ts) → resources (snapshot-records.ts: a record
 *   the peer already holds reuses its resource, a new one is built from its bytes) → `Snapshot.create(resources,
 *   { version: V })` → `setSnapshot(KEY, …)`.
 * - `GET /stats`, `POST /gc` (peer-control.ts, shared with relay-peer.ts): memory, CPU and traffic counters with the
 *   Go peer's field names, plus `encodes`.
 * - `POST /heap-snapshot?file=F`: a V8 heap snapshot (BENCH_HEAP=idle, scenario 4).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import { writeHeapSnapshot } from 'node:v8';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import { option, readBody, reply, runPeer } from './peer-control.js';
import { snapshotFromRecords } from './snapshot-records.js';

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
    // Every bench client comes from 127.0.0.1: 10,000 clients of 1,000 EDS names hold about 900 MB (rule L2's
    // per-peer share of subscribed names is 512 MiB by default, for a fleet behind one address).
    maxSubscriptionBytesPerPeer: 2_000_000_000,
    // A load worker opens thousands of streams at once, all from that one address.
    maxPendingStreamsPerPeer: 1_000_000,
    ...(drainTimeout === '' ? {} : { drainTimeoutMs: Number(drainTimeout) }),
  },
  keepalive: { timeMs: 2 * 60 * 60 * 1000, timeoutMs: 20_000 },
});
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

runPeer({
  server,
  // Streams the server ended for not reading within limits.drainTimeoutMs (rule S12), since start (soak).
  extraStats: () => ({ drainTimeouts: server.streamStats().endedByLimit.drainTimeoutMs ?? 0 }),
  routes(route, url, request, response) {
    if (route === 'POST /snapshot') {
      handleSnapshot(url, request, response).catch((error: unknown) =>
        reply(response, 500, { ok: false, error: String(error) }),
      );
    } else if (route === 'POST /profile') {
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
    } else return false;
    return true;
  },
}).catch((error: unknown) => {
  process.stderr.write(`ours-peer: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
