// LEDS (envoy.config.endpoint.v3.LbEndpoint) and glob collections over the wire: a SnapshotCache holds endpoints
// named by xdstp URLs, a delta client subscribes to a glob collection (`…/pool-a/*`) on ADS and on LEDS's own
// service (LocalityEndpointDiscoveryService/DeltaLocalityEndpoints), and gets exactly the collection's members,
// then its changes (rules D3, D5, S10 for names that do not exist yet). A SotW client's glob on the SnapshotCache
// is tested with ClusterLoadAssignments (LEDS itself is delta only).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { LbEndpointSchema, TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeClusterLoadAssignment } from '@xds/generator';
import { loopbackAssignment, serveCacheForSuite, withClient } from './support/wire.js';

const nodeId = 'leds';
const collection = (pool: string) => `xdstp://test.example/envoy.config.endpoint.v3.LbEndpoint/${pool}`;
const member = (pool: string, id: string) => `${collection(pool)}/${id}`;

function lbEndpoint(port: number) {
  return create(LbEndpointSchema, {
    hostIdentifier: {
      case: 'endpoint',
      value: {
        address: {
          address: {
            case: 'socketAddress',
            value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: port } },
          },
        },
      },
    },
    loadBalancingWeight: 1,
  });
}

function endpoints(members: Record<string, number>): Snapshot {
  return Snapshot.create(
    Object.entries(members).map(([name, port]) => ({ name, resource: lbEndpoint(port) })),
  );
}

describe('LEDS and glob collections on a SnapshotCache, over the wire', () => {
  const cache = new SnapshotCache();
  const suite = serveCacheForSuite(cache);

  for (const ads of [true, false]) {
    it(`D3, D5: a glob collection subscription on ${ads ? 'ADS' : 'the LEDS service'} gets its members and their changes`, async () => {
      cache.setSnapshot(
        nodeId,
        endpoints({
          [member('pool-a', 'ep0')]: 8000,
          [member('pool-a', 'ep1')]: 8001,
          [member('pool-b', 'ep0')]: 9000,
        }),
      );
      const options = { node: nodeId, protocol: 'delta', ads, timeoutMs: 30_000 } as const;
      await withClient({ address: suite.address, ...options }, async (client) => {
        client.subscribe(TypeUrl.LbEndpoint, [`${collection('pool-a')}/*`]);
        const first = await client.next(TypeUrl.LbEndpoint);
        assert.deepEqual([...first.names].sort(), [member('pool-a', 'ep0'), member('pool-a', 'ep1')]);
        assert.deepEqual(first.errors, []);
        // A change inside the collection: ep0 leaves, ep2 joins, ep1 changes port; pool-b changes too (not sent).
        cache.setSnapshot(
          nodeId,
          endpoints({
            [member('pool-a', 'ep1')]: 8101,
            [member('pool-a', 'ep2')]: 8002,
            [member('pool-b', 'ep0')]: 9001,
          }),
        );
        const second = await client.next(TypeUrl.LbEndpoint);
        assert.deepEqual([...second.names].sort(), [member('pool-a', 'ep1'), member('pool-a', 'ep2')]);
        assert.deepEqual(second.removed, [member('pool-a', 'ep0')]);
        const held = client.resources(TypeUrl.LbEndpoint);
        assert.deepEqual([...held.keys()].sort(), [member('pool-a', 'ep1'), member('pool-a', 'ep2')]);
      });
    });
  }

  it('R1, R4: a SotW client on ADS sees the names of LbEndpoints in Resource wrappers (TTL)', async () => {
    // LEDS is delta only; over SotW an LbEndpoint is named only by the Resource wrapper of a TTL'd resource.
    const node = 'sotw-leds-ttl';
    const names = [member('pool-s', 'ep0'), member('pool-s', 'ep1')];
    cache.setSnapshot(
      node,
      Snapshot.create(names.map((name, i) => ({ name, resource: lbEndpoint(7000 + i), ttlMs: 60_000 }))),
    );
    const options = {
      address: suite.address,
      node: { id: node, clientFeatures: ['xds.config.supports-resource-ttl'] },
      protocol: 'sotw' as const,
      ads: true,
      timeoutMs: 30_000,
    };
    await withClient(options, async (client) => {
      client.subscribe(TypeUrl.LbEndpoint, names);
      const response = await client.next(TypeUrl.LbEndpoint);
      assert.deepEqual(response.errors, []);
      assert.deepEqual([...response.names].sort(), names);
      assert.equal(response.acked, true);
      assert.deepEqual([...client.resources(TypeUrl.LbEndpoint).keys()].sort(), names);
    });
  });

  it('S9, S10: a SotW glob on the SnapshotCache gets the matching names, and a name that appears later', async () => {
    const name = (id: string) =>
      `xdstp://test.example/envoy.config.endpoint.v3.ClusterLoadAssignment/svc/${id}`;
    const cla = (id: string, port: number) => loopbackAssignment(name(id), port);
    cache.setSnapshot(
      'sotw-glob',
      Snapshot.create([cla('a', 1), cla('b', 2), makeClusterLoadAssignment('other', [])]),
    );
    const options = { node: 'sotw-glob', protocol: 'sotw', ads: true, timeoutMs: 30_000 } as const;
    await withClient({ address: suite.address, ...options }, async (client) => {
      client.subscribe(TypeUrl.Endpoint, [name('*')]);
      const first = await client.next(TypeUrl.Endpoint);
      assert.deepEqual([...first.names].sort(), [name('a'), name('b')]);
      cache.setSnapshot(
        'sotw-glob',
        Snapshot.create([cla('a', 1), cla('b', 2), cla('c', 3), makeClusterLoadAssignment('other', [])]),
      );
      const second = await client.next(TypeUrl.Endpoint);
      assert.deepEqual([...second.names], [name('c')]);
    });
  });
});
