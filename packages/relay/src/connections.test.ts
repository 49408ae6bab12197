// Rule X4 needs every group's upstream stream: the relay spreads its groups over upstream connections
// (`groupsPerConnection`), so an origin's cap on streams per connection (`maxStreamsPerConnection`) never leaves
// groups without a stream. A real origin XdsServer with a small cap, the real relay, real downstream clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import { ConnectionSlots } from './connection-slots.js';
import { closeAfterAll, downstream, originKey, originSnapshot, startRelay, until } from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

describe('relay: upstream connections', () => {
  it('X4: groups past an origin maxStreamsPerConnection still get their own upstream stream', {
    timeout: 30_000,
  }, async () => {
    const cache = new SnapshotCache({ nodeKey: () => originKey });
    cache.setSnapshot(originKey, originSnapshot());
    const origin = new XdsServer({ cache, closeGraceMs: 200, limits: { maxStreamsPerConnection: 3 } });
    const port = await origin.listen('127.0.0.1:0');
    closers.push(() => origin.close());
    const { relay, address } = await startRelay([`127.0.0.1:${port}`], { groupsPerConnection: 2 });
    closers.push(() => relay.close());
    const clients = Array.from({ length: 7 }, (_, i) =>
      track(downstream(address, `n${i}`, { node: { id: `n${i}`, cluster: `group-${i}` } })),
    );
    for (const client of clients) client.subscribe(TypeUrl.Cluster, ['c1']);
    for (const client of clients) await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c1'));
    await until('7 upstream streams at the origin', () => origin.clients().length === 7);
    assert.deepEqual(
      origin
        .clients()
        .map((c) => c.nodeId)
        .sort(),
      clients.map((_, i) => `relay~group-${i}`).sort(),
    );
  });

  it('X4: at most groupsPerConnection groups share a slot; a freed slot is reused first', () => {
    const slots = new ConnectionSlots(2);
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e'].map((g) => slots.acquire(g)),
      [0, 0, 1, 1, 2],
    );
    assert.equal(slots.acquire('a'), 0, 'a group keeps its slot');
    slots.release('c');
    assert.equal(slots.acquire('f'), 1);
    assert.equal(slots.connections(), 3);
    assert.throws(() => new ConnectionSlots(0), /groupsPerConnection/);
  });
});
