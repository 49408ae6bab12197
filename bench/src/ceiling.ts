/**
 * Physical ceilings, so that the scenario figures can be read as a fraction of the limit of this machine:
 * - raw loopback: one TCP connection, a process writing a big buffer as fast as it can to this process;
 * - grpc-js push: a server with no xDS logic writing the same pre-encoded full configuration (one
 *   DiscoveryResponse per type) to N streams of the very load clients the scenarios use: at 1,000 clients a
 *   connect and a full push; at the large client count of scenarios 1 and 3 (10,000) a connect (the connect
 *   storm's ceiling) and scenario 1's 1% endpoint change, the same assignments our server sends for it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { distribution, nowMs } from './clock.js';
import { convergence } from './load.js';
import type { ScenarioResult } from './report.js';
import {
  ALL_TYPES,
  type BenchContext,
  bigN,
  EDS,
  expectAcks,
  mb,
  shapeFor,
  sharedNodes,
  smallN,
  workerCpuMs,
} from './scenarios/context.js';
import { payloads } from './scenarios/session.js';

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

/**
 * Connect N clients to the pre-encoded server (the storm ceiling), then push v2 to all: every type (the full push
 * ceiling), or with `changedPath` only the assignments it changed (the 1% push ceiling).
 */
async function grpcPush(
  ctx: BenchContext,
  clients: number,
  payloadPath: string,
  configBytes: number,
  changedPath?: string,
) {
  const server = child(ctx, ['grpc', payloadPath, ...(changedPath === undefined ? [] : [changedPath])]);
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
    const phase = async (
      version: number,
      act: () => Promise<number>,
      types: readonly number[] = ALL_TYPES,
    ): Promise<PhaseFigures> => {
      const cpu0 = await tell('stats');
      const worker0 = await workerCpuMs(ctx);
      await ctx.load.log(true);
      const t0 = await act();
      await expectAcks(ctx, types, version, `ceiling: v${version} to ${clients} clients`);
      const d = distribution(convergence(await ctx.load.log(true), clients, types, version, () => t0));
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
    const push = await phase(
      2,
      async () => {
        const t0 = nowMs();
        await tell(changedPath === undefined ? 'push' : 'push-eds');
        return t0;
      },
      changedPath === undefined ? ALL_TYPES : EDS,
    );
    await ctx.load.disconnect();
    return { storm, push };
  } finally {
    server.kill();
  }
}

export async function measureCeiling(ctx: BenchContext): Promise<ScenarioResult> {
  const small = smallN(ctx);
  const large = bigN(ctx);
  const shape = shapeFor(ctx);
  const smallPayloads = payloads(ctx, small);
  const configBytes = smallPayloads.initial.bytes;
  ctx.progress('ceiling: raw loopback');
  const loopbackBytes = await loopback(ctx, ctx.quick ? 1000 : 3000);
  ctx.progress(`ceiling: pre-encoded grpc-js connect and full push, ${small} clients`);
  const atSmall = await grpcPush(ctx, small, smallPayloads.initial.path, configBytes);
  // The large client count: the connect storm's and the 1% push's ceilings (scenarios 3 and 1).
  const largePayloads = payloads(ctx, large);
  const largeBytes = largePayloads.initial.bytes;
  ctx.progress(`ceiling: pre-encoded grpc-js connect and 1% EDS push, ${large} clients`);
  const atLarge = await grpcPush(
    ctx,
    large,
    largePayloads.initial.path,
    largeBytes,
    largePayloads.small[0]!.path,
  );
  const metrics = [
    { name: 'raw loopback TCP, 1 connection', unit: 'MB/s', ours: mb(loopbackBytes), headline: true },
  ];
  const phases = [
    [`N=${small} connect + full config`, atSmall.storm, true],
    [`N=${small} full push`, atSmall.push, true],
    [`N=${large} connect + full config`, atLarge.storm, true],
    [`N=${large} 1% EDS push`, atLarge.push, false],
  ] as const;
  for (const [label, figures, whole] of phases) {
    const name = `grpc-js pre-encoded, ${label}`;
    metrics.push({ name: `${name}: all ACKed`, unit: 'ms', ours: figures.allMs, headline: true });
    if (whole)
      metrics.push({ name: `${name}: throughput`, unit: 'MB/s', ours: figures.mbPerS, headline: false });
    metrics.push(
      { name: `${name}: p50`, unit: 'ms', ours: figures.p50, headline: false },
      { name: `${name}: server CPU`, unit: 'ms', ours: figures.serverCpuMs, headline: false },
      { name: `${name}: load-worker CPU`, unit: 'ms', ours: figures.workerCpuMs, headline: false },
    );
  }
  return {
    id: 'ceiling',
    title: 'physical ceiling',
    params: { clients: [small, large], ...shape, configBytes, largeConfigBytes: largeBytes },
    metrics,
    raw: { ceiling: { loopbackBytesPerS: loopbackBytes, atSmall, atLarge } },
    notes: [
      'Ceiling figures are peer-independent; they are shown in the "ours" column.',
      `At ${large} clients the pushed bytes are scenario 1's 1% change: the changed assignments only.`,
    ],
  };
}
