import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import type { XdsTestClient } from '@xds/testing';
import {
  assignment,
  closeAfterAll,
  downstream,
  nextEvent,
  oddlyEncodedCluster,
  originKey,
  startOriginAndRelay,
  until,
} from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

for (const upstream of ['sotw', 'delta'] as const) {
  for (const protocol of ['sotw', 'delta'] as const) {
    describe(`relay: ${protocol} downstream behind a ${upstream} upstream`, () => {
      it('X1, X2: downstream clients get the origin versions and the bytes it sent, over ADS and per-type streams', async () => {
        const { origin, address } = await startOriginAndRelay(closers, { upstreamProtocol: upstream });
        const direct = track(downstream(origin.address, 'direct', { protocol }));
        const relayed = track(downstream(address, 'relayed', { protocol }));
        const perType = track(downstream(address, 'per-type', { protocol, ads: false }));
        for (const client of [direct, relayed, perType]) {
          client.subscribe(TypeUrl.Cluster, ['*']);
          client.subscribe(TypeUrl.Endpoint, ['c1']);
        }
        for (const client of [direct, relayed, perType]) {
          await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
          await client.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c1'));
        }
        const bytes = oddlyEncodedCluster().bytes;
        for (const client of [relayed, perType]) {
          const ours = client.responses(TypeUrl.Cluster).at(-1)!;
          const theirs = direct.responses(TypeUrl.Cluster).at(-1)!;
          if (ours.protocol === 'sotw' && theirs.protocol === 'sotw') {
            assert.equal(ours.versionInfo, theirs.versionInfo, 'X1: the SotW version is the origin one');
            const c1 = ours.raw.resources.find((_any, i) => ours.names[i] === 'c1');
            assert.deepEqual(
              Buffer.from(c1?.value ?? []),
              Buffer.from(bytes),
              'X2: the bytes the origin sent',
            );
          } else if (ours.protocol === 'delta' && theirs.protocol === 'delta') {
            const versions = (r: typeof ours) =>
              r.protocol === 'delta' ? Object.fromEntries(r.resources.map((x) => [x.name, x.version])) : {};
            assert.deepEqual(
              versions(ours),
              versions(theirs),
              'X1: per-resource versions are the origin ones',
            );
            const c1 = ours.resources.find((x) => x.name === 'c1');
            assert.deepEqual(
              Buffer.from(c1?.raw.resource?.value ?? []),
              Buffer.from(bytes),
              'X2: the bytes the origin sent',
            );
          } else assert.fail('mixed protocols');
        }
        // A change at the origin reaches the relayed clients.
        const moved = relayed.waitFor(
          TypeUrl.Endpoint,
          (r) => r.names.includes('c1') && r.versionInfo !== '',
        );
        const before = relayed.responses(TypeUrl.Endpoint).length;
        origin.cache.updateSnapshot(originKey, (draft) => {
          draft[TypeUrl.Endpoint]['c1'] = assignment('c1', 9090);
        });
        await relayed.waitFor(TypeUrl.Endpoint, () => relayed.responses(TypeUrl.Endpoint).length > before);
        await moved;
        assert.equal(origin.server.clients().filter((c) => c.nodeId === 'relay~web').length, 1);
      });
    });
  }
}

describe('relay: fan-in', () => {
  it('X4: 50 downstream clients of one group hold one upstream stream with the union of their names', async () => {
    const { origin, relay, address } = await startOriginAndRelay(closers);
    const clients: XdsTestClient[] = [];
    for (let i = 0; i < 50; i++) {
      const client = track(downstream(address, `n${i}`, { protocol: i % 2 === 0 ? 'sotw' : 'delta' }));
      client.subscribe(TypeUrl.Cluster, ['*']);
      client.subscribe(TypeUrl.Endpoint, [i % 2 === 0 ? 'c1' : 'c2']);
      clients.push(client);
    }
    for (const [i, client] of clients.entries()) {
      await client.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has(i % 2 === 0 ? 'c1' : 'c2'));
    }
    const upstreams = origin.server.clients();
    assert.deepEqual(
      upstreams.map((c) => [c.nodeId, c.streams]),
      [['relay~web', 1]],
    );
    await until('the union of names upstream', () => {
      const eds = origin.server.clients()[0]?.types[TypeUrl.Endpoint];
      return eds !== undefined && [...eds.subscribed].sort().join() === 'c1,c2';
    });
    assert.equal(relay.server.clients().length, 50);
  });

  it('X4: another group gets its own upstream stream, named relay~GROUP', async () => {
    const { origin, relay, address } = await startOriginAndRelay(closers);
    const a = track(downstream(address, 'a'));
    const b = track(downstream(address, 'b', { node: { id: 'b', cluster: 'api' } }));
    for (const client of [a, b]) client.subscribe(TypeUrl.Cluster, ['*']);
    await Promise.all([a.next(TypeUrl.Cluster), b.next(TypeUrl.Cluster)]);
    assert.deepEqual(
      origin.server
        .clients()
        .map((c) => c.nodeId)
        .sort(),
      ['relay~api', 'relay~web'],
    );
    assert.deepEqual(
      relay
        .groups()
        .map((g) => g.group)
        .sort(),
      ['api', 'web'],
    );
  });
});

describe('relay: groups', () => {
  it('L2: a node of one group more than --max-groups is refused with RESOURCE_EXHAUSTED naming the limit', async () => {
    const { origin, address } = await startOriginAndRelay(closers, { maxGroups: 1 });
    const first = track(downstream(address, 'a'));
    first.subscribe(TypeUrl.Cluster, []);
    await first.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
    const other = track(downstream(address, 'b', { node: { id: 'b', cluster: 'api' } }));
    other.subscribe(TypeUrl.Cluster, []);
    const end = await other.ended();
    assert.equal(end.code, 8, end.details);
    assert.match(end.details, /--max-groups/);
    assert.deepEqual(
      origin.server.clients().map((c) => c.nodeId),
      ['relay~web'],
    );
  });

  it('S9: a legacy wildcard downstream (empty names) is a wildcard upstream; an idle group lets its upstream go', async () => {
    const { origin, relay, address } = await startOriginAndRelay(closers, { groupIdleMs: 1 });
    const client = downstream(address, 'envoy-like');
    client.subscribe(TypeUrl.Cluster, []);
    await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
    await until(
      'a wildcard upstream',
      () => origin.server.clients()[0]?.types[TypeUrl.Cluster]?.wildcard === true,
    );
    const closed = nextEvent(origin.server, 'streamClose');
    await client.close();
    await closed;
    await until('the group to go', () => relay.groups().length === 0);
    assert.equal(relay.cache.getSnapshot('web'), undefined);
  });
});
