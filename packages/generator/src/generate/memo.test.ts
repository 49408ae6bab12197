import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { encodeCount, Snapshot } from '@xds/cache';
import { bookinfo, withEndpointPort } from '../test-bookinfo.js';
import { split } from '../test-resources.js';
import { generateEnvoy } from './envoy.js';
import { generateGrpc } from './grpc.js';
import { ResourceMemo } from './memo.js';

describe('memoized generation', () => {
  it('an equal model (even a fresh copy) gives the very same, frozen, message objects', () => {
    const memo = new ResourceMemo();
    const first = generateEnvoy(bookinfo(), { memo });
    const second = generateEnvoy(structuredClone(bookinfo()), { memo });
    assert.equal(second.length, first.length);
    for (const [i, message] of second.entries()) assert.equal(message, first[i]);
    for (const message of first) assert.ok(Object.isFrozen(message));
  });

  it('an endpoint-only change rebuilds only the assignments that hold the endpoint', () => {
    const memo = new ResourceMemo();
    const model = bookinfo();
    const before = generateEnvoy(model, { memo });
    const after = generateEnvoy(withEndpointPort(model, 'reviews', 0, 9183), { memo });
    const changed = after.filter((message, i) => message !== before[i]);
    assert.deepEqual(
      split(changed).assignments.map((a) => a.clusterName),
      [
        'outbound|9080||reviews.default.svc.cluster.local',
        'outbound|9080|v1|reviews.default.svc.cluster.local',
      ],
    );
    assert.equal(changed.length, 2);
  });

  it('R3: so the snapshot of the new model encodes only the changed resources', () => {
    const memo = new ResourceMemo();
    const model = bookinfo();
    const previous = Snapshot.create(generateEnvoy(model, { memo }));
    const start = encodeCount();
    const next = Snapshot.create(generateEnvoy(withEndpointPort(model, 'ratings', 0, 9186 + 100), { memo }));
    assert.equal(encodeCount() - start, 1, 'only the ratings ClusterLoadAssignment is encoded');
    for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.Route]) {
      assert.equal(next.version(typeUrl), previous.version(typeUrl));
    }
    assert.notEqual(next.version(TypeUrl.Endpoint), previous.version(TypeUrl.Endpoint));
  });

  it('clusters and assignments are the same objects in both flavours', () => {
    const memo = new ResourceMemo();
    const envoy = split(generateEnvoy(bookinfo(), { memo }));
    const grpc = split(generateGrpc(bookinfo(), { memo }));
    assert.deepEqual(grpc.clusters, envoy.clusters);
    for (const [i, cluster] of grpc.clusters.entries()) assert.equal(cluster, envoy.clusters[i]);
    for (const [i, cla] of grpc.assignments.entries()) assert.equal(cla, envoy.assignments[i]);
  });

  it('spare entries (no owner) are bounded: the least recently used go first', () => {
    const memo = new ResourceMemo({ maxSpareEntries: 2 });
    const a = memo.get('k', { a: 1 }, () => ({ v: 'a' }));
    memo.get('k', { b: 1 }, () => ({ v: 'b' }));
    assert.equal(
      memo.get('k', { a: 1 }, () => ({ v: 'a2' })),
      a,
    );
    memo.get('k', { c: 1 }, () => ({ v: 'c' }));
    assert.equal(memo.size, 2);
    assert.equal(
      memo.get('k', { a: 1 }, () => ({ v: 'a3' })),
      a,
      'a was used last, so b went',
    );
    assert.equal(memo.get('k', { b: 1 }, () => ({ v: 'b2' })).v, 'b2');
    assert.deepEqual([memo.stats().hits, memo.stats().misses], [2, 4]);
  });

  it('spare entries are bounded in estimated bytes too', () => {
    const memo = new ResourceMemo({ maxSpareBytes: 10_000 });
    for (let i = 0; i < 100; i++) memo.get('k', { i }, () => ({ text: 'x'.repeat(1000), i }));
    assert.ok(memo.bytes <= 10_000, `${memo.bytes} estimated bytes`);
    assert.ok(memo.size >= 5 && memo.size < 10, `${memo.size} entries of ~1 KB`);
    assert.equal(
      memo.get('k', { i: 99 }, () => ({ text: '', i: 99 })).text.length,
      1000,
      'the newest stayed',
    );
  });

  it('keys ignore object key order', () => {
    const memo = new ResourceMemo();
    assert.equal(memo.key('x', { a: 1, b: { c: 2, d: 3 } }), memo.key('x', { b: { d: 3, c: 2 }, a: 1 }));
    assert.notEqual(memo.key('x', { a: 1 }), memo.key('y', { a: 1 }));
  });
});
