/**
 * Scenario 8, stalled clients (rule S12): do clients that stop reading delay the others? N reading clients of the
 * shared snapshot converge; three pushes that change every resource are timed; then 50 raw HTTP/2 clients open an
 * ADS stream each (own connection, no flow-control window: nothing written to them is ever flushed) subscribing to
 * every type, and three more such pushes are timed. Figures: the readers' median convergence, their ratio (the
 * target is under 2), and what the server holds for the stalled clients.
 */
import { connect } from 'node:http2';
import { distribution, sleep } from '../clock.js';
import { ConfigModel, clearSharedRecords } from '../config-model.js';
import { convergence } from '../load.js';
import type { Payload } from '../payloads.js';
import type { Peer } from '../peer.js';
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
/** Pushes timed with and without the stalled clients; the figures are medians. */
const repetitions = 3;
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
async function timedPush(ctx: BenchContext, peer: Peer, version: number, payload: Payload) {
  await ctx.load.log(true);
  const { t0 } = await post(ctx, peer, sharedNode, version, payload);
  await expectAcks(ctx, ALL_TYPES, version, `${peer.kind}: v${version} to ${ctx.load.clients} readers`);
  const d = distribution(
    convergence(await ctx.load.log(true), ctx.load.clients, ALL_TYPES, version, () => t0),
  );
  return { allMs: d.max, p99: d.p99 };
}

/** Times each push (versions from `first` on) and returns the medians. */
async function medianPush(ctx: BenchContext, peer: Peer, first: number, payloads: readonly Payload[]) {
  const all: number[] = [];
  const p99: number[] = [];
  for (const [i, payload] of payloads.entries()) {
    const figures = await timedPush(ctx, peer, first + i, payload);
    ctx.progress(`8 stalled clients: ${peer.kind}, push v${first + i}: all ACKed in ${figures.allMs} ms`);
    all.push(figures.allMs);
    p99.push(figures.p99);
  }
  return {
    allMs: distribution([...all]).p50,
    worstMs: Math.max(...all),
    p99: distribution(p99).p50,
    each: all,
  };
}

export async function stalledClientsScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 200 : 1000;
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
    await withPeer(ctx, kind, async (peer) => {
      let closeStalled = () => {};
      try {
        await post(ctx, peer, sharedNode, 1, initial);
        const synced = await connectAndSync(ctx, peer, sharedNodes(n), 1);
        ctx.progress(`8 stalled clients: ${kind}, ${n} readers synced in ${(synced.ms / 1000).toFixed(1)} s`);
        const alone = await medianPush(ctx, peer, 2, pushes.slice(0, repetitions));
        const before = await settledStats(peer);
        closeStalled = openStalled(peer.xds, stalledClients, shape.services);
        // Each stalled stream gets its first response written (and never flushed).
        const deadline = Date.now() + 10_000;
        while (
          (await peer.stats()).responsesSent - before.responsesSent < stalledClients &&
          Date.now() < deadline
        )
          await sleep(50);
        const withStalled = await medianPush(ctx, peer, 2 + repetitions, pushes.slice(repetitions));
        const held = (await peer.stats()).unflushedBytes;
        const after = await settledStats(peer);
        const figures = {
          alone,
          withStalled,
          ratio: withStalled.allMs / alone.allMs,
          rssGrowthBytes: after.rssBytes - before.rssBytes,
          unflushedBytes: held,
        };
        raw[kind] = figures;
        const label = (what: string) => `N=${n} readers, ${what}`;
        metrics.set(kind, label('full push, all ACKed: no stalled clients (median of 3)'), 'ms', alone.allMs);
        metrics.set(
          kind,
          label(`full push, all ACKed: ${stalledClients} stalled clients (median of 3)`),
          'ms',
          withStalled.allMs,
          true,
        );
        metrics.set(
          kind,
          label(`full push, all ACKed: ${stalledClients} stalled clients (worst of 3)`),
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
    });
  });
  return {
    id: '8',
    title: 'stalled clients',
    params: { readers: n, stalled: stalledClients, ...shape },
    metrics: metrics.list(),
    raw,
    notes: [
      ...failed,
      'Stalled clients: raw HTTP/2, one connection each, initial window 0, ADS subscribing to every type; they never read.',
    ],
  };
}
