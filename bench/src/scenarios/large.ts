/**
 * Scenario 7, large configuration: 10,000 services (10,000 clusters, 100,000 endpoints, 10,000 listeners and
 * route configurations; 1,000 services and 10 clients with --quick). Snapshot build (the POST: decode, build,
 * set), first full push to a few clients, and memory.
 */
import { ConfigModel, clearSharedRecords } from '../config-model.js';
import { MetricSet, type ScenarioResult } from '../report.js';
import {
  type BenchContext,
  connectAndSync,
  cpuBetween,
  eachPeer,
  heldBytes,
  mb,
  post,
  settledStats,
  sharedNode,
  sharedNodes,
  withPeer,
} from './context.js';

export async function largeConfig(ctx: BenchContext): Promise<ScenarioResult> {
  const shape = { services: ctx.quick ? 1000 : 10_000, endpoints: 10 };
  const clients = ctx.quick ? 10 : 100;
  clearSharedRecords();
  const body = new ConfigModel(shape).records();
  const payload = ctx.store.put(body);
  clearSharedRecords();
  const metrics = new MetricSet();
  const raw: Record<string, unknown> = {};
  const failed: string[] = [];
  await eachPeer(ctx, failed, async (kind) => {
    ctx.progress(`7 large config: ${kind}, ${shape.services} services, ${clients} clients`);
    const figures = await withPeer(ctx, kind, async (peer) => {
      const empty = await settledStats(peer);
      const set = await post(ctx, peer, sharedNode, 1, payload);
      const snapshot = await settledStats(peer);
      const before = await peer.stats();
      const sync = await connectAndSync(ctx, peer, sharedNodes(clients), 1);
      const after = await peer.stats();
      const loaded = await settledStats(peer);
      return {
        postMs: set.ms,
        peerMs: set.peerMs,
        pushMs: sync.ms,
        pushCpuMs: cpuBetween(before, after),
        bytes: after.bytesSent - before.bytesSent,
        snapshotHeapMB: mb(heldBytes(snapshot) - heldBytes(empty)),
        snapshotRssMB: mb(snapshot.rssBytes - empty.rssBytes),
        loadedHeapMB: mb(loaded.heapAlloc),
        loadedRssMB: mb(loaded.rssBytes),
      };
    });
    raw[kind] = figures;
    metrics.set(kind, 'snapshot POST (decode + build + set)', 'ms', figures.postMs, true);
    metrics.set(kind, 'snapshot decode + build + set, inside the peer', 'ms', figures.peerMs);
    metrics.set(kind, `first full push to ${clients} clients: all ACKed`, 'ms', figures.pushMs, true);
    metrics.set(kind, 'first full push: server CPU', 'ms', figures.pushCpuMs);
    metrics.set(kind, 'first full push: bytes sent', 'MB', mb(figures.bytes));
    metrics.set(
      kind,
      'heap held by the snapshot (ours: + array buffers)',
      'MB',
      figures.snapshotHeapMB,
      true,
    );
    metrics.set(kind, 'RSS growth from the snapshot', 'MB', figures.snapshotRssMB);
    metrics.set(kind, `heap with ${clients} clients`, 'MB', figures.loadedHeapMB);
    metrics.set(kind, `RSS with ${clients} clients`, 'MB', figures.loadedRssMB);
  });
  return {
    id: '7',
    title: 'large config',
    params: { ...shape, clients, bodyBytes: body.length },
    metrics: metrics.list(),
    raw,
    notes: [
      ...failed,
      'Clients connect after the POST, so the push figures are a connect plus the first full push.',
    ],
  };
}
