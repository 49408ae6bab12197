// `maxGroups` bounds the relay's upstream streams (rule L2), idle groups included: a group whose last client left
// keeps its upstream stream for `groupIdleMs`, and counts; when a new group needs room, the oldest idle one gives way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { closeAfterAll, downstream, nextEvent, startOriginAndRelay, until } from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

describe('relay: idle groups', () => {
  it('L2, X4: idle groups count toward maxGroups; the oldest idle one gives way to a new group', async () => {
    const { origin, relay, address } = await startOriginAndRelay(closers, {
      maxGroups: 2,
      groupIdleMs: 600_000,
    });
    for (const group of ['a', 'b', 'c', 'd']) {
      const client = downstream(address, group, { node: { id: group, cluster: group } });
      client.subscribe(TypeUrl.Cluster, ['c1']);
      await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c1'));
      const closed = nextEvent(relay.server, 'streamClose');
      await client.close();
      await closed;
      await until(`group ${group} idle`, () => !relay.cache.groups().includes(group));
      assert.ok(relay.groups().length <= 2, `${relay.groups().length} upstream groups, past maxGroups 2`);
    }
    await until('the origin to see at most 2 upstream streams', () => origin.server.clients().length <= 2);
    assert.deepEqual(
      relay
        .groups()
        .map((g) => g.group)
        .sort(),
      ['c', 'd'],
    );
    const late = track(downstream(address, 'e', { node: { id: 'e', cluster: 'e' } }));
    late.subscribe(TypeUrl.Cluster, ['c2']);
    await late.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c2'));
  });
});
