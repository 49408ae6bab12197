// Helpers for the relay's tests: an origin (XdsServer over one SnapshotCache for every node) on 127.0.0.1, a relay in
// front of it, downstream XdsTestClients, and waiting for events with a deadline (never sleeping).
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { create, toBinary } from '@bufbuild/protobuf';
import { type ClusterLoadAssignment, ClusterSchema, TypeUrl } from '@xds/api';
import { encodeResource, persistentMapCopies, Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster, makeClusterLoadAssignment } from '@xds/generator';
import { createLogger } from '@xds/reference-server';
import { XdsServer, type XdsServerEvents, type XdsServerOptions } from '@xds/server';
import {
  type Collect,
  collectEvents,
  countWrites,
  type NextEvent,
  type StreamEnd,
  until as untilWithin,
  waitForEvent,
  XdsTestClient,
  type XdsTestClientOptions,
} from '@xds/testing';
import { Relay } from './relay.js';
import type { RelayEvents, RelayOptions } from './relay-options.js';
import { type RelayProcess, type RelayProcessOptions, startRelayProcess } from './relay-process.js';

export function assignment(name: string, port: number) {
  return makeClusterLoadAssignment(name, [
    { locality: { region: 'r1' }, weight: 1, endpoints: [{ address: '127.0.0.1', port }] },
  ]);
}

/** The port of a one-endpoint ClusterLoadAssignment. */
export function portOf(message: unknown): number | undefined {
  const cla = message as ClusterLoadAssignment | undefined;
  const port = cla?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
  if (port?.case !== 'endpoint') return undefined;
  const address = port.value.address?.address;
  return address?.case === 'socketAddress' && address.value.portSpecifier.case === 'portValue'
    ? address.value.portSpecifier.value
    : undefined;
}

/**
 * Cluster c1 encoded with its name last: protobuf-es would put it first, so bytes that arrive downstream in this
 * order were forwarded, not encoded again (rule X2).
 */
export function oddlyEncodedCluster() {
  const body = toBinary(ClusterSchema, create(ClusterSchema, { connectTimeout: { seconds: 7n } }));
  const name = toBinary(ClusterSchema, create(ClusterSchema, { name: 'c1' }));
  const bytes = new Uint8Array([...body, ...name]);
  const message = create(ClusterSchema, { name: 'c1', connectTimeout: { seconds: 7n } });
  encodeResource(message, { bytes });
  return { message, bytes };
}

/** The origin's snapshot: clusters c1 (oddly encoded) and c2, endpoints of both. */
export function originSnapshot(): Snapshot {
  return Snapshot.create([
    oddlyEncodedCluster().message,
    makeCluster({ name: 'c2' }),
    assignment('c1', 8080),
    assignment('c2', 8081),
  ]);
}

/**
 * The origin moves c1's endpoint to port 9090 (a new snapshot, originSnapshot() otherwise); resolves once `client`,
 * subscribed to c1's endpoints, holds the move.
 */
export async function moveEndpoint(origin: Origin, client: XdsTestClient): Promise<void> {
  origin.cache.setSnapshot(
    originKey,
    Snapshot.create([
      oddlyEncodedCluster().message,
      makeCluster({ name: 'c2' }),
      assignment('c1', 9090),
      assignment('c2', 8081),
    ]),
  );
  await client.waitFor(TypeUrl.Endpoint, (_r, s) => portOf(s.resources.get('c1')) === 9090);
}

/** The snapshot key every node gets at the origin. */
export const originKey = 'all';

export interface Origin {
  readonly server: XdsServer;
  readonly cache: SnapshotCache;
  readonly address: string;
  readonly port: number;
}

/**
 * An origin on any free 127.0.0.1 port over `cache` (a new one holding originSnapshot() by default), with `options`
 * for its server (its `limits`, say). An origin that restarts keeps its address behind a held port
 * (scripts/registries/held-port.mjs), never by taking back the port it gave up.
 */
export async function startOrigin(
  cache?: SnapshotCache,
  options: Omit<XdsServerOptions, 'cache'> = {},
): Promise<Origin> {
  const held = cache ?? new SnapshotCache({ nodeKey: () => originKey });
  if (cache === undefined) held.setSnapshot(originKey, originSnapshot());
  const server = new XdsServer({ closeGraceMs: 200, ...options, cache: held });
  const bound = await server.listen('127.0.0.1:0');
  return { server, cache: held, address: `127.0.0.1:${bound}`, port: bound };
}

/** A relay on 127.0.0.1 in front of `upstreams`, with a fast backoff. */
export async function startRelay(
  upstreams: readonly string[],
  options: Partial<RelayOptions> = {},
): Promise<{ relay: Relay; address: string }> {
  const relay = new Relay({
    upstreams,
    groupBy: 'cluster',
    backoff: { initialMs: 5, maxMs: 50 },
    server: { closeGraceMs: 200 },
    ...options,
  });
  const port = await relay.listen('127.0.0.1:0');
  return { relay, address: `127.0.0.1:${port}` };
}

/**
 * How long the relay's tests wait for what they await by default (ms): a downstream client's response, an event, a
 * polled condition. Sized for a machine at load 40+ (2 cores, many test processes): at load 50 a relay's first
 * response to a new client once took more than 10 s. A deadline only bounds a wait that fails; a passing test never
 * waits for it.
 */
