/**
 * Scenario 6, NACK storm: every client NACKs a snapshot (v2, a change of 1% of the endpoints). Count the
 * responses the server sends in the next 10 s (1 s with --quick) and its CPU. Rule S6: ours must send none.
 */
import { sleep } from '../clock.js';
import { ConfigModel, clearSharedRecords } from '../config-model.js';
import { MetricSet, type ScenarioResult } from '../report.js';
import {
  type BenchContext,
  connectAndSync,
  cpuBetween,
  EDS,
  eachPeer,
  mb,
  post,
  shapeFor,
  sharedNode,
  sharedNodes,
  waitLimitMs,
  withPeer,
} from './context.js';

export async function nackStorm(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 100 : 1000;
  const windowMs = ctx.quick ? 1000 : 10_000;
  const shape = shapeFor(ctx);
  clearSharedRecords();
  const model = new ConfigModel(shape);
  const initial = ctx.store.put(model.records());
  const changed = [];
  for (let i = 0; i < shape.services; i += 100) changed.push(i);
  model.changeEndpoints(changed);
  const rejected = ctx.store.put(model.records());
  const metrics = new MetricSet();
  const raw: Record<string, unknown> = {};
  const failed: string[] = [];
  await eachPeer(ctx, failed, async (kind) => {
    ctx.progress(`6 NACK storm: ${kind}, ${n} clients`);
    const figures = await withPeer(ctx, kind, async (peer) => {
      await post(ctx, peer, sharedNode, 1, initial);
      await connectAndSync(ctx, peer, sharedNodes(n), 1, 'sotw', [2]);
      await post(ctx, peer, sharedNode, 2, rejected);
      const nacked = await ctx.load.wait('nack', EDS, 2, waitLimitMs(ctx));
      if (!nacked.ok) throw new Error(`${kind}: ${nacked.missing} clients never NACKed v2`);
      const before = await peer.stats();
      await sleep(windowMs);
      const after = await peer.stats();
      return {
        responses: after.responsesSent - before.responsesSent,
        nacks: after.nacks - before.nacks,
        bytes: after.bytesSent - before.bytesSent,
        serverCpuMs: cpuBetween(before, after),
      };
    });
    raw[kind] = figures;
    metrics.set(
      kind,
      `N=${n} responses in ${windowMs / 1000} s after the NACKs`,
      'count',
      figures.responses,
      true,
    );
    metrics.set(kind, `N=${n} NACKs received in the window`, 'count', figures.nacks);
    metrics.set(kind, `N=${n} bytes sent in the window`, 'MB', mb(figures.bytes));
    metrics.set(kind, `N=${n} server CPU in the window`, 'ms', figures.serverCpuMs, true);
  });
  return {
    id: '6',
    title: 'NACK storm',
    params: { clients: n, windowMs, ...shape, nacked: 'every response at v2, of every type' },
    metrics: metrics.list(),
    raw,
    notes: [...failed, 'The window starts once every client has NACKed the EDS response of v2.'],
  };
}
