/**
 * Scenario 3, connect storm: N clients connect at once to a peer that holds the snapshot; time until each has
 * ACKed the full configuration (all four types). Shares its run with scenarios 1 and 4 (see session.ts).
 */
import type { ScenarioResult } from '../report.js';
import { MetricSet } from '../report.js';
import { type BenchContext, bigN, eachPeer, mb, shapeFor, sharedLabel } from './context.js';
import { session } from './session.js';

export async function connectStorm(ctx: BenchContext): Promise<ScenarioResult> {
  const n = bigN(ctx);
  const label = sharedLabel(ctx, n);
  const metrics = new MetricSet();
  const raw: Record<string, unknown> = {};
  const failed: string[] = [];
  await eachPeer(ctx, failed, async (kind) => {
    ctx.progress(`3 connect storm: ${kind}, ${n} clients`);
    const figures = await session(ctx, kind, n, {
      storm: true,
      idle: ctx.selected.has('4'),
      pushes: false,
      full: false,
    });
    const storm = figures.storm!;
    raw[kind] = storm;
    metrics.set(kind, `${label} all ACKed full config`, 'ms', storm.allMs, true);
    metrics.set(kind, `${label} p50`, 'ms', storm.p50);
    metrics.set(kind, `${label} p99`, 'ms', storm.p99);
    metrics.set(kind, `${label} bytes sent`, 'MB', mb(storm.bytes));
    metrics.set(kind, `${label} throughput`, 'MB/s', mb(storm.bytes) / (storm.allMs / 1000));
    metrics.set(kind, `${label} server CPU`, 'ms', storm.serverCpuMs);
    metrics.set(kind, `${label} load-worker CPU`, 'ms', storm.workerCpuMs);
  });
  return {
    id: '3',
    title: 'connect storm',
    params: { ...shapeFor(ctx, n), clients: n, connections: Math.min(n, Math.max(100, Math.ceil(n / 100))) },
    metrics: metrics.list(),
    raw,
    notes: [...failed, 'Times run from the moment the driver tells the workers to open every stream.'],
  };
}
