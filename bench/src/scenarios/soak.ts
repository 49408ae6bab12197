/**
 * Scenario "soak": an hour (`--soak-minutes`, 1 with --quick) of endpoint churn to 1,000 clients (200 with
 * --quick): most read at full speed (the load workers), some read slowly and some reconnect again and again
 * (soak-worker.ts, its own process). Memory is taken after GC once every client has synced and again at the end,
 * after the churn stopped, the difficult clients calmed down and everyone converged; the check fails when the end
 * is more than 10% above the start (a leak that time, churn or reconnects make grow). Convergence is reported per
 * minute, first and last, to show whether it degrades.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { distribution, nowMs, sleep } from '../clock.js';
import { ConfigModel, clearSharedRecords } from '../config-model.js';
import type { AckLog } from '../load.js';
import type { Peer } from '../peer.js';
import { MetricSet, type ScenarioResult } from '../report.js';
import type { SoakCommand, SoakCounters } from '../soak-worker.js';
import {
  type BenchContext,
  connectAndSync,
  EDS,
  eachPeer,
  expectAcks,
  mb,
  settledStats,
  sharedNode,
  sharedNodes,
  withPeer,
} from './context.js';

const pushesPerSecond = 2;
const servicesPerPush = 10;
/** The most the end may be above the start, after GC. */
const allowedGrowth = 0.1;

type Command = SoakCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** The soak worker process and its request/reply channel. */
class SoakWorker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: { ok: boolean; value?: unknown; error?: string }) => void>();
  #ids = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (reply: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
  }

  static async start(root: string): Promise<SoakWorker> {
    const child = fork(join(root, 'bench/src/soak-worker.ts'), [], {
      execArgv: ['--import', 'tsx'],
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`soak worker exited (${code}) at start`)));
    });
    return new SoakWorker(child);
  }

  call<T>(command: Command): Promise<T> {
    const id = ++this.#ids;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (reply) =>
        reply.ok ? resolve(reply.value as T) : reject(new Error(reply.error)),
      );
      this.#child.send({ ...command, id });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#child.exitCode !== null) return resolve();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
      this.#child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#child.disconnect();
    });
  }
}

/** Push-to-ACK latency of every EDS ACK in a log window, from the push time of the version ACKed. */
function windowLatencies(log: AckLog, pushedAt: ReadonlyMap<number, number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < log.client.length; i++) {
    if (log.type[i] !== 1) continue;
    const t0 = pushedAt.get(log.version[i]!);
    if (t0 !== undefined) out.push(log.at[i]! - t0);
  }
  return out;
}

