/**
 * Physical ceilings, so that the scenario figures can be read as a fraction of the limit of this machine:
 * - raw loopback: one TCP connection, a process writing a big buffer as fast as it can to this process;
 * - grpc-js push: a server with no xDS logic writing the same pre-encoded full configuration (one
 *   DiscoveryResponse per type) to N streams of the very load clients the scenarios use.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { distribution, nowMs } from './clock.js';
import { ConfigModel, clearSharedRecords } from './config-model.js';
import { convergence } from './load.js';
import type { ScenarioResult } from './report.js';
import {
  ALL_TYPES,
  type BenchContext,
  expectAcks,
  mb,
  shapeFor,
  sharedNodes,
  workerCpuMs,
} from './scenarios/context.js';

function child(ctx: BenchContext, args: string[]): ChildProcess {
  return fork(join(ctx.paths.root, 'bench/src/ceiling-peer.ts'), args, {
    execArgv: ['--import', 'tsx'],
    cwd: ctx.paths.root,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Bytes per second over one loopback TCP connection between two processes. */
async function loopback(ctx: BenchContext, ms: number): Promise<number> {
  let bytes = 0;
  let first = 0;
  let last = 0;
  const server = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      if (first === 0) first = nowMs();
      bytes += chunk.length;
      last = nowMs();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const sender = child(ctx, ['tcp', String(port), String(ms)]);
  await new Promise<void>((resolve) => sender.once('exit', () => resolve()));
  server.close();
  return bytes / ((last - first) / 1000);
}

interface PhaseFigures {
  readonly allMs: number;
  readonly p50: number;
  readonly mbPerS: number;
  readonly serverCpuMs: number;
  readonly workerCpuMs: number;
}

/** Connect N clients to the pre-encoded server (the storm ceiling), then push v2 to all (the push ceiling). */
async function grpcPush(ctx: BenchContext, clients: number, payloadPath: string, configBytes: number) {
  const server = child(ctx, ['grpc', payloadPath]);
  try {
    const xds = await new Promise<string>((resolve, reject) => {
      server.once('message', (m: { xds: string }) => resolve(m.xds));
      server.once('exit', (code) => reject(new Error(`ceiling server exited (${code})`)));
    });
    const tell = (what: string) =>
      new Promise<number>((resolve) => {
        server.once('message', (m: { cpuMs: number }) => resolve(m.cpuMs));
        server.send(what);
      });
    const phase = async (version: number, act: () => Promise<number>): Promise<PhaseFigures> => {
      const cpu0 = await tell('stats');
      const worker0 = await workerCpuMs(ctx);
      await ctx.load.log(true);
      const t0 = await act();
      await expectAcks(ctx, ALL_TYPES, version, `ceiling: v${version} to ${clients} clients`);
      const d = distribution(convergence(await ctx.load.log(true), clients, ALL_TYPES, version, () => t0));
      return {
        allMs: d.max,
        p50: d.p50,
        mbPerS: mb(clients * configBytes) / (d.max / 1000),
        serverCpuMs: (await tell('stats')) - cpu0,
        workerCpuMs: (await workerCpuMs(ctx)) - worker0,
      };
    };
    const storm = await phase(1, () =>
      ctx.load.connect({ target: xds, mode: 'sotw', nodes: sharedNodes(clients) }),
    );
    const push = await phase(2, async () => {
      const t0 = nowMs();
      await tell('push');
      return t0;
    });
    await ctx.load.disconnect();
    return { storm, push };
  } finally {
    server.kill();
  }
}

export async function measureCeiling(ctx: BenchContext): Promise<ScenarioResult> {
  const clients = 1000;
  const shape = shapeFor(ctx);
  clearSharedRecords();
  const body = new ConfigModel(shape).records();
  const payload = ctx.store.put(body);
  ctx.progress('ceiling: raw loopback');
  const loopbackBytes = await loopback(ctx, ctx.quick ? 1000 : 3000);
  ctx.progress(`ceiling: pre-encoded grpc-js push to ${clients} clients`);
  const { storm, push } = await grpcPush(ctx, clients, payload.path, body.length);
  const metrics = [
    { name: 'raw loopback TCP, 1 connection', unit: 'MB/s', ours: mb(loopbackBytes), headline: true },
  ];
  for (const [label, figures] of [
    ['connect + full config', storm],
    ['full push', push],
  ] as const) {
    const name = `grpc-js pre-encoded, N=${clients} ${label}`;
    metrics.push(
      { name: `${name}: all ACKed`, unit: 'ms', ours: figures.allMs, headline: label === 'full push' },
      { name: `${name}: throughput`, unit: 'MB/s', ours: figures.mbPerS, headline: true },
      { name: `${name}: server CPU`, unit: 'ms', ours: figures.serverCpuMs, headline: false },
      { name: `${name}: load-worker CPU`, unit: 'ms', ours: figures.workerCpuMs, headline: false },
    );
  }
  return {
    id: 'ceiling',
    title: 'physical ceiling',
    params: { clients, ...shape, configBytes: body.length },
    metrics,
    raw: { ceiling: { loopbackBytesPerS: loopbackBytes, storm, push } },
    notes: ['Ceiling figures are peer-independent; they are shown in the "ours" column.'],
  };
}
