// Rules X4 and X1 in the bench's "tier" shape: many Envoy-like SotW ADS clients that all present ONE node id (and one
// flavour, user agent `envoy`) through one relay grouping by node id, in front of an origin that keys its snapshots
// by node id (as a SnapshotCache does by default, and as the bench's origin does). Each client subscribes to Clusters
// and Listeners by legacy wildcard and to the ClusterLoadAssignments and RouteConfigurations they name. The origin's
// snapshot is set at the upstream node id the relay documents for the group, `relay~KEY` with the flavour in KEY
// (README "Groups"): the relay's other tests use an origin that gives every node the same snapshot, so a change to
// that id (a4c1497 added the flavour) went unnoticed there and the bench's origin, keyed by the old id, never
// answered the relays.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClusterLoadAssignment, TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster, makeHttpListener, makeRouteConfiguration } from '@xds/generator';
import { XdsTestClient } from '@xds/testing';
import { assignment, closeAfterAll, startOrigin, startRelay, until } from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

/** The node every client presents: the bench's (`wire.ts` encodeNode): id, cluster, user agent `envoy`. */
const node = { id: 'bench', cluster: 'bench', userAgentName: 'envoy' };
/** The documented upstream node id of that group under `--group-by node-id`: `relay~` + id + `|ua=` + flavour. */
const upstreamId = 'relay~bench|ua=envoy';

const clusters = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
const routes = ['route-a', 'route-b'];
const clientCount = 40;

/** The origin's snapshot at `version`: 20 EDS clusters, their assignments (ports from `portOf`), 2 listeners. */
function snapshotAt(version: string, portOf: (i: number) => number): Snapshot {
  return Snapshot.create(
    [
      ...clusters.map((name) => makeCluster({ name })),
      ...clusters.map((name, i) => assignment(name, portOf(i))),
      ...routes.map((routeName, i) =>
        makeHttpListener({ name: `listener-${i}`, address: '0.0.0.0', port: 10_000 + i, routeName }),
      ),
      ...routes.map((name) =>
        makeRouteConfiguration({
          name,
          virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ cluster: clusters[0]! }] }],
        }),
      ),
    ],
    { version },
  );
}

/** The port of a client's assignment of `name`, or undefined when it holds none. */
function portOf(client: XdsTestClient, name: string): number | undefined {
  const held = client.resources(TypeUrl.Endpoint).get(name) as ClusterLoadAssignment | undefined;
  const host = held?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
  const address = host?.case === 'endpoint' ? host.value.address?.address : undefined;
  return address?.case === 'socketAddress' && address.value.portSpecifier.case === 'portValue'
    ? address.value.portSpecifier.value
    : undefined;
}

/** The version a client last ACKed for a type ('' before any). */
function acked(client: XdsTestClient, typeUrl: TypeUrl): string {
  for (let i = client.requests.length - 1; i >= 0; i--) {
    const request = client.requests[i]!;
    if (request.typeUrl === typeUrl && request.$typeName === 'envoy.service.discovery.v3.DiscoveryRequest')
      if (request.errorDetail === undefined) return request.versionInfo;
  }
  return '';
}

/** Polls `check` until it holds; past `timeoutMs` fails with what `detail` says then. */
async function converge(check: () => boolean, detail: () => string, timeoutMs = 120_000): Promise<void> {
  try {
    await until('convergence', check, timeoutMs);
  } catch {
    assert.fail(detail());
  }
}

for (const upstreamProtocol of ['delta', 'sotw'] as const) {
  describe(`relay: ${clientCount} SotW clients sharing one node id (bench tier shape), ${upstreamProtocol} upstream`, () => {
    it('X4, X1: every client converges on v1, then on a v2 EDS change, through one upstream stream named relay~KEY', async () => {
      // Keyed by node id, like the bench's origin: only the relay group's documented upstream id has a snapshot.
      const cache = new SnapshotCache();
      cache.setSnapshot(
        upstreamId,
        snapshotAt('v1', (i) => 8000 + i),
      );
      const origin = await startOrigin(cache);
      closers.push(() => origin.server.close());
      const { relay, address } = await startRelay([origin.address], { groupBy: 'node-id', upstreamProtocol });
      closers.push(() => relay.close());

      const clients = Array.from({ length: clientCount }, () =>
        track(new XdsTestClient({ address, node, timeoutMs: 120_000 })),
      );
      for (const client of clients) {
        client.subscribe(TypeUrl.Cluster, []);
        client.subscribe(TypeUrl.Listener, []);
      }
      // Named EDS and RDS follow what the wildcard types brought, as an Envoy (and the bench's clients) do.
      for (const client of clients) {
        await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === clusters.length);
        client.subscribe(TypeUrl.Endpoint, [...client.resources(TypeUrl.Cluster).keys()]);
        await client.waitFor(TypeUrl.Listener, (_r, s) => s.resources.size === routes.length);
        client.subscribe(TypeUrl.Route, routes);
      }
      const types = [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.Endpoint, TypeUrl.Route];
      const synced = (client: XdsTestClient, eds: string) =>
        types.every((t) => acked(client, t) === (t === TypeUrl.Endpoint ? eds : 'v1')) &&
        client.resources(TypeUrl.Endpoint).size === clusters.length &&
        client.resources(TypeUrl.Route).size === routes.length;
      await converge(
        () => clients.every((c) => synced(c, 'v1')),
        () =>
          `v1: ${clients.filter((c) => synced(c, 'v1')).length} of ${clientCount} clients synced; the origin's ` +
          `streams: ${JSON.stringify(origin.server.clients().map((c) => c.nodeId))}; client 0: ${JSON.stringify(types.map((t) => [acked(clients[0]!, t), clients[0]!.resources(t).size]))}`,
      );
      for (const client of clients) assert.equal(portOf(client, 'svc-3'), 8003);

      // v2 moves 2 of the 20 assignments (the bench's small EDS push); every client ACKs it with the new ports.
      cache.setSnapshot(
        upstreamId,
        snapshotAt('v2', (i) => (i === 3 || i === 11 ? 9000 + i : 8000 + i)),
      );
      await converge(
        () => clients.every((c) => synced(c, 'v2')),
        () => `v2: ${clients.filter((c) => synced(c, 'v2')).length} of ${clientCount} clients synced`,
      );
      for (const client of clients) {
        assert.equal(portOf(client, 'svc-3'), 9003);
        assert.equal(portOf(client, 'svc-11'), 9011);
        assert.equal(portOf(client, 'svc-4'), 8004);
      }
      // X4: the origin saw one stream for the whole group, under the documented id.
      assert.deepEqual(
        origin.server.clients().map((c) => c.nodeId),
        [upstreamId],
      );
    });
  });
}
