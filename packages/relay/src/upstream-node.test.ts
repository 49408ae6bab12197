// Rule X4: the upstream node of a group is built from the group key only: the `--group-by` field and the flavour
// the members share (user agent name, metadata GENERATOR, the client features the relay passes on). Every member
// shares the group's one upstream stream, so no member's other fields (metadata, user agent version, locality,
// features the relay does not honour) may reach the origin: the first member of a group, hostile or not, must not
// decide what the origin generates for the rest. A real origin that generates by metadata, the real relay, real
// downstream clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { NodeSchema, TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster } from '@xds/generator';
import { formatGroupKey, parseGroupBy, parseGroupKey } from './group-by.js';
import {
  assignment,
  closeAfterAll,
  downstream,
  oddlyEncodedCluster,
  originSnapshot,
  startOrigin,
  startRelay,
} from './test-support.js';
import { relayGroupByKey, relayGroupKey } from './upstream-node.js';

const closers = closeAfterAll();
const { track } = closers;

describe('relay: the upstream node of a group', () => {
  it('X4: is the group key and the shared flavour; a first member cannot pass its metadata or features upstream', async () => {
    // The origin gives nodes with ROLE=admin an extra cluster, and TTL-wrapped resources to nodes that say they
    // support them (rule R4): neither may reach a group through its first member.
    const cache = new SnapshotCache({
      nodeKey: (node) => (node.metadata?.['ROLE'] === 'admin' ? 'admin' : 'all'),
    });
    cache.setSnapshot('all', originSnapshot());
    cache.setSnapshot(
      'admin',
      Snapshot.create([
        oddlyEncodedCluster().message,
        makeCluster({ name: 'c2' }),
        makeCluster({ name: 'admin-only' }),
        assignment('c1', 8080),
        assignment('c2', 8081),
      ]),
    );
    const origin = await startOrigin(cache);
    closers.push(() => origin.server.close());
    const { relay, address } = await startRelay([origin.address], { groupBy: 'cluster' });
    closers.push(() => relay.close());

    const first = track(
      downstream(address, 'first', {
        node: {
          id: 'first',
          cluster: 'web',
          metadata: { ROLE: 'admin', [relayGroupKey]: 'api' },
          userAgentName: 'envoy',
          userAgentVersionType: { case: 'userAgentVersion', value: '1.0' },
          clientFeatures: ['xds.config.supports-resource-ttl'],
          locality: { region: 'r9' },
        },
      }),
    );
    first.subscribe(TypeUrl.Cluster, ['*']);
    await first.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size >= 2);
    const second = track(
      downstream(address, 'second', {
        node: {
          id: 'second',
          cluster: 'web',
          userAgentName: 'envoy',
          clientFeatures: ['xds.config.resource-in-sotw'],
        },
      }),
    );
    second.subscribe(TypeUrl.Cluster, ['*']);
    await second.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size >= 2);

    for (const client of [first, second])
      assert.deepEqual(
        [...client.resources(TypeUrl.Cluster).keys()].sort(),
        ['c1', 'c2'],
        'the group gets what the origin gives the group key, not what it gives the first member',
      );
    const upstream = origin.server.clients();
    assert.equal(upstream.length, 1);
    const node = upstream[0]!.node;
    assert.equal(node.id, 'relay~web|ua=envoy');
    assert.equal(node.cluster, 'web');
    assert.deepEqual(node.metadata, { [relayGroupKey]: 'web|ua=envoy', [relayGroupByKey]: 'cluster' });
    assert.equal(node.userAgentName, 'envoy');
    assert.equal(node.userAgentVersionType.case, 'userAgentVersion');
    assert.match(String(node.userAgentVersionType.value), /^\d+\.\d+\.\d+/);
    assert.deepEqual(node.clientFeatures, []);
    assert.equal(node.locality, undefined);
  });
});

describe('relay: the group key', () => {
  it('X4: holds the flavour (user agent name, GENERATOR, relayed features), escaped so keys never collide', () => {
    const byCluster = parseGroupBy('cluster');
    const node = (init: Parameters<typeof create<typeof NodeSchema>>[1]) => create(NodeSchema, init);
    assert.equal(byCluster.keyOf(node({ cluster: 'web' })), 'web');
    const grpc = byCluster.keyOf(
      node({
        cluster: 'web',
        userAgentName: 'gRPC Node',
        metadata: { GENERATOR: 'grpc', ROLE: 'admin' },
        clientFeatures: ['b', 'xds.config.supports-resource-ttl', 'a', 'b'],
        locality: { region: 'r1' },
      }),
    );
    assert.equal(grpc, 'web|ua=gRPC Node|generator=grpc|features=a,b');
    assert.notEqual(byCluster.keyOf(node({ cluster: 'web', userAgentName: 'envoy' })), 'web');
    // A cluster that spells another node's parts is a different key.
    const spelled = byCluster.keyOf(node({ cluster: 'web|ua=envoy' }));
    assert.notEqual(spelled, byCluster.keyOf(node({ cluster: 'web', userAgentName: 'envoy' })));
    for (const parts of [
      { value: 'a|b,c%7C', userAgentName: 'x|y%', generator: 'g,h', features: ['f,1', 'f|2'] },
      { value: '', userAgentName: '', generator: '', features: [] },
    ])
      assert.deepEqual(parseGroupKey(formatGroupKey(parts)), parts);
  });
});