export const relayWaitMs = 60_000;

/** A downstream client of cluster `web` (one group under `--group-by cluster`); waits up to {@link relayWaitMs}. */
export function downstream(
  address: string,
  id: string,
  extra: Partial<XdsTestClientOptions> = {},
): XdsTestClient {
  return new XdsTestClient({ address, node: { id, cluster: 'web' }, timeoutMs: relayWaitMs, ...extra });
}

/** The end of a client's first stream, or a rejection naming `what` when it is still open after `ms`. */
export async function endedWithin(client: XdsTestClient, what: string, ms = relayWaitMs): Promise<StreamEnd> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: the stream is still open after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([client.ended(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a test file starts and must stop, closed newest first once all of the file's tests ran. */
export interface Closers {
  /** Registers a close function. */
  push(close: () => Promise<void>): void;
  /** Registers a client's close; returns the client. */
  track(client: XdsTestClient): XdsTestClient;
}

/** Closers for the calling test file: call it at the file's top level, where it registers an `after` hook. */
export function closeAfterAll(): Closers {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });
  return {
    push: (close) => {
      closers.push(close);
    },
    track: (client) => {
      closers.push(() => client.close());
      return client;
    },
  };
}

/** An origin (holding originSnapshot()) and a relay in front of it, both closed by `closers`. */
export async function startOriginAndRelay(
  closers: Closers,
  options: Partial<RelayOptions> = {},
): Promise<{ origin: Origin; relay: Relay; address: string }> {
  const origin = await startOrigin();
  closers.push(() => origin.server.close());
  const { relay, address } = await startRelay([origin.address], options);
  closers.push(() => relay.close());
  return { origin, relay, address };
}

export const typeUrls = { cds: TypeUrl.Cluster, eds: TypeUrl.Endpoint } as const;

type Emitters = [[Relay, RelayEvents], [XdsServer, XdsServerEvents]];
/** The next matching event of a relay or server, with a deadline ({@link relayWaitMs} unless given). */
export const nextEvent: NextEvent<Emitters> = (emitter, name, predicate, timeoutMs = relayWaitMs) =>
  waitForEvent(emitter, name, predicate, timeoutMs);
/** Every event of a relay or server from now on. */
export const collect: Collect<Emitters> = collectEvents;
/** Polls `check` until it returns true, or rejects naming `what` after `timeoutMs` ({@link relayWaitMs} unless given). */
export function until(what: string, check: () => boolean, timeoutMs = relayWaitMs): Promise<void> {
  return untilWithin(what, check, timeoutMs);
}

/** A running `xds-relay` command (bin.ts through tsx), its output so far, and its exit. */
export interface RelayCommand {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** stdout and stderr so far. */
  output(): string;
  /** The JSON log lines so far. */
  logs(): Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

/** Spawns `xds-relay ARGS` and resolves once it logged that it started (or rejects when it exits first). */
export async function startRelayCommand(args: readonly string[]): Promise<RelayCommand> {
  const bin = fileURLToPath(new URL('./bin.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = new Promise<void>((resolve, reject) => {
    const take = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('xds-relay started')) resolve();
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    void exited.then((code) =>
      reject(new Error(`xds-relay exited with ${code} before starting:\n${output}`)),
    );
  });
  await started;
  return {
    child,
    output: () => output,
    logs: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    exited,
  };
}

/**
 * The writes made while `work` runs, synchronously: Map `set` and `delete`, Set `add` and `delete`, objects frozen
 * and persistent-map slots copied. What a change costs, counted rather than timed (rules X4, L2: a busy machine
 * changes the time, not the count).
 */
export function countWork(work: () => void): number {
  const copies = persistentMapCopies();
  const writes = countWrites(work, { freezes: true });
  return writes + persistentMapCopies() - copies;
}

/** `xds-relay` arguments in front of `upstream` with both listeners on any free loopback port, then `more`. */
export function localRelayArgs(upstream: string, ...more: string[]): string[] {
  return ['--upstream', upstream, '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...more];
}

/** The start-up log line of a running `xds-relay` command (the one naming its xDS security), or `{}`. */
export function startedLine(command: RelayCommand): Record<string, unknown> {
  return command.logs().find((line) => line['xdsSecurity'] !== undefined) ?? {};
}

/** GETs an admin page of a relay process: its status and body. */
export async function getAdmin(
  adminAddress: string,
  path: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${adminAddress}${path}`);
  return { status: response.status, body: await response.text() };
}

/** Polls `/readyz` until it answers `status` (or {@link relayWaitMs} passes); the last answer. */
export async function readyzUntil(
  adminAddress: string,
  status: number,
): Promise<{ status: number; body: string }> {
  let readyz = await getAdmin(adminAddress, '/readyz');
  for (const deadline = Date.now() + relayWaitMs; readyz.status !== status && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    readyz = await getAdmin(adminAddress, '/readyz');
  }
  return readyz;
}

/** Starts a relay process with a silent logger and a short close grace, closed by `closers`. */
export async function startQuietRelayProcess(
  closers: Closers,
  options: Omit<RelayProcessOptions, 'logger'>,
): Promise<RelayProcess> {
  const running = await startRelayProcess({ closeGraceMs: 200, ...options, logger: createLogger('silent') });
  closers.push(() => running.close());
  return running;
}
