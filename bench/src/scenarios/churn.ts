/**
 * Scenario 5, endpoint churn: 100 endpoint changes per second (10 snapshots a second, each changing the
 * endpoints of 10 services) for 60 s (2 s with --quick), to SotW and to delta clients. Bytes and CPU of the
 * server, and how long each client took to ACK each change (or a later one that includes it).
 */
import { distribution, nowMs, sleep } from '../clock.js';
import { ConfigModel, clearSharedRecords } from '../config-model.js';
import type { AckLog } from '../load.js';
import type { ClientMode } from '../load-protocol.js';
import type { Payload } from '../payloads.js';
import { MetricSet, type ScenarioResult } from '../report.js';
import {
  type BenchContext,
  connectAndSync,
  cpuBetween,
  EDS,
  eachPeer,
  expectAcks,
  mb,
  post,
  shapeFor,
  sharedNode,
  sharedNodes,
  withPeer,
  workerCpuMs,
} from './context.js';

const pushesPerSecond = 10;
const servicesPerPush = 10;

/** Latency of every (client, push): the first EDS ACK at that push's version or later, minus its POST start. */
export function churnLatencies(
  log: AckLog,
  clients: number,
  firstVersion: number,
  t0: Float64Array,
): Float64Array {
  const next = new Int32Array(clients);
  const out: number[] = [];
  for (let i = 0; i < log.client.length; i++) {
    if (log.type[i] !== 1) continue;
    const c = log.client[i]!;
    const reached = log.version[i]! - firstVersion;
    while (next[c]! <= reached && next[c]! < t0.length) {
      out.push(log.at[i]! - t0[next[c]!]!);
      next[c]!++;
    }
  }
  return Float64Array.from(out);
}

export async function churn(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 100 : 1000;
  const seconds = ctx.quick ? 2 : 60;
  const shape = shapeFor(ctx);
  const count = seconds * pushesPerSecond;
  clearSharedRecords();
  const model = new ConfigModel(shape);
  const initial = ctx.store.put(model.records());
  const pushes: Payload[] = [];
  for (let k = 0; k < count; k++) {
    const changed = [];
    for (let j = 0; j < servicesPerPush; j++) changed.push((k * servicesPerPush + j) % shape.services);
    model.changeEndpoints(changed);
    pushes.push(ctx.store.put(model.records()));
  }
  const metrics = new MetricSet();
  const raw: Record<string, unknown> = {};
  const failed: string[] = [];
  for (const mode of ['sotw', 'delta'] as ClientMode[]) {
    await eachPeer(ctx, failed, async (kind) => {
      ctx.progress(`5 churn: ${kind}, ${mode}, ${n} clients, ${seconds} s`);
      const figures = await withPeer(ctx, kind, async (peer) => {
        await post(ctx, peer, sharedNode, 1, initial);
        await connectAndSync(ctx, peer, sharedNodes(n), 1, mode);
        await ctx.load.log(true);
        const before = await peer.stats();
        const worker0 = await workerCpuMs(ctx);
        const t0 = new Float64Array(count);
        const start = nowMs();
        const due = (k: number) => start + (k * 1000) / pushesPerSecond;
        let lagMs = 0;
        let posts = 0;
        for (let k = 0; k < count; ) {
          const now = nowMs();
          const latest = Math.min(count - 1, Math.floor(((now - start) * pushesPerSecond) / 1000));
          if (latest < k) {
            await sleep(due(k) - now);
            continue;
          }
          // A peer that falls behind gets the latest due snapshot, which holds every change skipped.
          const posted = await post(ctx, peer, sharedNode, 2 + latest, pushes[latest]!);
          lagMs = Math.max(lagMs, posted.t0 - due(k));
          for (let j = k; j <= latest; j++) t0[j] = due(j);
          posts++;
          k = latest + 1;
        }
        const postedMs = nowMs() - start;
        await expectAcks(ctx, EDS, 1 + count, `${kind} ${mode}: churn`);
        const elapsedMs = nowMs() - start;
        const after = await peer.stats();
        const latencies = distribution(churnLatencies(await ctx.load.log(true), n, 2, t0));
        return {
          latencies,
          postedMs,
          elapsedMs,
          lagMs,
          posts,
          bytes: after.bytesSent - before.bytesSent,
          responses: after.responsesSent - before.responsesSent,
          serverCpuMs: cpuBetween(before, after),
          workerCpuMs: (await workerCpuMs(ctx)) - worker0,
        };
      });
      raw[`${kind}-${mode}`] = figures;
      const label = `${mode}`;
      metrics.set(kind, `${label}: p50 convergence`, 'ms', figures.latencies.p50);
      metrics.set(kind, `${label}: p99 convergence`, 'ms', figures.latencies.p99, true);
      metrics.set(kind, `${label}: max convergence`, 'ms', figures.latencies.max);
      metrics.set(kind, `${label}: bytes sent`, 'MB', mb(figures.bytes), true);
      metrics.set(kind, `${label}: responses sent`, 'count', figures.responses);
      metrics.set(
        kind,
        `${label}: server CPU`,
        '% of one core',
        (100 * figures.serverCpuMs) / figures.elapsedMs,
      );
      metrics.set(
        kind,
        `${label}: load-worker CPU`,
        '% of one core',
        (100 * figures.workerCpuMs) / figures.elapsedMs,
      );
      metrics.set(kind, `${label}: driver POST lag (max)`, 'ms', figures.lagMs);
      metrics.set(kind, `${label}: snapshots POSTed (of ${count})`, 'count', figures.posts);
    });
  }
  return {
    id: '5',
    title: 'endpoint churn',
    params: { clients: n, seconds, ...shape, pushesPerSecond, servicesPerPush, changesPerSecond: 100 },
    metrics: metrics.list(),
    raw,
    notes: [
      ...failed,
      'Convergence of a change: from its due time (the start of its POST when the peer keeps up) to the ' +
        "client's first EDS ACK of that version or a later one. A peer that cannot take 10 snapshots a second " +
        'gets the latest due one, which holds the changes skipped.',
      'CPU is the share of one core over the whole run (pushes plus the wait for the last ACK).',
    ],
  };
}
