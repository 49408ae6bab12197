// Rules X4, L2: an upstream update of a relay group costs O(the change), not O(the group's resources). An origin
// changing 1 of 5,000 clusters every few milliseconds used to cost the relay a copy of the group's 5,000-entry map
// and a walk of its 5,000-key draft record per update (Snapshot.update), which starved its event loop. Work is
// counted, not timed (countWork): Map and Set entries written, objects frozen and persistent-map slots copied per
// update, in groups of 500 and 5,000 clusters; the snapshots stay immutable and carry the origin's versions (rule X1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toBinary } from '@bufbuild/protobuf';
import { ClusterSchema, TypeUrl } from '@xds/api';
import type { XdsResource } from '@xds/client';
import { makeCluster } from '@xds/generator';
import { parseGroupBy } from './group-by.js';
import { RelayCache } from './relay-cache.js';
import { countWork } from './test-support.js';

function cluster(name: string, timeoutMs: number): XdsResource {
  const message = makeCluster({ name, connectTimeoutMs: timeoutMs });
  return { typeUrl: TypeUrl.Cluster, name, version: '', message, bytes: toBinary(ClusterSchema, message) };
}

/** The work per update of one cluster in a group of `size` clusters, over `updates` updates. */
function workPerUpdate(size: number, updates: number): { perUpdate: number; cache: RelayCache } {
  const hooks = { groupOpened() {}, interestChanged() {}, groupIdle() {} };
  const cache = new RelayCache(parseGroupBy('cluster'), hooks);
  const all = Array.from({ length: size }, (_, i) => cluster(`c${i}`, 1000));
  cache.apply('g', TypeUrl.Cluster, 'v0', all, []);
  const changes = Array.from({ length: updates }, (_, i) => cluster(`c${(i * 7) % size}`, 2000 + i));
  const work = countWork(() => {
    for (const [i, change] of changes.entries()) cache.apply('g', TypeUrl.Cluster, `v${i + 1}`, [change], []);
  });
  return { perUpdate: work / updates, cache };
}

describe('relay: the cost of an upstream update', () => {
  it('X4, L2: one changed cluster costs the same work in a group of 5,000 as in a group of 500', () => {
    const small = workPerUpdate(500, 400);
    const large = workPerUpdate(5000, 400);
    // Before: 5,000+ Map writes per update in the large group (its map copied), 500+ in the small one.
    assert.ok(
      large.perUpdate < 200,
      `${large.perUpdate} writes, freezes and copies per update of 1 in 5,000`,
    );
    assert.ok(large.perUpdate < small.perUpdate * 2 + 50, `${large.perUpdate} vs ${small.perUpdate} at 500`);
    // X1: the snapshot carries the origin's version and the last content; it stays frozen.
    const snapshot = large.cache.getSnapshot('g')!;
    assert.equal(snapshot.version(TypeUrl.Cluster), 'v400');
    assert.equal(snapshot.entries(TypeUrl.Cluster).size, 5000);
    const last = snapshot.resources(TypeUrl.Cluster).get(`c${(399 * 7) % 5000}`)!;
    assert.equal(
      Number(last.connectTimeout?.seconds ?? 0n) * 1000 + (last.connectTimeout?.nanos ?? 0) / 1e6,
      2399,
    );
    assert.ok(Object.isFrozen(last) && Object.isFrozen(last.connectTimeout));
  });
});
