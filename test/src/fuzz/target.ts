// The process the fuzzer attacks: a real XdsServer (gRPC and REST listeners on 127.0.0.1) over a SnapshotCache
// that holds the fuzz mesh, pushing a changed snapshot every `pushMs`. It runs alone so that a crash, a hang or a
// leak is the server's and shows as this process dying, stalling or growing (rule L4: the process never exits on
// input). Started by target-process.ts with fork(); it speaks to the driver over the IPC channel only.
import { hrtime } from 'node:process';
import { SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import { fuzzSnapshot, servedNodes } from './fuzz-config.js';
import type { DriverMessage, TargetMessage, TargetOptions } from './target-protocol.js';

const options = JSON.parse(process.argv[2] ?? '{}') as TargetOptions;
const cache = new SnapshotCache();
const server = new XdsServer({
  cache,
  closeGraceMs: 1000,
  limits: {
    firstRequestTimeoutMs: options.firstRequestTimeoutMs,
    drainTimeoutMs: options.drainTimeoutMs,
  },
});
const keys: Record<string, 'envoy' | 'grpc'> = { ...servedNodes, [options.bystanderNode]: 'envoy' };
let epoch = 0;
let version = '';

/** Sets every key's snapshot for the next epoch; the version carries the monotonic time of the push. */
function push(): void {
  epoch++;
  version = `p${epoch}.${hrtime.bigint()}`;
  const built = {
    envoy: fuzzSnapshot('envoy', epoch, version, cache),
    grpc: fuzzSnapshot('grpc', epoch, version, cache),
  };
  for (const [key, flavour] of Object.entries(keys)) cache.setSnapshot(key, built[flavour]);
}

function send(message: TargetMessage): void {
  process.send?.(message);
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) return;
  for (let i = 0; i < 3; i++) collect();
}

push();
const grpcPort = await server.listen('127.0.0.1:0');
const restPort = await server.listenRest('127.0.0.1:0');
const timer = setInterval(push, options.pushMs);
if (options.gcEveryMs !== undefined && options.gcEveryMs > 0) {
  const collect = (globalThis as { gc?: (options: { type: 'minor' | 'major' }) => void }).gc;
  if (collect !== undefined) setInterval(() => collect({ type: 'minor' }), options.gcEveryMs).unref();
}

function stats(id: number, collect: boolean): TargetMessage {
  if (collect) gc();
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    type: 'stats',
    id,
    heapUsed: memory.heapUsed,
    rss: memory.rss,
    streams: server.streamCount,
    cacheKeys: cache.keys().length,
    bytesInFlight: server.writeBudget().inFlightBytes,
    version,
    cpuMs: (cpu.user + cpu.system) / 1000,
    connectionErrors: server
      .connectionStats()
      .errors.recent.map((e) => `${e.at} ${e.peer} ${e.code}: ${e.message}`),
  };
}

/** Answers once at most `atMost` streams are open (on the server's streamClose events), or at the timeout. */
function settle(id: number, atMost: number, timeoutMs: number): void {
  const done = () => {
    server.off('streamClose', check);
    clearTimeout(deadline);
    send(stats(id, false));
  };
  const check = () => {
    if (server.streamCount <= atMost) done();
  };
  const deadline = setTimeout(done, timeoutMs);
  server.on('streamClose', check);
  check();
}

process.on('message', (message: DriverMessage) => {
  switch (message.type) {
    case 'stats':
      send(stats(message.id, message.gc));
      break;
    case 'settle':
      settle(message.id, message.atMost, message.timeoutMs);
      break;
    case 'push':
      push();
      send({ type: 'pushed', id: message.id, version });
      break;
    case 'stop':
      clearInterval(timer);
      void server.close().then(() => {
        cache.close();
        process.exit(0);
      });
      break;
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', grpcPort, restPort, version, node: process.version });
