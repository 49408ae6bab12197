/**
 * Scenario 2, unique snapshots: N nodes, one client each, each node with its own snapshot of the same shape but
 * different endpoints. Memory per node, time to set every snapshot, and convergence when every node's snapshot
 * changes (1 service's endpoints each), timed from that node's POST.
 */
import { distribution, nowMs } from '../clock.js';
import { ConfigModel, clearSharedRecords } from '../config-model.js';
import { convergence } from '../load.js';
import type { Payload } from '../payloads.js';
import { MetricSet, type ScenarioResult } from '../report.js';
import {
  ALL_TYPES,
  type BenchContext,
  cpuBetween,
  EDS,
  eachPeer,
  expectAcks,
  heldBytes,
  mb,
  nodeIds,
  post,
  settledStats,
  withPeer,
} from './context.js';

export async function uniqueSnapshots(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 50 : 1000;
  const shape = { services: ctx.quick ? 20 : 100, endpoints: 10 };
  const nodes = nodeIds(n);
  clearSharedRecords();
  const first: Payload[] = [];
  const second: Payload[] = [];
  for (let i = 0; i < n; i++) {
    const model = new ConfigModel(shape, i);
    first.push(ctx.store.put(model.records()));
    model.changeEndpoints([i % shape.services]);
    second.push(ctx.store.put(model.records()));
  }
  const metrics = new MetricSet();
  const raw: Record<string, unknown> = {};
  const failed: string[] = [];
  await eachPeer(ctx, failed, async (kind) => {
    ctx.progress(`2 unique snapshots: ${kind}, ${n} nodes`);
    raw[kind] = await withPeer(ctx, kind, async (peer) => {
      const empty = await settledStats(peer);
      let start = nowMs();
      for (const [i, node] of nodes.entries()) await post(ctx, peer, node, 1, first[i]!);
      const setAllMs = nowMs() - start;
      const setAllCpuMs = cpuBetween(empty, await peer.stats());
      const snapshots = await settledStats(peer);
      start = await ctx.load.connect({ target: peer.xds, mode: 'sotw', nodes });
      await expectAcks(ctx, ALL_TYPES, 1, `${kind}: ${n} nodes sync v1`);
      const syncMs = nowMs() - start;
      const loaded = await settledStats(peer);
      await ctx.load.log(true);
      const before = await peer.stats();
      const t0 = new Float64Array(n);
      for (const [i, node] of nodes.entries()) t0[i] = (await post(ctx, peer, node, 2, second[i]!)).t0;
      await expectAcks(ctx, EDS, 2, `${kind}: ${n} nodes push v2`);
      const after = await peer.stats();
      const log = await ctx.load.log(true);
      const own = distribution(convergence(log, n, EDS, 2, (c) => t0[c]!));
      const all = distribution(convergence(log, n, EDS, 2, () => t0[0]!));
      const figures = {
        setAllMs,
        setAllCpuMs,
        syncMs,
        heapPerNodeKiB: (heldBytes(snapshots) - heldBytes(empty)) / n / 1024,
        rssPerNodeKiB: (snapshots.rssBytes - empty.rssBytes) / n / 1024,
        heapPerClientKiB: (loaded.heapAlloc - snapshots.heapAlloc) / n / 1024,
        heapTotalMB: mb(loaded.heapAlloc),
        rssTotalMB: mb(loaded.rssBytes),
        push: {
          own,
          allMs: all.max,
          serverCpuMs: cpuBetween(before, after),
          bytes: after.bytesSent - before.bytesSent,
        },
      };
      metrics.set(
        kind,
        `N=${n} heap per node snapshot (ours: + array buffers)`,
        'KiB',
        figures.heapPerNodeKiB,
        true,
      );
      metrics.set(kind, `N=${n} RSS per node snapshot`, 'KiB', figures.rssPerNodeKiB);
      metrics.set(kind, `N=${n} heap per connected client`, 'KiB', figures.heapPerClientKiB);
      metrics.set(kind, `N=${n} RSS total, clients connected`, 'MB', figures.rssTotalMB);
      metrics.set(kind, `N=${n} set ${n} snapshots (sequential POSTs)`, 'ms', setAllMs);
      metrics.set(kind, `N=${n} set ${n} snapshots: server CPU`, 'ms', setAllCpuMs);
      metrics.set(kind, `N=${n} clients connect and sync`, 'ms', syncMs);
      metrics.set(kind, `N=${n} push to every node: p50 from own POST`, 'ms', own.p50);
      metrics.set(kind, `N=${n} push to every node: p99 from own POST`, 'ms', own.p99, true);
      metrics.set(kind, `N=${n} push to every node: all ACKed from first POST`, 'ms', all.max);
      metrics.set(kind, `N=${n} push to every node: server CPU`, 'ms', figures.push.serverCpuMs);
      return figures;
    });
  });
  return {
    id: '2',
    title: 'unique snapshots',
    params: { nodes: n, ...shape, clientsPerNode: 1 },
    metrics: metrics.list(),
    raw,
    notes: [
      ...failed,
      'Each node: its own snapshot (clusters, listeners and routes equal across nodes, endpoints different).',
      "The push POSTs every node one after the other; each client is timed from its own node's POST.",
    ],
  };
}
