// Helpers for this package's tests: wait for a registry state (event-driven, with a deadline), and a real xDS
// server fed by an aggregate, read by a real xDS client.
import assert from 'node:assert/strict';
import type { Message } from '@bufbuild/protobuf';
import { type ClusterLoadAssignment, HealthStatus, TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { nodeKeyByFlavour, publishModel, type ServiceModel } from '@xds/generator';
import { XdsServer } from '@xds/server';
import { XdsTestClient } from '@xds/testing';
import { AggregateRegistry } from './aggregate.js';
import { serviceModelOf } from './service-model.js';
import type { Registry, RegistryEvents, RegistryStatus } from './types.js';

interface Observable {
  on<E extends keyof RegistryEvents>(event: E, listener: RegistryEvents[E]): () => void;
}

/** Resolves when `check` returns true (checked now and on every change/status event); rejects after the deadline. */
export function until(
  source: Observable,
  check: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = [];
    const done = (error?: Error): void => {
      clearTimeout(timer);
      for (const off of offs) off();
      if (error === undefined) resolve();
      else reject(error);
    };
    const timer = setTimeout(
      () => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
    const test = (): void => {
      try {
        if (check()) done();
      } catch (error) {
        done(error instanceof Error ? error : new Error(String(error)));
      }
    };
    offs.push(source.on('change', test), source.on('status', test));
    test();
  });
}

