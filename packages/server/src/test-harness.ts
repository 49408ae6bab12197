// Helpers for the server's tests: a real XdsServer on 127.0.0.1 and small resources.
import { Snapshot, SnapshotCache, type SnapshotCacheOptions } from '@xds/cache';
import {
  makeApiListener,
  makeCluster,
  makeClusterLoadAssignment,
  makeRouteConfiguration,
} from '@xds/generator';
import { XdsTestClient, type XdsTestClientOptions } from '@xds/testing';
import type { XdsServerOptions } from './options.js';
import { XdsServer } from './xds-server.js';

export function cluster(name: string, serviceName?: string) {
  return makeCluster(serviceName === undefined ? { name } : { name, serviceName });
}

export function assignment(name: string, port: number) {
  return makeClusterLoadAssignment(name, [
    { locality: { region: 'r1' }, weight: 1, endpoints: [{ address: '127.0.0.1', port }] },
  ]);
}

export function listener(name: string, routeName: string) {
  return makeApiListener({ name, routeName });
}

export function route(name: string, clusterName: string) {
  return makeRouteConfiguration({
    name,
    virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ cluster: clusterName }] }],
  });
}

/** A snapshot of two clusters with endpoints, a listener and a route; `port` varies the endpoints. */
export function sample(port = 8080, extra: { cluster2Service?: string } = {}): Snapshot {
  return Snapshot.create([
    cluster('c1'),
    cluster('c2', extra.cluster2Service),
    assignment('c1', port),
    assignment('c2', port + 1),
    assignment('svc', port + 2),
    listener('l1', 'r1'),
    route('r1', 'c1'),
  ]);
}

export interface Harness {
  readonly server: XdsServer;
  readonly cache: SnapshotCache;
  readonly address: string;
  readonly clients: XdsTestClient[];
  client(options?: Partial<XdsTestClientOptions>): XdsTestClient;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1:0 over a SnapshotCache that holds `sample()` for node `n1`. */
export async function start(
  options: Partial<XdsServerOptions> = {},
  cacheOptions: SnapshotCacheOptions = {},
  snapshot: Snapshot | undefined = sample(),
): Promise<Harness> {
  const cache = new SnapshotCache(cacheOptions);
  if (snapshot !== undefined) cache.setSnapshot('n1', snapshot);
  const server = new XdsServer({ cache, closeGraceMs: 1000, ...options });
  const port = await server.listen('127.0.0.1:0');
  const address = `127.0.0.1:${port}`;
  const clients: XdsTestClient[] = [];
  return {
    server,
    cache,
    address,
    clients,
    client(extra = {}) {
      const client = new XdsTestClient({ address, node: 'n1', timeoutMs: 5000, ...extra });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
      cache.close();
    },
  };
}

/** Resolves with the first event `name` whose payload matches, or rejects after a deadline. */
export function nextEvent<K extends keyof import('./events.js').XdsServerEvents>(
  server: XdsServer,
  name: K,
  predicate: (event: import('./events.js').XdsServerEvents[K][0]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<import('./events.js').XdsServerEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      server.off(name, listener as never);
      reject(new Error(`no ${String(name)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (event: import('./events.js').XdsServerEvents[K][0]) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      server.off(name, listener as never);
      resolve(event);
    };
    server.on(name, listener as never);
  });
}
