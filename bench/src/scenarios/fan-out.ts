/**
 * Scenario 1, fan-out convergence: N clients share one snapshot. Change the endpoints of 1% of the services and
 * time until every client has ACKed the new EDS version; then change every resource of every type and time until
 * every client has ACKed all four types. Also bytes, server CPU and encodes per push.
 */
import { median } from '../clock.js';
import type { PeerKind } from '../peer.js';
import { MetricSet, type ScenarioResult } from '../report.js';
import { type BenchContext, bigN, eachPeer, mb, shapeFor, sharedLabel, smallN } from './context.js';
import { type PushFigures, repetitions, type SessionFigures, session } from './session.js';

export async function fanOut(ctx: BenchContext): Promise<ScenarioResult> {
  const sizes = [smallN(ctx), bigN(ctx)];
  const metrics = new MetricSet();
  const raw: Record<string, SessionFigures> = {};
  const failed: string[] = [];
  for (const n of sizes) {
    await eachPeer(ctx, failed, async (kind) => {
      ctx.progress(`1 fan-out: ${kind}, ${n} clients`);
      const big = n === bigN(ctx);
      // The change of everything goes to the smaller N only: at 10,000 clients it is 9.4 GB, which the
      // connect storm (scenario 3) already sends.
      const parts = { storm: true, idle: big && ctx.selected.has('4'), pushes: true, full: n === sizes[0] };
      const figures = await session(ctx, kind, n, parts);
      raw[`${kind}-${n}`] = figures;
      if (figures.pushError !== undefined) throw new Error(`N=${n}: ${figures.pushError}`);
      record(metrics, kind, sharedLabel(ctx, n), figures.pushes ?? [], figures.full);
    });
  }
  return {
    id: '1',
    title: 'fan-out convergence',
    params: {
      services: sizes.map((n) => shapeFor(ctx, n).services),
      endpoints: shapeFor(ctx).endpoints,
      clients: sizes,
      repetitions: sizes.map((n) => repetitions(ctx, n)),
      changes: '1% of the ClusterLoadAssignments (v2…), then every resource of every type',
    },
    metrics: metrics.list(),
    raw,
    notes: [
      ...failed,
      'Times run from the start of the snapshot POST to each client ACK; "all ACKed" is the last client.',
      'Small-push figures are medians over the repetitions.',
      'go-control-plane gives every type of a snapshot the same version, so it resends every type on every push.',
    ],
  };
}

function record(
  metrics: MetricSet,
  kind: PeerKind,
  label: string,
  pushes: readonly PushFigures[],
  full: PushFigures | undefined,
) {
  const med = (pick: (p: PushFigures) => number) => median(pushes.map(pick));
  metrics.set(
    kind,
    `${label} 1% EDS push: all ACKed`,
    'ms',
    med((p) => p.allMs),
    true,
  );
  metrics.set(
    kind,
    `${label} 1% EDS push: p50`,
    'ms',
    med((p) => p.p50),
  );
  metrics.set(
    kind,
    `${label} 1% EDS push: p99`,
    'ms',
    med((p) => p.p99),
  );
  metrics.set(
    kind,
    `${label} 1% EDS push: bytes sent`,
    'MB',
    med((p) => mb(p.bytes)),
  );
  metrics.set(
    kind,
    `${label} 1% EDS push: responses`,
    'count',
    med((p) => p.responses),
  );
  metrics.set(
    kind,
    `${label} 1% EDS push: server CPU`,
    'ms',
    med((p) => p.serverCpuMs),
  );
  if (pushes[0]?.encodes !== undefined)
    metrics.set(
      kind,
      `${label} 1% EDS push: encodes`,
      'count',
      med((p) => p.encodes ?? 0),
    );
  if (full === undefined) return;
  metrics.set(kind, `${label} full push: all ACKed`, 'ms', full.allMs, true);
  metrics.set(kind, `${label} full push: p50`, 'ms', full.p50);
  metrics.set(kind, `${label} full push: p99`, 'ms', full.p99);
  metrics.set(kind, `${label} full push: bytes sent`, 'MB', mb(full.bytes));
  metrics.set(kind, `${label} full push: throughput`, 'MB/s', mb(full.bytes) / (full.allMs / 1000));
  metrics.set(kind, `${label} full push: server CPU`, 'ms', full.serverCpuMs);
  metrics.set(kind, `${label} full push: load-worker CPU`, 'ms', full.workerCpuMs);
  if (full.encodes !== undefined) metrics.set(kind, `${label} full push: encodes`, 'count', full.encodes);
}
