/**
 * The run that scenarios 1, 3 and 4 share for one peer and one client count: set the snapshot, measure the
 * server with no client (4), connect every client at once and wait for the full configuration (3), measure the
 * server again (4), then push small and full changes (1). Each part runs only when a selected scenario needs it.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distribution, sleep } from '../clock.js';
import { ConfigModel, clearSharedRecords } from '../config-model.js';
import { convergence } from '../load.js';
import type { Payload } from '../payloads.js';
import type { Peer, PeerKind, PeerStats } from '../peer.js';
import {
  ALL_TYPES,
  type BenchContext,
  cpuBetween,
  EDS,
  expectAcks,
  post,
  settledStats,
  shapeFor,
  sharedNode,
  sharedNodes,
  withPeer,
  workerCpuMs,
} from './context.js';

/** Which parts to run. */
export interface SessionParts {
  readonly storm: boolean;
  readonly idle: boolean;
  readonly pushes: boolean;
  /** With `pushes`: also the change of every resource (v5) after the small pushes. */
  readonly full: boolean;
}

/** Figures of one push or of the connect storm. */
export interface PushFigures {
  readonly allMs: number;
  readonly p50: number;
  readonly p99: number;
  readonly postMs: number;
  readonly bytes: number;
  readonly responses: number;
  readonly serverCpuMs: number;
  readonly workerCpuMs: number;
  readonly encodes: number | undefined;
}

/** What a session measured. */
export interface SessionFigures {
  readonly clients: number;
  readonly storm?: PushFigures;
  readonly idle?: { readonly empty: PeerStats; readonly loaded: PeerStats };
  readonly pushes?: readonly PushFigures[];
  readonly full?: PushFigures;
  /** Why the pushes did not complete, when they did not. */
  readonly pushError?: string;
}

/** The stored snapshot bodies of the shared-snapshot scenarios. */
export interface Payloads {
  readonly initial: Payload;
  readonly small: readonly Payload[];
  readonly full: Payload;
}

/** Small pushes per session: 3 (1 with --quick or at 10,000 clients, where go resends everything each time). */
export function repetitions(ctx: BenchContext, clients: number): number {
  return ctx.quick || clients >= 10_000 ? 1 : 3;
}

/** v1, then 1% of the endpoints changed (v2, v3, v4), then everything changed (v5). Built once per run. */
export function payloads(ctx: BenchContext, clients: number): Payloads {
  const shape = shapeFor(ctx, clients);
  const key = `payloads:${shape.services}`;
  const known = ctx.shared.get(key) as Payloads | undefined;
  if (known !== undefined) return known;
  clearSharedRecords();
  const model = new ConfigModel(shape);
  const initial = ctx.store.put(model.records());
  const small = [];
  for (let r = 0; r < 3; r++) {
    const changed = [];
    for (let i = r; i < shape.services; i += 100) changed.push(i);
    model.changeEndpoints(changed);
    small.push(ctx.store.put(model.records()));
  }
  model.changeAll();
  const made = { initial, small, full: ctx.store.put(model.records()) };
  ctx.shared.set(key, made);
  return made;
}

/** Runs (or returns the figures of an earlier run of) a session; parts already measured are not run again. */
export async function session(
  ctx: BenchContext,
  kind: PeerKind,
  clients: number,
  parts: SessionParts,
): Promise<SessionFigures> {
  const key = `session:${kind}:${clients}`;
  const known = ctx.shared.get(key) as SessionFigures | undefined;
  if (
    known !== undefined &&
    (!parts.storm || known.storm) &&
    (!parts.idle || known.idle) &&
    (!parts.pushes || known.pushes) &&
    (!parts.full || known.full)
  )
    return known;
  const data = payloads(ctx, clients);
  const figures = await withPeer(ctx, kind, async (peer) => {
    await post(ctx, peer, sharedNode, 1, data.initial);
    const empty = parts.idle ? await settledStats(peer) : undefined;
    if (empty !== undefined && process.env['BENCH_HEAP'] === 'idle' && peer.kind === 'ours')
      await peer.heapSnapshot(join(tmpdir(), `xds-bench-idle-0.heapsnapshot`), false);
    const storm = await measure(ctx, peer, ALL_TYPES, 1, async () => {
      const t0 = await ctx.load.connect({ target: peer.xds, mode: 'sotw', nodes: sharedNodes(clients) });
      return { t0, ms: 0 };
    });
    let idle: SessionFigures['idle'];
    if (empty !== undefined) {
      await sleep(1000);
      idle = { empty, loaded: await settledStats(peer) };
      // BENCH_HEAP=idle: a heap snapshot of our peer with the idle clients connected, in the system's temp folder.
      if (process.env['BENCH_HEAP'] === 'idle' && peer.kind === 'ours')
        await peer.heapSnapshot(join(tmpdir(), `xds-bench-idle-${clients}.heapsnapshot`));
    }
    if (!parts.pushes) return { clients, storm, ...(idle ? { idle } : {}) };
    const pushes: PushFigures[] = [];
    try {
      const reps = repetitions(ctx, clients);
      for (let r = 0; r < reps; r++) {
        const version = 2 + r;
        pushes.push(
          await measure(ctx, peer, EDS, version, () => post(ctx, peer, sharedNode, version, data.small[r]!)),
        );
      }
      if (!parts.full) return { clients, storm, ...(idle ? { idle } : {}), pushes };
      const full = await measure(ctx, peer, ALL_TYPES, 5, () => post(ctx, peer, sharedNode, 5, data.full));
      return { clients, storm, ...(idle ? { idle } : {}), pushes, full };
    } catch (error) {
      // Keep what the storm and idle parts measured for scenarios 3 and 4.
      const pushError = error instanceof Error ? error.message : String(error);
      return { clients, storm, ...(idle ? { idle } : {}), pushes, pushError };
    }
  });
  const merged = { ...known, ...figures };
  ctx.shared.set(key, merged);
  return merged;
}

/** Runs `act` (a POST or a connect) and measures until every client ACKed `types` at `version`. */
async function measure(
  ctx: BenchContext,
  peer: Peer,
  types: readonly number[],
  version: number,
  act: () => Promise<{ t0: number; ms: number }>,
): Promise<PushFigures> {
  await ctx.load.log(true);
  // BENCH_PROF=pushes: a CPU profile of each measured push or storm of our peer, in the system's temp folder.
  const profiling = process.env['BENCH_PROF'] === 'pushes' && peer.kind === 'ours';
  if (profiling) await peer.profile('start');
  const before = await peer.stats();
  const workerBefore = await workerCpuMs(ctx);
  const { t0, ms } = await act();
  await expectAcks(ctx, types, version, `${peer.kind}: v${version} to ${ctx.load.clients} clients`);
  const after = await peer.stats();
  if (profiling) {
    const file = join(tmpdir(), `xds-bench-push-${ctx.load.clients}-v${version}.cpuprofile`);
    await peer.profile('stop', file);
    ctx.progress(`profile: ${file}`);
  }
  const latencies = convergence(await ctx.load.log(true), ctx.load.clients, types, version, () => t0);
  const d = distribution(latencies);
  return {
    allMs: d.max,
    p50: d.p50,
    p99: d.p99,
    postMs: ms,
    bytes: after.bytesSent - before.bytesSent,
    responses: after.responsesSent - before.responsesSent,
    serverCpuMs: cpuBetween(before, after),
    workerCpuMs: (await workerCpuMs(ctx)) - workerBefore,
    encodes:
      after.encodes === undefined || before.encodes === undefined
        ? undefined
        : after.encodes - before.encodes,
  };
}
