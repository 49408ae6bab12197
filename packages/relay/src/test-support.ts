// Helpers for the relay's tests: an origin (XdsServer over one SnapshotCache for every node) on 127.0.0.1, a relay in
// front of it, downstream XdsTestClients, and waiting for events with a deadline (never sleeping).
import { create, toBinary } from '@bufbuild/protobuf';
import { ClusterSchema, TypeUrl } from '@xds/api';
import { encodeResource, Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster, makeClusterLoadAssignment } from '@xds/generator';
import { XdsServer, type XdsServerEvents } from '@xds/server';
import { XdsTestClient, type XdsTestClientOptions } from '@xds/testing';
import type { EventEmitter } from 'eventemitter3';
import { Relay, type RelayEvents, type RelayOptions } from './relay.js';

export function assignment(name: string, port: number) {
  return makeClusterLoadAssignment(name, [
    { locality: { region: 'r1' }, weight: 1, endpoints: [{ address: '127.0.0.1', port }] },
  ]);
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

/** The snapshot key every node gets at the origin. */
export const originKey = 'all';

export interface Origin {
  readonly server: XdsServer;
  readonly cache: SnapshotCache;
  readonly address: string;
  readonly port: number;
}

/** An origin on 127.0.0.1 (a given port, or any) over `cache` (a new one holding originSnapshot() by default). */
export async function startOrigin(cache?: SnapshotCache, port = 0): Promise<Origin> {
  const held = cache ?? new SnapshotCache({ nodeKey: () => originKey });
  if (cache === undefined) held.setSnapshot(originKey, originSnapshot());
  const server = new XdsServer({ cache: held, closeGraceMs: 200 });
  const bound = await server.listen(`127.0.0.1:${port}`);
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

/** A downstream client of cluster `web` (one group under `--group-by cluster`). */
export function downstream(
  address: string,
  id: string,
  extra: Partial<XdsTestClientOptions> = {},
): XdsTestClient {
  return new XdsTestClient({ address, node: { id, cluster: 'web' }, timeoutMs: 10_000, ...extra });
}

export const typeUrls = { cds: TypeUrl.Cluster, eds: TypeUrl.Endpoint } as const;

/** Resolves with the first event `name` whose payload matches, or rejects after a deadline. */
export function nextEvent<K extends keyof RelayEvents>(
  emitter: Relay,
  name: K,
  predicate?: (event: RelayEvents[K][0]) => boolean,
): Promise<RelayEvents[K][0]>;
export function nextEvent<K extends keyof XdsServerEvents>(
  emitter: XdsServer,
  name: K,
  predicate?: (event: XdsServerEvents[K][0]) => boolean,
): Promise<XdsServerEvents[K][0]>;
export function nextEvent(
  emitter: Relay | XdsServer,
  name: string,
  predicate: (event: never) => boolean = () => true,
): Promise<unknown> {
  const target = emitter as unknown as EventEmitter<Record<string, [unknown]>>;
  const timeoutMs = 15_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.off(name, listener);
      reject(new Error(`no ${name} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (event: unknown) => {
      if (!predicate(event as never)) return;
      clearTimeout(timer);
      target.off(name, listener);
      resolve(event);
    };
    target.on(name, listener);
  });
}

/** Collects every event `name` of a server from now on. */
export function collect<K extends keyof XdsServerEvents>(
  server: XdsServer,
  name: K,
): XdsServerEvents[K][0][] {
  const out: XdsServerEvents[K][0][] = [];
  server.on(name, ((event: XdsServerEvents[K][0]) => out.push(event)) as never);
  return out;
}

/** Polls `check` until it returns true, or rejects after a deadline naming `what`. */
export async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
