/**
 * Scenario "tier": the same 1% EDS change (scenario 1's) to N clients of one shared snapshot, first straight from
 * the origin (our peer), then through two `@xds/relay` processes (relay-peer.ts) with half the clients each, so that
 * the origin holds 2 streams instead of N (rule X4). Both sides run in one bench run on fresh origins, so the ratios
 * (relayed / direct) compare like with like. Our peer only: go-control-plane has no relay.
 */
import { distribution, median, nowMs } from '../clock.js';
import { convergence } from '../load.js';
import { Peer, type PeerStats } from '../peer.js';
import { relayOriginNode } from '../relay-origin-node.js';
import { MetricSet, type ScenarioResult } from '../report.js';
import {
  ALL_TYPES,
  type BenchContext,
  bigN,
  cpuBetween,
  EDS,
  expectAcks,
  mb,
  post,
  shapeFor,
  sharedLabel,
  sharedNode,
  sharedNodes,
  withPeer,
  workerCpuMs,
} from './context.js';
import { payloads, repetitions } from './session.js';

/**
 * The origin's snapshot key of the relays' upstream node: `relay~KEY`, the key being the node id and the clients'
 * flavour (`relay~bench|ua=envoy`), as the relay computes it (relay-origin-node.ts).
 */
export const relayNode = relayOriginNode(sharedNode);

/** What one push cost, at the origin and (relayed) summed over the relays. */
interface TierPush {
  readonly allMs: number;
  readonly p50: number;
  readonly p99: number;
  readonly originBytes: number;
  readonly originResponses: number;
  readonly originCpuMs: number;
  readonly relayBytes: number;
  readonly relayCpuMs: number;
  readonly relayEncodes: number;
  readonly workerCpuMs: number;
}

/** One side of the comparison. */
interface TierSide {
  /** Connect every client and wait until each ACKed the full configuration. */
  readonly syncMs: number;
  /** Streams the origin holds with every client connected. */
  readonly originStreams: number;
  /** Peak resident memory of the origin and of each relay. */
  readonly originRssBytes: number;
  readonly relayRssBytes: readonly number[];
  readonly pushes: readonly TierPush[];
}

const sum = (stats: readonly PeerStats[], pick: (s: PeerStats) => number) =>
  stats.reduce((total, s) => total + pick(s), 0);

/** Runs a push (a POST at the origin) and measures until every client ACKed its EDS version. */
async function measure(
  ctx: BenchContext,
  origin: Peer,
  relays: readonly Peer[],
  version: number,
  act: () => Promise<{ t0: number }>,
): Promise<TierPush> {
  await ctx.load.log(true);
  const before = await origin.stats();
  const relaysBefore = await Promise.all(relays.map((r) => r.stats()));
  const workerBefore = await workerCpuMs(ctx);
  const { t0 } = await act();
  await expectAcks(ctx, EDS, version, `tier: v${version} to ${ctx.load.clients} clients`);
  const after = await origin.stats();
  const relaysAfter = await Promise.all(relays.map((r) => r.stats()));
  const d = distribution(convergence(await ctx.load.log(true), ctx.load.clients, EDS, version, () => t0));
  return {
    allMs: d.max,
    p50: d.p50,
    p99: d.p99,
    originBytes: after.bytesSent - before.bytesSent,
    originResponses: after.responsesSent - before.responsesSent,
    originCpuMs: cpuBetween(before, after),
    relayBytes: sum(relaysAfter, (s) => s.bytesSent) - sum(relaysBefore, (s) => s.bytesSent),
    relayCpuMs: relaysAfter.reduce((total, s, i) => total + cpuBetween(relaysBefore[i]!, s), 0),
    relayEncodes: sum(relaysAfter, (s) => s.encodes ?? 0) - sum(relaysBefore, (s) => s.encodes ?? 0),
    workerCpuMs: (await workerCpuMs(ctx)) - workerBefore,
  };
}

