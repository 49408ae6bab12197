/**
 * Scenario 4, idle cost: server RSS and heap per connected idle client after the first full push, beyond the
 * shared snapshot: (memory with N clients − memory with 0 clients) / N, each after a forced GC.
 */
import type { ScenarioResult } from '../report.js';
import { MetricSet } from '../report.js';
import { type BenchContext, bigN, eachPeer, mb, shapeFor, sharedLabel } from './context.js';
import { session } from './session.js';

export async function idleCost(ctx: BenchContext): Promise<ScenarioResult> {
  const n = bigN(ctx);
  const label = sharedLabel(ctx, n);
  const metrics = new MetricSet();
  const raw: Record<string, unknown> = {};
  const failed: string[] = [];
  await eachPeer(ctx, failed, async (kind) => {
    ctx.progress(`4 idle cost: ${kind}, ${n} clients`);
    const figures = await session(ctx, kind, n, { storm: true, idle: true, pushes: false, full: false });
    const { empty, loaded } = figures.idle!;
    raw[kind] = figures.idle;
    metrics.set(kind, `${label} RSS per client`, 'KiB', (loaded.rssBytes - empty.rssBytes) / n / 1024, true);
    metrics.set(
      kind,
      `${label} heap per client`,
      'KiB',
      (loaded.heapAlloc - empty.heapAlloc) / n / 1024,
      true,
    );
    metrics.set(kind, 'RSS with 0 clients (snapshot set)', 'MB', mb(empty.rssBytes));
    metrics.set(kind, 'heap with 0 clients (snapshot set)', 'MB', mb(empty.heapAlloc));
    metrics.set(kind, `RSS with ${label}`, 'MB', mb(loaded.rssBytes));
    metrics.set(kind, `heap with ${label}`, 'MB', mb(loaded.heapAlloc));
  });
  return {
    id: '4',
    title: 'idle cost',
    params: { ...shapeFor(ctx, n), clients: n },
    metrics: metrics.list(),
    raw,
    notes: [
      ...failed,
      'heap = V8 heapUsed (ours) / Go HeapAlloc (go); both after POST /gc. RSS after GC; Go returns freed memory ' +
        'to the OS on /gc (debug.FreeOSMemory), V8 keeps some.',
    ],
  };
}
