/**
 * Scenario 8, stalled clients (rule S12): do clients that stop reading delay the others? N reading clients of the
 * shared snapshot converge; then three rounds (one with --quick) of two pushes that change every resource: one
 * timed alone, one timed while 50 raw HTTP/2 clients hold an ADS stream each (own connection, no flow-control
 * window: nothing written to them is ever flushed) subscribing to every type, closed after the push. Figures: the
 * readers' median convergence with and without, their ratio (the target is under 2), and what the server holds
 * for the stalled clients.
 */
import { connect } from 'node:http2';
import { distribution, sleep } from '../clock.js';
import { ConfigModel, clearSharedRecords } from '../config-model.js';
import { convergence } from '../load.js';
import type { Payload } from '../payloads.js';
import type { Peer, PeerStats } from '../peer.js';
import { MetricSet, type ScenarioResult } from '../report.js';
import { encodeNode } from '../wire.js';
import {
  ALL_TYPES,
  type BenchContext,
  connectAndSync,
  eachPeer,
  expectAcks,
  mb,
  post,
  settledStats,
  shapeFor,
  sharedNode,
  sharedNodes,
  withPeer,
} from './context.js';

const stalledClients = 50;
/**
 * Our peer's `limits.drainTimeoutMs` here: an hour, so that the stalled streams stay for every timed push (with
 * the default 30 s, a loaded machine's 60-second pushes would measure them gone).
 */
const drainTimeoutMs = 3_600_000;
/** Pushes timed with and without the stalled clients (3; 1 with --quick); the figures are medians. */
const fullRepetitions = 3;
const adsPath = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const typePrefix = 'type.googleapis.com/envoy.';
const types = {
  cds: `${typePrefix}config.cluster.v3.Cluster`,
  eds: `${typePrefix}config.endpoint.v3.ClusterLoadAssignment`,
  lds: `${typePrefix}config.listener.v3.Listener`,
  rds: `${typePrefix}config.route.v3.RouteConfiguration`,
};