/** One side: an origin, 0 or 2 relays, N clients synced, then the small pushes. */
async function side(ctx: BenchContext, n: number, relayCount: 0 | 2): Promise<TierSide> {
  const data = payloads(ctx, n);
  const node = relayCount === 0 ? sharedNode : relayNode;
  return withPeer(ctx, 'ours', async (origin) => {
    await post(ctx, origin, node, 1, data.initial);
    const relays: Peer[] = [];
    try {
      for (let i = 0; i < relayCount; i++)
        relays.push(
          await Peer.start('ours', ctx.paths, ['--upstream', origin.xds], {
            script: 'relay-peer.ts',
            label: `relay ${i + 1}`,
          }),
        );
      const t0 = await ctx.load.connect({
        target: origin.xds,
        ...(relays.length === 0 ? {} : { targets: relays.map((r) => r.xds) }),
        mode: 'sotw',
        nodes: sharedNodes(n),
      });
      await expectAcks(ctx, ALL_TYPES, 1, `tier: ${n} clients sync v1 (${relayCount} relays)`);
      const syncMs = nowMs() - t0;
      const originStreams = (await origin.stats()).streams ?? Number.NaN;
      const expected = relayCount === 0 ? n : relayCount;
      if (originStreams !== expected)
        throw new Error(`tier: the origin holds ${originStreams} streams, not ${expected}`);
      const pushes: TierPush[] = [];
      for (let r = 0; r < repetitions(ctx, n); r++) {
        const version = 2 + r;
        pushes.push(
          await measure(ctx, origin, relays, version, () => post(ctx, origin, node, version, data.small[r]!)),
        );
      }
      return {
        syncMs,
        originStreams,
        originRssBytes: origin.peakRssBytes,
        relayRssBytes: relays.map((r) => r.peakRssBytes),
        pushes,
      };
    } finally {
      await ctx.load.disconnect().catch(() => {});
      await Promise.all(relays.map((r) => r.stop()));
    }
  });
}

export async function tier(ctx: BenchContext): Promise<ScenarioResult> {
  const n = bigN(ctx);
  const label = sharedLabel(ctx, n);
  ctx.progress(`tier: ${n} clients straight from the origin`);
  const direct = await side(ctx, n, 0);
  ctx.progress(`tier: ${n} clients through 2 relays`);
  const relayed = await side(ctx, n, 2);
  const med = (s: TierSide, pick: (p: TierPush) => number) => median(s.pushes.map(pick));
  const metrics = new MetricSet();
  const pair = (name: string, unit: string, pick: (p: TierPush) => number, headline = false) => {
    const d = med(direct, pick);
    const r = med(relayed, pick);
    metrics.set('ours', `${label} 1% EDS push direct: ${name}`, unit, d, headline);
    metrics.set('ours', `${label} 1% EDS push via 2 relays: ${name}`, unit, r, headline);
    return { d, r };
  };
  const all = pair('all ACKed', 'ms', (p) => p.allMs, true);
  pair('p50', 'ms', (p) => p.p50);
  pair('p99', 'ms', (p) => p.p99);
  const originCpu = pair('origin CPU', 'ms', (p) => p.originCpuMs);
  const originBytes = pair('origin bytes sent', 'MB', (p) => mb(p.originBytes));
  pair('origin responses', 'count', (p) => p.originResponses);
  metrics.set(
    'ours',
    `${label} 1% EDS push via 2 relays: relays' CPU (both)`,
    'ms',
    med(relayed, (p) => p.relayCpuMs),
  );
  metrics.set(
    'ours',
    `${label} 1% EDS push via 2 relays: relays' bytes sent (both)`,
    'MB',
    med(relayed, (p) => mb(p.relayBytes)),
  );
  metrics.set(
    'ours',
    `${label} 1% EDS push via 2 relays: relay encodes`,
    'count',
    med(relayed, (p) => p.relayEncodes),
  );
  metrics.set('ours', `${label} relayed / direct: all ACKed`, '×', all.r / all.d, true);
  metrics.set('ours', `${label} relayed / direct: origin CPU per push`, '×', originCpu.r / originCpu.d, true);
  metrics.set('ours', `${label} relayed / direct: origin bytes per push`, '×', originBytes.r / originBytes.d);
  metrics.set('ours', `${label} origin streams, direct`, 'count', direct.originStreams);
  metrics.set('ours', `${label} origin streams, via 2 relays`, 'count', relayed.originStreams);
  metrics.set('ours', `${label} connect + full config: all ACKed, direct`, 'ms', direct.syncMs);
  metrics.set('ours', `${label} connect + full config: all ACKed, via 2 relays`, 'ms', relayed.syncMs);
  return {
    id: 'tier',
    title: 'fan-in tier: direct vs through 2 relays',
    params: {
      clients: n,
      services: shapeFor(ctx, n).services,
      endpoints: shapeFor(ctx, n).endpoints,
      relays: 2,
      repetitions: repetitions(ctx, n),
      change: '1% of the ClusterLoadAssignments, as scenario 1',
    },
    metrics: metrics.list(),
    raw: { ours: { direct, relayed } },
    notes: [
      'Figures are ours only (go-control-plane has no relay); each side runs on a fresh origin in the same run.',
      'Times run from the start of the origin POST to each client ACK; medians over the pushes.',
      'Every process (origin, both relays, the load workers) shares this machine: see bench/README "Tier".',
    ],
  };
}