export async function soak(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 200 : 1000;
  const minutes = ctx.soakMinutes ?? (ctx.quick ? 1 : 60);
  const slow = Math.round(n * 0.05);
  const reconnecting = Math.round(n * 0.05);
  const readers = n - slow - reconnecting;
  const shape = { services: ctx.quick ? 50 : 200, endpoints: 10 };
  const metrics = new MetricSet();
  const raw: Record<string, unknown> = {};
  const failed: string[] = [];
  await eachPeer(ctx, failed, async (kind) => {
    ctx.progress(`soak: ${kind}, ${n} clients (${slow} slow, ${reconnecting} reconnecting), ${minutes} min`);
    clearSharedRecords();
    const model = new ConfigModel(shape);
    const worker = await SoakWorker.start(ctx.paths.root);
    try {
      const figures = await withPeer(ctx, kind, async (peer: Peer) => {
        let version = 1;
        await peer.setSnapshot(sharedNode, `v${version}`, model.records());
        await connectAndSync(ctx, peer, sharedNodes(readers), version);
        await worker.call({
          cmd: 'start',
          target: peer.xds,
          node: sharedNode,
          slow,
          reconnecting,
          periodMs: 1000,
          burstMs: 50,
          reconnectMs: 10_000,
        });
        await sleep(5000);
        const start = await settledStats(peer);
        const pushedAt = new Map<number, number>();
        const perMinute: { p50: number; p99: number; acks: number }[] = [];
        const t0 = nowMs();
        const end = t0 + minutes * 60_000;
        let nextWindow = t0 + 60_000;
        let k = 0;
        await ctx.load.log(true);
        while (nowMs() < end) {
          const due = t0 + (k * 1000) / pushesPerSecond;
          if (nowMs() < due) await sleep(due - nowMs());
          const changed = [];
          for (let j = 0; j < servicesPerPush; j++) changed.push((k * servicesPerPush + j) % shape.services);
          model.changeEndpoints(changed);
          version++;
          pushedAt.set(version, nowMs());
          await peer.setSnapshot(sharedNode, `v${version}`, model.records());
          k++;
          if (nowMs() >= nextWindow) {
            const d = distribution(windowLatencies(await ctx.load.log(true), pushedAt));
            perMinute.push({ p50: d.p50, p99: d.p99, acks: d.count });
            for (const v of pushedAt.keys()) if (v < version - 200) pushedAt.delete(v);
            ctx.progress(
              `soak: ${kind}, minute ${perMinute.length}: p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms`,
            );
            nextWindow += 60_000;
          }
        }
        await worker.call({ cmd: 'calm' });
        await expectAcks(ctx, EDS, version, `${kind}: soak readers at v${version}`);
        const settled = await worker.call<{ ok: boolean; missing: number }>({
          cmd: 'converged',
          version,
          timeoutMs: 120_000,
        });
        await sleep(5000);
        const endStats = await settledStats(peer);
        const counters = await worker.call<SoakCounters>({ cmd: 'counters' });
        return { start, end: endStats, perMinute, pushes: k, counters, unconverged: settled.missing };
      });
      const rssGrowth = figures.end.rssBytes / figures.start.rssBytes - 1;
      const heapGrowth = figures.end.heapAlloc / figures.start.heapAlloc - 1;
      const pass = rssGrowth <= allowedGrowth && heapGrowth <= allowedGrowth;
      raw[kind] = { ...figures, rssGrowth, heapGrowth, pass };
      const first = figures.perMinute[0];
      const last = figures.perMinute[figures.perMinute.length - 1];
      metrics.set(kind, 'RSS at start (after GC)', 'MB', mb(figures.start.rssBytes));
      metrics.set(kind, 'RSS at end (after GC)', 'MB', mb(figures.end.rssBytes), true);
      metrics.set(kind, 'heap at start (after GC)', 'MB', mb(figures.start.heapAlloc));
      metrics.set(kind, 'heap at end (after GC)', 'MB', mb(figures.end.heapAlloc), true);
      metrics.set(kind, 'RSS growth, end over start', '%', 100 * rssGrowth, true);
      metrics.set(kind, 'heap growth, end over start', '%', 100 * heapGrowth, true);
      if (first !== undefined) metrics.set(kind, 'readers p99, first minute', 'ms', first.p99);
      if (last !== undefined) metrics.set(kind, 'readers p99, last minute', 'ms', last.p99, true);
      metrics.set(kind, 'snapshots pushed', 'count', figures.pushes);
      metrics.set(kind, 'reconnects', 'count', figures.counters.reconnects);
      metrics.set(kind, 'streams the server ended, opened again', 'count', figures.counters.reopened);
      metrics.set(
        kind,
        'slow or reconnecting clients not converged 2 min after the churn',
        'count',
        figures.unconverged,
      );
      if (figures.unconverged > 0)
        failed.push(`${kind}: ${figures.unconverged} slow or reconnecting clients did not converge`);
      if (!pass)
        failed.push(
          `${kind}: memory check failed: RSS ${(100 * rssGrowth).toFixed(1)}%, heap ${(100 * heapGrowth).toFixed(1)}% above the start (limit ${100 * allowedGrowth}%)`,
        );
    } finally {
      await worker.call({ cmd: 'close' }).catch(() => {});
      await worker.stop();
    }
  });
  if (failed.length > 0) process.exitCode = 1;
  return {
    id: 'soak',
    title: 'soak',
    params: { clients: n, readers, slow, reconnecting, minutes, ...shape, pushesPerSecond, servicesPerPush },
    metrics: metrics.list(),
    raw,
    notes: [
      ...failed,
      `Memory after GC once every client synced, and at the end after the churn stopped and every client converged; the check fails above +${100 * allowedGrowth}%.`,
      'Slow clients read for 50 ms every second; reconnecting clients cancel their stream every 5-15 s (every fourth time their connection too) and ask for everything again.',
    ],
  };
}