/** Resolves when `check` returns true, polled every 50 ms (for a state no event announces); rejects after the deadline. */
export async function pollUntil(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Counts the event loop's turns (a chain of setImmediate) from `start()` to `stop()`, for rule L4: an answer parsed
 * on the event loop holds it for one turn whatever its size; parsed by the parse worker, the loop goes on turning
 * meanwhile, and takes the result in chunks, one turn each. A count, not a time.
 */
export function loopTurns(): { start(): void; stop(): void; turns(): number; readonly order: string[] } {
  let turns = 0;
  let on = false;
  let stopped = false;
  const order: string[] = [];
  const spin = (): void => {
    if (!on) return;
    turns++;
    setImmediate(spin);
  };
  return {
    start: () => {
      order.push('start');
      if (on || stopped) return;
      on = true;
      setImmediate(spin);
    },
    stop: () => {
      order.push('stop');
      stopped = true;
      on = false;
    },
    turns: () => turns,
    order,
  };
}

/**
 * Rule L4's count for an answer of `items` items taken in chunks of `chunkItems`: `loop` (see {@link loopTurns})
 * turned at least once per chunk between `what`.
 */
export function assertTurnsPerChunk(
  loop: ReturnType<typeof loopTurns>,
  items: number,
  chunkItems: number,
  what: string,
): void {
  const least = Math.ceil(items / chunkItems) - 1;
  assert.ok(
    loop.turns() >= least,
    `${loop.turns()} turns of the event loop between ${what}; at least ${least} (${loop.order.join(', ')})`,
  );
}

/**
 * Rule L4's check of an answer of `items` items that `registry` takes in chunks of `chunkItems`: waits (on its
 * events, 60 s at most) until `arrived()`, then checks that `loop` turned once per chunk meanwhile and that the
 * answer went to the parse worker.
 */
export async function assertParsedOffLoop(
  registry: Registry & { parseCounts(): { readonly worker: number } | undefined },
  loop: ReturnType<typeof loopTurns>,
  arrived: () => boolean,
  items: number,
  chunkItems: number,
): Promise<void> {
  await until(registry, arrived, `the ${items} items`, 60_000);
  assertTurnsPerChunk(loop, items, chunkItems, 'the answer written and applied');
  assert.ok((registry.parseCounts()?.worker ?? 0) >= 1, 'the answer went to the parse worker');
}

/**
 * Waits (on its events, 60 s at most) until `registry`'s last error matches `named`, then checks the whole message
 * against `message` when given; returns the status then.
 */
export async function untilError(
  registry: Registry,
  named: RegExp,
  what: string,
  message?: RegExp,
): Promise<RegistryStatus> {
  await until(registry, () => named.test(registry.status().lastError?.message ?? ''), what, 60_000);
  const status = registry.status();
  if (message !== undefined) assert.match(status.lastError?.message ?? '', message);
  return status;
}

/**
 * Records each change of `registry`'s state from now on (stale, last error, service count), for a failure message
 * that shows how it got where it is; `text()` gives the lines, `stop()` removes the listeners.
 */
export function statusHistory(registry: Registry): { text(): string; stop(): void } {
  const started = Date.now();
  const lines: string[] = [];
  let last = '';
  const note = (): void => {
    const s = registry.status();
    const line = `synced=${s.synced} stale=${s.stale} services=${s.services} lastError=${s.lastError === undefined ? '-' : `${s.lastError.kind}: ${s.lastError.message}`}`;
    if (line !== last && lines.length < 200) lines.push(`+${Date.now() - started} ms ${line}`);
    last = line;
  };
  const offs = [registry.on('change', note), registry.on('status', note)];
  note();
  return {
    text: () => lines.join('\n'),
    stop: () => {
      for (const off of offs) off();
    },
  };
}

/** Counts the `change` events of `source` from now on (`stop` removes the listener). */
export function countChanges(source: Observable): { count(): number; stop(): void } {
  let count = 0;
  const off = source.on('change', () => {
    count++;
  });
  return { count: () => count, stop: off };
}

/**
 * Rule L2: the most updates a registry with `minRegistryUpdateMs` = `intervalMs` may make in `elapsedMs` (one per
 * interval, the first at once, and one scheduled just before the count began). Timing only loosens this bound: a
 * slower machine gives more time, so more updates are allowed, never fewer.
 */
export function updateBound(elapsedMs: number, intervalMs: number): number {
  return Math.floor(elapsedMs / intervalMs) + 2;
}

/**
 * Rule L2's burst check: counts `registry`'s updates while `burst` makes many changes at once and until `arrived()`
 * says they all arrived (60 s deadline), then asserts at most one update per `intervalMs` (see {@link updateBound}).
 */
export async function assertBurstCoalesced(
  registry: Observable,
  intervalMs: number,
  burst: () => Promise<unknown>,
  arrived: () => boolean,
  what: string,
): Promise<void> {
  const changes = countChanges(registry);
  const started = performance.now();
  await burst();
  await until(registry, arrived, what, 60_000);
  const elapsed = performance.now() - started;
  changes.stop();
  assert.ok(
    changes.count() <= updateBound(elapsed, intervalMs),
    `${changes.count()} updates for ${what} in ${Math.round(elapsed)} ms`,
  );
}

/** A real xDS server whose snapshots follow an aggregate (and an optional model file). */
export interface XdsOverRegistry {
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  /** The cache. */
  readonly cache: SnapshotCache;
  /** How many times a snapshot was published with changes. */
  readonly pushes: () => number;
  /** A client of the Envoy flavour subscribed to every Cluster and to the ClusterLoadAssignments named. */
  client(assignments: readonly string[]): XdsTestClient;
  /** Stops everything it started. */
  close(): Promise<void>;
}

/** Starts an xDS server on 127.0.0.1 that publishes the aggregate's model on every change once it synced. */
export async function serveAggregate(
  aggregate: AggregateRegistry,
  file?: ServiceModel,
): Promise<XdsOverRegistry> {
  const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
  let pushes = 0;
  const publish = (): void => {
    if (!aggregate.synced()) return;
    const published = publishModel(cache, serviceModelOf(aggregate.services(), file), {
      flavours: ['envoy'],
    });
    if (published.envoy !== undefined && published.envoy.snapshot !== published.envoy.previous) pushes += 1;
  };
  const offs = [aggregate.on('change', publish), aggregate.on('status', publish)];
  publish();
  const server = new XdsServer({ cache, closeGraceMs: 500 });
  const port = await server.listen('127.0.0.1:0');
  const address = `127.0.0.1:${port}`;
  const clients: XdsTestClient[] = [];
  return {
    address,
    cache,
    pushes: () => pushes,
    client(assignments) {
      const client = new XdsTestClient({ address, node: 'sidecar', timeoutMs: 20_000 });
      client.subscribe(TypeUrl.Cluster, []);
      client.subscribe(TypeUrl.Endpoint, assignments);
      clients.push(client);
      return client;
    },
    async close() {
      for (const off of offs) off();
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
      cache.close();
    },
  };
}

/** {@link XdsOverRegistry} over an aggregate of one registry; close() also stops the aggregate. */
export interface XdsOverOneRegistry extends XdsOverRegistry {
  /** The started aggregate of the one registry. */
  readonly aggregate: AggregateRegistry;
}

/** Starts an aggregate of `registry` alone and an xDS server that publishes it (see {@link serveAggregate}). */
export async function serveRegistry(registry: Registry, file?: ServiceModel): Promise<XdsOverOneRegistry> {
  const aggregate = new AggregateRegistry([registry]);
  aggregate.start();
  let served: XdsOverRegistry;
  try {
    served = await serveAggregate(aggregate, file);
  } catch (error) {
    await aggregate.stop();
    throw error;
  }
  return {
    ...served,
    aggregate,
    async close() {
      await served.close();
      await aggregate.stop();
    },
  };
}

/**
 * The endpoints of a ClusterLoadAssignment held by a client, as sorted `address:port HEALTH zone {labels}` lines
 * (labels from the endpoint's `filter_metadata` are not part of EDS, so only what EDS carries).
 */
export function endpointLines(resources: ReadonlyMap<string, Message>, name: string): string[] {
  const cla = resources.get(name) as ClusterLoadAssignment | undefined;
  if (cla === undefined) return [];
  const out: string[] = [];
  for (const locality of cla.endpoints) {
    for (const lb of locality.lbEndpoints) {
      const socket =
        lb.hostIdentifier.case === 'endpoint' ? lb.hostIdentifier.value.address?.address : undefined;
      const address = socket?.case === 'socketAddress' ? socket.value : undefined;
      const port = address?.portSpecifier.case === 'portValue' ? address.portSpecifier.value : 0;
      const zone = locality.locality?.zone ?? '';
      const region = locality.locality?.region ?? '';
      out.push(`${address?.address}:${port} ${HealthStatus[lb.healthStatus]} ${region}/${zone}`);
    }
  }
  return out.sort();
}
