// `handle.setWildcard(on)`: a watch turns its wildcard on and off keeping its names (`["*", "A"]`, rules S9, D7), so
// a toggle costs O(1) however many names it watches (rule L2), where replacing its names with `'*'` and back cost
// O(names) and sent every name again. Delta sends just `"*"` (rule D2), SotW the whole subscription (rule S7); leaving
// the wildcard forgets what only it held. A real XdsServer on loopback; work is counted, not timed.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import type { RequestEvent } from '@xds/server';
import { XdsClient } from './index.js';
import { cluster, countWrites, nextEvent, serve } from './test-support.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

/** A server holding clusters c1, c2 and x1 for node n1, and a client of `protocol` to it. */
async function setUp(protocol: 'sotw' | 'delta', names: readonly string[] = ['c1', 'c2', 'x1']) {
  const cache = new SnapshotCache();
  cache.setSnapshot('n1', Snapshot.create(names.map((name) => cluster(name))));
  const { server, address } = await serve(cache);
  closers.push(() => server.close());
  const client = new XdsClient({ servers: [address], node: 'n1', protocol });
  closers.push(() => client.close());
  return { server, client };
}

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient watch setWildcard() (${protocol})`, () => {
    it('S9, D7: turns the wildcard on and off keeping the names; leaving it forgets what only it held', async () => {
      const { server, client } = await setUp(protocol);
      const first = nextEvent(client, 'update', (e) => e.typeUrl === TypeUrl.Cluster);
      const handle = client.watch(TypeUrl.Cluster, ['c1', 'c2'], () => {});
      await first;
      assert.equal(handle.wildcard, false);

      const into = nextEvent(server, 'request', (e: RequestEvent) => e.names.includes('*'));
      const x1 = nextEvent(
        client,
        'update',
        (e) => e.typeUrl === TypeUrl.Cluster && e.updated.includes('x1'),
      );
      assert.deepEqual(handle.setWildcard(true), []);
      assert.equal(handle.wildcard, true);
      const sent = await into;
      if (protocol === 'delta') assert.deepEqual(sent.names, ['*'], 'delta subscribes "*" alone');
      else assert.deepEqual([...sent.names].sort(), ['*', 'c1', 'c2'], 'SotW sends the whole subscription');
      await x1;
      assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()].sort(), ['c1', 'c2', 'x1']);

      // Names change beside the wildcard, and count once it is off.
      handle.change(['c3'], ['c2']);
      assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()].sort(), ['c1', 'c2', 'x1']);
      const out = nextEvent(server, 'request', (e: RequestEvent) =>
        protocol === 'delta' ? e.unsubscribe.includes('*') : !e.names.includes('*'),
      );
      assert.deepEqual([...handle.setWildcard(false)].sort(), ['c2', 'x1'], 'what only the wildcard held');
      const left = await out;
      if (protocol === 'delta') assert.deepEqual(left.unsubscribe, ['*']);
      else assert.deepEqual([...left.names].sort(), ['c1', 'c3']);
      assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()], ['c1']);
      assert.deepEqual(handle.setWildcard(false), [], 'turning it off again changes nothing');
    });
  });
}

describe('XdsClient watch setWildcard() cost', () => {
  /** The Map and Set writes of turning the wildcard on and off in a delta watch of `size` names. */
  async function toggleCost(size: number): Promise<{ on: number; off: number }> {
    const names = Array.from({ length: size }, (_, i) => `n${i}`);
    const { client } = await setUp('delta', ['x1', 'x2']);
    const acked = nextEvent(client, 'ack', (e) => e.typeUrl === TypeUrl.Cluster);
    const handle = client.watch(TypeUrl.Cluster, names, () => {});
    await acked;
    const on = countWrites(() => handle.setWildcard(true));
    await nextEvent(client, 'update', (e) => e.typeUrl === TypeUrl.Cluster && e.updated.includes('x2'));
    let forgotten: readonly string[] = [];
    const off = countWrites(() => {
      forgotten = handle.setWildcard(false);
    });
    assert.deepEqual([...forgotten].sort(), ['x1', 'x2']);
    await client.close();
    return { on, off };
  }

  it('L2, D7: a wildcard toggle in a watch of 5,000 names costs what it costs in one of 500', async () => {
    const small = await toggleCost(500);
    const large = await toggleCost(5000);
    // Before setWildcard (setNames('*') and back): each way took every name out of and into the subscription,
    // 15,000+ writes at 5,000 names.
    for (const way of ['on', 'off'] as const) {
      assert.ok(large[way] < 200, `${large[way]} writes to turn the wildcard ${way} at 5,000 names`);
      assert.ok(large[way] <= small[way] + 20, `${large[way]} at 5,000 vs ${small[way]} at 500 (${way})`);
    }
  });
});