/** A length-delimited protobuf field (field number < 16). */
function field(number: number, bytes: Uint8Array): Buffer {
  const length: number[] = [];
  let rest = bytes.length;
  while (rest > 0x7f) {
    length.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  length.push(rest);
  return Buffer.concat([Buffer.from([(number << 3) | 2, ...length]), bytes]);
}

/** A framed `DiscoveryRequest { node = 2, resource_names = 3, type_url = 4 }`. */
function request(typeUrl: string, names: readonly string[], node?: Uint8Array): Buffer {
  const parts = [
    ...(node === undefined ? [] : [field(2, node)]),
    ...names.map((name) => field(3, Buffer.from(name))),
    field(4, Buffer.from(typeUrl)),
  ];
  const body = Buffer.concat(parts);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(body.length, 1);
  return Buffer.concat([frame, body]);
}

/** Opens `n` ADS streams that never read, each on its own connection; returns a function that closes them. */
function openStalled(address: string, n: number, services: number): () => void {
  const sessions = Array.from({ length: n }, () => {
    const session = connect(`http://${address}`, { settings: { initialWindowSize: 0 } });
    session.on('error', () => {});
    const stream = session.request({
      ':method': 'POST',
      ':path': adsPath,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('error', () => {});
    const serviceNames = Array.from({ length: services }, (_, i) => `svc-${i}`);
    const routeNames = Array.from({ length: services }, (_, i) => `route-${i}`);
    stream.write(request(types.cds, [], encodeNode(sharedNode)));
    stream.write(request(types.eds, serviceNames));
    stream.write(request(types.lds, []));
    stream.write(request(types.rds, routeNames));
    return session;
  });
  return () => {
    for (const session of sessions) session.destroy();
  };
}

/** Posts a payload and returns the readers' convergence (ms from the POST to the last and p99 ACK of every type). */
async function timedPush(ctx: BenchContext, peer: Peer, version: number, payload: Payload, what: string) {
  await ctx.load.log(true);
  const { t0 } = await post(ctx, peer, sharedNode, version, payload);
  await expectAcks(ctx, ALL_TYPES, version, `${peer.kind}: v${version} to ${ctx.load.clients} readers`);
  const d = distribution(
    convergence(await ctx.load.log(true), ctx.load.clients, ALL_TYPES, version, () => t0),
  );
  ctx.progress(`8 stalled clients: ${peer.kind}, push v${version} (${what}): all ACKed in ${d.max} ms`);
  return { allMs: d.max, p99: d.p99 };
}

/** The median, worst and p99 median of some timed pushes. */
function summary(figures: readonly { allMs: number; p99: number }[]) {
  const all = figures.map((f) => f.allMs);
  return {
    allMs: distribution([...all]).p50,
    worstMs: Math.max(...all),
    p99: distribution(figures.map((f) => f.p99)).p50,
    each: all,
  };
}

/** Polls until `done` or `timeoutMs` passed. */
async function until(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done()) && Date.now() < deadline) await sleep(50);
}

export async function stalledClientsScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 100 : 1000;
  const repetitions = ctx.quick ? 1 : fullRepetitions;
  const shape = shapeFor(ctx);
  clearSharedRecords();
  const model = new ConfigModel(shape);
  const initial = ctx.store.put(model.records());
  const pushes: Payload[] = [];
  for (let r = 0; r < 2 * repetitions; r++) {
    model.changeAll();
    pushes.push(ctx.store.put(model.records()));
  }
  const metrics = new MetricSet();
  const raw: Record<string, unknown> = {};
  const failed: string[] = [];
  await eachPeer(ctx, failed, async (kind) => {
    ctx.progress(`8 stalled clients: ${kind}, ${n} readers, ${stalledClients} stalled`);
    await withPeer(
      ctx,
      kind,
      async (peer) => {
        let closeStalled = () => {};
        try {
          await post(ctx, peer, sharedNode, 1, initial);
          const synced = await connectAndSync(ctx, peer, sharedNodes(n), 1);
          ctx.progress(
            `8 stalled clients: ${kind}, ${n} readers synced in ${(synced.ms / 1000).toFixed(1)} s`,
          );
          // Pushes without and with the stalled clients alternate, so that a machine whose load changes during
          // the run (it is shared) weighs on both alike.
          const aloneEach: { allMs: number; p99: number }[] = [];
          const withEach: { allMs: number; p99: number }[] = [];
          let version = 2;
          let held: number | undefined;
          let stalledOpen: number | undefined;
          // Memory is compared in the last round, the server warmed up by the others: before the stalled clients
          // come, and after the push with them.
          let before: PeerStats | undefined;
          let after: PeerStats | undefined;
          for (let r = 0; r < repetitions; r++) {
            aloneEach.push(await timedPush(ctx, peer, version++, pushes[2 * r]!, 'no stalled clients'));
            if (r === repetitions - 1) before = await settledStats(peer);
            const opened = await peer.stats();
            closeStalled = openStalled(peer.xds, stalledClients, shape.services);
            // Each stalled stream gets its first response written (and never flushed).
            await until(
              async () => (await peer.stats()).responsesSent - opened.responsesSent >= stalledClients,
              60_000,
            );
            withEach.push(
              await timedPush(ctx, peer, version++, pushes[2 * r + 1]!, `${stalledClients} stalled clients`),
            );
            const stats = await peer.stats();
            held = stats.unflushedBytes;
            stalledOpen = stats.streams === undefined ? undefined : stats.streams - n;
            if (r === repetitions - 1) after = await settledStats(peer);
            closeStalled();
            closeStalled = () => {};
          }
          const alone = summary(aloneEach);
          const withStalled = summary(withEach);
          const figures = {
            alone,
            withStalled,
            ratio: withStalled.allMs / alone.allMs,
            rssGrowthBytes: after!.rssBytes - before!.rssBytes,
            heapGrowthBytes: after!.heapAlloc - before!.heapAlloc,
            unflushedBytes: held,
            stalledOpen,
          };
          raw[kind] = figures;
          const label = (what: string) => `N=${n} readers, ${what}`;
          metrics.set(
            kind,
            label(`full push, all ACKed: no stalled clients (median of ${repetitions})`),
            'ms',
            alone.allMs,
          );
          metrics.set(
            kind,
            label(`full push, all ACKed: ${stalledClients} stalled clients (median of ${repetitions})`),
            'ms',
            withStalled.allMs,
            true,
          );
          metrics.set(
            kind,
            label(`full push, all ACKed: ${stalledClients} stalled clients (worst of ${repetitions})`),
            'ms',
            withStalled.worstMs,
          );
          metrics.set(kind, 'with stalled / without, median (target < 2)', 'ratio', figures.ratio, true);
          metrics.set(
            kind,
            `server RSS added by ${stalledClients} stalled clients`,
            'MB',
            mb(figures.rssGrowthBytes),
          );
          metrics.set(
            kind,
            `server heap added by ${stalledClients} stalled clients`,
            'MB',
            mb(figures.heapGrowthBytes),
          );
          if (stalledOpen !== undefined)
            metrics.set(kind, 'stalled streams still open after the last push', 'count', stalledOpen);
          if (held !== undefined)
            metrics.set(
              kind,
              `response bytes held unflushed for ${stalledClients} stalled clients`,
              'MB',
              mb(held),
            );
        } finally {
          closeStalled();
        }
      },
      [`--drain-timeout-ms=${drainTimeoutMs}`],
    );
  });
  return {
    id: '8',
    title: 'stalled clients',
    params: { readers: n, stalled: stalledClients, ...shape },
    metrics: metrics.list(),
    raw,
    notes: [
      ...failed,
      'Stalled clients: raw HTTP/2, one connection each, initial window 0, ADS subscribing to every type; they never read. Pushes without and with them alternate; our peer runs with limits.drainTimeoutMs = 1 h so that they stay open.',
    ],
  };
}
