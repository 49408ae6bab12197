// Helpers for the client's tests: a real XdsServer over a SnapshotCache on 127.0.0.1, and waiting for events with a
// deadline (never sleeping; @xds/testing's, shared with the relay's tests).
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster, makeClusterLoadAssignment } from '@xds/generator';
import { XdsServer, type XdsServerEvents } from '@xds/server';
import { type Collect, collectEvents, type NextEvent, waitForEvent } from '@xds/testing';
import { XdsClient, type XdsClientEvents, type XdsClientOptions } from './index.js';

export function cluster(name: string, serviceName?: string) {
  return makeCluster(serviceName === undefined ? { name } : { name, serviceName });
}

export function assignment(name: string, port: number) {
  return makeClusterLoadAssignment(name, [
    { locality: { region: 'r1' }, weight: 1, endpoints: [{ address: '127.0.0.1', port }] },
  ]);
}

/** Two clusters and their endpoints. */
export function sample(port = 8080): Snapshot {
  return Snapshot.create([cluster('c1'), cluster('c2'), assignment('c1', port), assignment('c2', port + 1)]);
}

/** A server on any free 127.0.0.1 port over `cache`. */
export async function serve(
  cache: SnapshotCache,
): Promise<{ server: XdsServer; address: string; port: number }> {
  const server = new XdsServer({ cache, closeGraceMs: 200 });
  const bound = await server.listen('127.0.0.1:0');
  return { server, address: `127.0.0.1:${bound}`, port: bound };
}

/** A cache holding `sample()` for node `n1`. */
export function sampleCache(): SnapshotCache {
  const cache = new SnapshotCache();
  cache.setSnapshot('n1', sample());
  return cache;
}

type Emitters = [[XdsClient, XdsClientEvents], [XdsServer, XdsServerEvents]];
/** The next matching event of a client or server, with a deadline. */
export const nextEvent: NextEvent<Emitters> = waitForEvent;
/** Every event of a client or server from now on. */
export const collect: Collect<Emitters> = collectEvents;

/** The Map and Set writes a synchronous piece of work makes: @xds/testing's, shared with the relay's tests. */
export { countWrites } from '@xds/testing';

/**
 * A client of node `n1` on `address` (closed by `closers`) watching every Cluster, once it holds its first ones.
 * `options` adds to or replaces the defaults.
 */
export async function clusterClient(
  address: string,
  options: Partial<XdsClientOptions>,
  closers: (() => Promise<void>)[],
): Promise<XdsClient> {
  const client = new XdsClient({ servers: [address], node: 'n1', ...options });
  closers.push(() => client.close());
  const first = nextEvent(client, 'update', (e) => e.typeUrl === TypeUrl.Cluster);
  client.watch(TypeUrl.Cluster, '*', () => {});
  await first;
  return client;
}
