// Rules X4, L2: a downstream client that turns wildcard on or off in a group costs the group's upstream O(1) work,
// not O(the group's names). The relay used to replace its upstream watch's names with '*' and back (every name out
// of and into the subscription, the held map copied), so one Envoy toggling wildcard in a group of 5,000 names made
// 30,000+ writes (75,000 on and off) and sent every name upstream again; the client now keeps the names beside the wildcard. A real
// origin, the real relay, real delta clients; the work of the group's upstream flush is counted, not timed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster } from '@xds/generator';
import { GroupUpstream } from './group-upstream.js';
import {
  closeAfterAll,
  countWork,
  downstream,
  originKey,
  startOrigin,
  startRelay,
  until,
} from './test-support.js';

const closers = closeAfterAll();

/** The work of the upstream flushes while `during` runs (there must be one: the group's upstream was told). */
async function flushWork(during: () => Promise<void>): Promise<number> {
  const flush = GroupUpstream.prototype.flush;
  let work = 0;
  let flushes = 0;
  GroupUpstream.prototype.flush = function (this: GroupUpstream) {
    flushes++;
    work += countWork(() => flush.call(this));
  };
  try {
    await during();
  } finally {
    GroupUpstream.prototype.flush = flush;
  }
  assert.ok(flushes > 0, 'the group upstream was flushed');
  return work;
}

/** The flush work of one downstream turning wildcard on, then off, in a group of `size` names. */
async function toggleWork(size: number): Promise<{ on: number; off: number }> {
  const names = Array.from({ length: size }, (_, i) => `c${i}`);
  const cache = new SnapshotCache({ nodeKey: () => originKey });
  // The origin holds the group's names and three more, which only the wildcard brings.
  cache.setSnapshot(
    originKey,
    Snapshot.create([...names, 'x1', 'x2', 'x3'].map((name) => makeCluster({ name }))),
  );
  const origin = await startOrigin(cache);
  closers.push(() => origin.server.close());
  const { relay, address } = await startRelay([origin.address]);
  closers.push(() => relay.close());
  const named = downstream(address, 'named', { protocol: 'delta' });
  closers.push(() => named.close());
  named.subscribe(TypeUrl.Cluster, names);
  await named.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === size);
  const entries = () => relay.cache.getSnapshot('web')?.entries(TypeUrl.Cluster).size ?? 0;

  const wild = downstream(address, 'wild', { protocol: 'delta' });
  closers.push(() => wild.close());
  const on = await flushWork(async () => {
    wild.subscribe(TypeUrl.Cluster, ['*']);
    await wild.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === size + 3);
  });
  const upstream = () =>
    origin.server.clients().find((c) => c.nodeId === 'relay~web')?.types[TypeUrl.Cluster];
  assert.equal(upstream()?.wildcard, true, 'the group asks the origin for everything');
  const off = await flushWork(async () => {
    wild.unsubscribe(TypeUrl.Cluster, ['*']);
    await until('the wildcard-only clusters to leave the group', () => entries() === size);
  });
  await until('the upstream to leave the wildcard', () => upstream()?.wildcard === false);
  assert.equal(named.resources(TypeUrl.Cluster).size, size, 'the named client keeps what it holds');
  return { on, off };
}

describe('relay: the cost of a wildcard toggle', () => {
  it('X4, L2: a downstream toggling wildcard costs the same upstream work in a group of 5,000 names as in one of 500', {
    timeout: 240_000,
  }, async () => {
    const small = await toggleWork(500);
    const large = await toggleWork(5000);
    for (const way of ['on', 'off'] as const) {
      // Before: 30,003 writes to turn it on and 45,038 to turn it off at 5,000 names (3,003 and 4,538 at 500).
      assert.ok(large[way] < 300, `${large[way]} writes to turn the wildcard ${way} in a group of 5,000`);
      assert.ok(large[way] <= small[way] + 50, `${large[way]} at 5,000 vs ${small[way]} at 500 (${way})`);
    }
  });
});
