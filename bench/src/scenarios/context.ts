/** What every scenario gets, and the steps they share. */
import { nowMs, sleep } from '../clock.js';
import type { ModelShape } from '../config-model.js';
import type { Load } from '../load.js';
import type { ClientMode } from '../load-protocol.js';
import type { Payload, PayloadStore } from '../payloads.js';
import { Peer, type PeerKind, type PeerPaths, type PeerStats } from '../peer.js';

/** CDS, EDS, LDS, RDS type indexes (see load-client.ts). */
export const ALL_TYPES = [0, 1, 2, 3] as const;
/** The EDS type index. */
export const EDS = [1] as const;

/** The bench run: options, peers to compare, the load workers and the payload store. */
export interface BenchContext {
  readonly quick: boolean;
  readonly paths: PeerPaths;
  readonly peers: readonly PeerKind[];
  readonly load: Load;
  readonly store: PayloadStore;
  /** Progress lines (stderr). */
  readonly progress: (line: string) => void;
  /** The scenario ids of this run (scenarios 1, 3 and 4 share their big run when all are selected). */
  readonly selected: ReadonlySet<string>;
  /** Figures and payloads that scenarios share within a run. */
  readonly shared: Map<string, unknown>;
  /** --clients: overrides {@link bigN}. */
  readonly clients: number | undefined;
  /** `--services`: the services of the shared snapshot at the large client count. */
  readonly services: number | undefined;
  /** `--soak-minutes`: how long the soak scenario runs. */
  readonly soakMinutes: number | undefined;
}

/**
 * The configuration of the shared-snapshot scenarios: 1,000 services (100 with --quick), 10 endpoints each.
 * `--services N` sets it for the large client count of scenarios 1, 3, 4 and tier (a full configuration of 1,000
 * services is 940 KB per client: 9.4 GB per full push to 10,000 clients).
 */
export function shapeFor(ctx: BenchContext, clients = 0): ModelShape {
  const large = clients >= bigN(ctx) && ctx.services !== undefined;
  return { services: large ? ctx.services! : ctx.quick ? 100 : 1000, endpoints: 10 };
}

/** How figures of a shared-snapshot run are labelled: `N=10000 × 1000 svc`. */
export function sharedLabel(ctx: BenchContext, clients: number): string {
  return `N=${clients} × ${shapeFor(ctx, clients).services} svc`;
}

/** The large client count of scenarios 1, 3, 4 and tier (10,000; 500 with --quick). */
export function bigN(ctx: BenchContext): number {
  return ctx.clients ?? (ctx.quick ? 500 : 10_000);
}

/** The smaller client count of scenario 1 and the ceiling (1,000; 100 with --quick). */
export function smallN(ctx: BenchContext): number {
  return ctx.quick ? 100 : 1000;
}

/** The node id of the shared-snapshot scenarios. */
export const sharedNode = 'bench';

/** The longest any wait for convergence may take. */
export function waitLimitMs(ctx: BenchContext): number {
  return ctx.quick ? 60_000 : 600_000;
}

/**
 * Starts a peer (`oursArgs`: extra flags for our peer only), runs `body`, and always disconnects the clients and
 * stops the peer.
 */
export async function withPeer<T>(
  ctx: BenchContext,
  kind: PeerKind,
  body: (peer: Peer) => Promise<T>,
  oursArgs: readonly string[] = [],
): Promise<T> {
  const peer = await Peer.start(kind, ctx.paths, oursArgs);
  try {
    return await body(peer);
  } finally {
    await ctx.load.disconnect().catch(() => {});
    await peer.stop();
  }
}

/** POSTs a stored payload; returns when the POST started and how long it took (driver-side and peer-side). */
export async function post(
  ctx: BenchContext,
  peer: Peer,
  node: string,
  version: number,
  payload: Payload,
): Promise<{ t0: number; ms: number; peerMs: number }> {
  const body = ctx.store.read(payload);
  const t0 = nowMs();
  const reply = await peer.setSnapshot(node, `v${version}`, body);
  return { t0, ms: nowMs() - t0, peerMs: reply.ms ?? Number.NaN };
}

/** Connects clients and waits until all have ACKed every type at `version`; throws when they do not in time. */
export async function connectAndSync(
  ctx: BenchContext,
  peer: Peer,
  nodes: readonly string[],
  version: number,
  mode: ClientMode = 'sotw',
  nack: readonly number[] = [],
): Promise<{ t0: number; ms: number }> {
  const t0 = await ctx.load.connect({ target: peer.xds, mode, nodes, nack });
  await expectAcks(ctx, ALL_TYPES, version, `${peer.kind}: ${nodes.length} clients sync v${version}`);
  return { t0, ms: nowMs() - t0 };
}

/** Waits for every client to ACK `types` at `version`; throws with the number missing on timeout. */
export async function expectAcks(
  ctx: BenchContext,
  types: readonly number[],
  version: number,
  what: string,
): Promise<void> {
  const result = await ctx.load.wait('ack', types, version, waitLimitMs(ctx));
  if (!result.ok) {
    const counters = await ctx.load.counters();
    const errors = counters.map((c) => `${c.errors} errors${c.lastError ? ` (${c.lastError})` : ''}`);
    throw new Error(
      `${what}: ${result.missing} clients did not converge (limit ${waitLimitMs(ctx)} ms); ${errors}`,
    );
  }
}

/** Server CPU (user + system) between two stats, in ms. */
export function cpuBetween(before: PeerStats, after: PeerStats): number {
  return after.cpuUserMs + after.cpuSysMs - (before.cpuUserMs + before.cpuSysMs);
}

/** Load-worker CPU (user + system, all workers) now, in ms. */
export async function workerCpuMs(ctx: BenchContext): Promise<number> {
  const counters = await ctx.load.counters();
  return counters.reduce((sum, c) => sum + c.cpuUserMs + c.cpuSysMs, 0);
}

/** GC, a short settle, GC again: memory as it stands without garbage. */
export async function settledStats(peer: Peer): Promise<PeerStats> {
  await peer.gc();
  await sleep(300);
  return peer.gc();
}

/**
 * The memory a peer's heap holds, for comparing snapshots: Go's HeapAlloc; ours, V8's heapUsed plus the array
 * buffers (resource bytes live there, outside the V8 heap, as they live in Go's heap).
 */
export function heldBytes(stats: PeerStats): number {
  return stats.heapAlloc + (stats.arrayBuffers ?? 0);
}

/** Node ids node-0 … node-(n-1). */
export function nodeIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `node-${i}`);
}

/** n clients of the shared snapshot. */
export function sharedNodes(n: number): string[] {
  return new Array<string>(n).fill(sharedNode);
}

/** Megabytes. */
export function mb(bytes: number): number {
  return bytes / (1024 * 1024);
}

/**
 * Runs `body` for each peer of the run. A peer that fails (say, clients never converge) gets a line in
 * `failures` instead of failing the whole scenario, so that the other peer is still measured.
 */
export async function eachPeer(
  ctx: BenchContext,
  failures: string[],
  body: (kind: PeerKind) => Promise<void>,
): Promise<void> {
  for (const kind of ctx.peers) {
    try {
      await body(kind);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push(`${kind} failed: ${message}`);
      ctx.progress(`${kind} failed: ${message}`);
    }
  }
}
