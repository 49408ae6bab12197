// The memo keeps what the live models use, not what the process ever built (fuzz finding 4), and still gives the
// same objects for unchanged resources across generations (rules R3, S8).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import type { ServiceModel } from '../model/types.js';
import { publishModel } from '../push/publish.js';
import { bookinfo, withEndpointPort } from '../test-bookinfo.js';
import { split } from '../test-resources.js';
import { generateEnvoy } from './envoy.js';
import { ResourceMemo } from './memo.js';

/** Generation `i` of a model whose endpoints move every time (a new port for one endpoint of each service). */
function churned(model: ServiceModel, i: number): ServiceModel {
  let out = model;
  for (const service of model.services) out = withEndpointPort(out, service.name, 0, 10_000 + i);
  return out;
}

/** What a memo holds after one generation of each model alone: the live entries. */
function live(models: readonly ServiceModel[]): { entries: number; bytes: number } {
  const memo = new ResourceMemo({ maxSpareEntries: 0, maxSpareBytes: 0 });
  for (const model of models) publishModel(new SnapshotCache(), model, { memo });
  return { entries: memo.size, bytes: memo.bytes };
}

describe('memo bounded by the live models', () => {
  it('R3: after 100 churning generations of a model, it holds what the latest generation uses, no more', () => {
    const memo = new ResourceMemo({ maxSpareEntries: 0, maxSpareBytes: 0 });
    const cache = new SnapshotCache();
    const model = bookinfo();
    publishModel(cache, model, { memo });
    const first = { entries: memo.size, bytes: memo.bytes };
    for (let i = 1; i <= 100; i++) publishModel(cache, churned(model, i), { memo });
    const expected = live([churned(model, 100)]);
    assert.equal(memo.size, expected.entries);
    assert.equal(memo.bytes, expected.bytes);
    assert.equal(memo.size, first.entries, 'the same shape of model, the same number of entries');
    assert.equal(memo.stats().spareEntries, 0);
  });

  it('R3: with the default bounds, what churned away is kept up to the spare bounds only', () => {
    const memo = new ResourceMemo();
    const cache = new SnapshotCache();
    const model = bookinfo();
    for (let i = 0; i < 250; i++) publishModel(cache, churned(model, i), { memo });
    const expected = live([churned(model, 249)]);
    const stats = memo.stats();
    assert.ok(stats.spareEntries <= 2_000 && stats.spareBytes <= 4 * 1024 * 1024, JSON.stringify(stats));
    assert.equal(stats.entries - stats.spareEntries, expected.entries, 'owned: the live model exactly');
    assert.ok(stats.misses > expected.entries + 2_000, 'more was built than is kept');
  });

  it('a second model (another cache) keeps its entries while the first churns, and they are the same objects', () => {
    const memo = new ResourceMemo({ maxSpareEntries: 0, maxSpareBytes: 0 });
    const first = new SnapshotCache();
    const second = new SnapshotCache();
    const other: ServiceModel = { ...bookinfo(), domain: 'other.local' };
    const published = publishModel(second, other, { memo });
    for (let i = 0; i < 50; i++) publishModel(first, churned(bookinfo(), i), { memo });
    const { misses } = memo.stats();
    const again = publishModel(second, structuredClone(other), { memo });
    assert.equal(memo.stats().misses, misses, 'nothing of the second model was built again');
    for (const flavour of ['envoy', 'grpc'] as const) {
      assert.equal(
        again[flavour]?.snapshot,
        published[flavour]?.snapshot,
        `${flavour}: the snapshot did not change`,
      );
      assert.equal(again[flavour]?.changes.size, 0);
    }
    const expected = live([churned(bookinfo(), 49), other]);
    assert.equal(memo.size, expected.entries, 'both live models, nothing else');
  });

  it('two flavours of one cache share assignments: each flavour sweeps only what it stopped using', () => {
    const memo = new ResourceMemo({ maxSpareEntries: 0, maxSpareBytes: 0 });
    const cache = new SnapshotCache();
    publishModel(cache, bookinfo(), { memo });
    const grpcAssignments = cache.getSnapshot('grpc')!.resources(TypeUrl.Endpoint);
    // Envoy's slot moves on; the grpc slot still uses the first model's assignments, so they stay.
    publishModel(cache, churned(bookinfo(), 1), { memo, flavours: ['envoy'] });
    const { misses } = memo.stats();
    publishModel(cache, bookinfo(), { memo, flavours: ['envoy'] });
    assert.equal(memo.stats().misses, misses, 'nothing built again');
    const envoyAssignments = cache.getSnapshot('envoy')!.resources(TypeUrl.Endpoint);
    assert.ok(envoyAssignments.size > 0);
    for (const [name, cla] of envoyAssignments) assert.equal(cla, grpcAssignments.get(name), name);
  });

  it('S8: parts reused whole keep their own parts: a later endpoint change rebuilds only the assignments', () => {
    const memo = new ResourceMemo({ maxSpareEntries: 0, maxSpareBytes: 0 });
    const owner = {};
    const model = bookinfo();
    const before = generateEnvoy(model, { memo, owner });
    // ratings moves: reviews' clusters come from its memoized service parts, not looked up one by one.
    const ratings = withEndpointPort(model, 'ratings', 0, 9186 + 100);
    generateEnvoy(ratings, { memo, owner });
    const after = generateEnvoy(withEndpointPort(ratings, 'reviews', 0, 9183), { memo, owner });
    const changed = after.filter((message, i) => message !== before[i]);
    assert.deepEqual(
      split(changed).clusters,
      [],
      'every cluster is the very same object as two generations ago',
    );
    assert.deepEqual(
      split(changed)
        .assignments.map((a) => a.clusterName)
        .sort(),
      [
        'outbound|9080|v1|reviews.default.svc.cluster.local',
        'outbound|9080||reviews.default.svc.cluster.local',
        'outbound|9080||ratings.default.svc.cluster.local',
      ].sort(),
    );
    assert.equal(changed.length, 3);
  });

  it('release() lets go of an owner; a failed generation keeps the previous one', () => {
    const memo = new ResourceMemo({ maxSpareEntries: 0, maxSpareBytes: 0 });
    const owner = {};
    const model = bookinfo();
    const resources = generateEnvoy(model, { memo, owner, slot: 'a' });
    const held = memo.size;
    assert.ok(held > 0);
    assert.throws(() =>
      memo.generation({ owner, slot: 'a' }, () => {
        memo.get('k', { x: 1 }, () => ({ x: 1 }));
        throw new Error('model broke half way');
      }),
    );
    assert.equal(memo.size, held, 'what the failed generation built is spare (and the spare holds nothing)');
    assert.deepEqual(generateEnvoy(model, { memo, owner, slot: 'a' }), resources);
    assert.equal(memo.stats().misses, held + 1, 'nothing built again');
    memo.release(owner);
    assert.equal(memo.size, 0);
    assert.equal(memo.stats().slots, 0);
  });

  it('a generation without owner leaves only spare entries, within the spare bounds', () => {
    const memo = new ResourceMemo({ maxSpareEntries: 10 });
    generateEnvoy(bookinfo(), { memo });
    assert.equal(memo.size, 10);
    assert.equal(memo.stats().spareEntries, 10);
  });
});
