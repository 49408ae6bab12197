import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, TypeUrl, XdsError } from '@xds/api';
import { LinearCache } from './linear-cache.js';
import { MuxCache } from './mux-cache.js';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { assignment, cluster } from './test-resources.js';
import { delta, sotw } from './test-watch.js';

const { Cluster, Endpoint } = TypeUrl;

describe('LinearCache', () => {
  it('serves one type to every node with per-resource versions', () => {
    const eds = new LinearCache(Endpoint, { resources: [assignment('a', 1), assignment('b', 2)] });
    const x = sotw(eds, 'node-x', Endpoint);
    const y = sotw(eds, 'node-y', Endpoint);
    x.request(['a']);
    y.request(['a', 'b']);
    assert.deepEqual(x.names(), ['a']);
    assert.deepEqual(y.names()?.sort(), ['a', 'b']);
    const before = eds.version;
    eds.update(assignment('b', 3));
    assert.notEqual(eds.version, before);
    assert.equal(x.take(), undefined);
    assert.deepEqual(y.names(), ['b']);
  });

  it('an update wakes only the watches of that name, wildcard watches and glob watches', () => {
    const eds = new LinearCache(Endpoint, { wildcard: true });
    const named = sotw(eds, 'n', Endpoint);
    const other = sotw(eds, 'n', Endpoint);
    const all = sotw(eds, 'n', Endpoint);
    const glob = sotw(eds, 'n', Endpoint);
    const otherGlob = sotw(eds, 'n', Endpoint);
    named.request(['foo/a']);
    other.request(['bar']);
    all.request(['*']);
    glob.request(['foo/*']);
    otherGlob.request(['baz/*']);
    for (const w of [named, other, all, glob, otherGlob]) w.take();
    const before = [named, other, all, glob, otherGlob].map((w) => w.ready);
    eds.update(assignment('foo/a', 1));
    const after = [named, other, all, glob, otherGlob].map((w) => w.ready);
    assert.deepEqual(
      after.map((n, i) => n - before[i]!),
      [1, 0, 1, 1, 0],
    );
    assert.deepEqual(glob.names(), ['foo/a']);
    assert.deepEqual(all.names(), ['foo/a']);
  });

  it('D3, D5: delete sends a removal to delta clients', () => {
    const eds = new LinearCache(Endpoint, { resources: [assignment('a', 1)] });
    const w = delta(eds, 'n', Endpoint);
    w.request(['a']);
    assert.deepEqual(w.diff(), [['a'], []]);
    eds.delete('a');
    assert.deepEqual(w.diff(), [[], ['a']]);
  });

  it('setResources replaces the whole set in one change', () => {
    const eds = new LinearCache(Endpoint, { resources: [assignment('a', 1), assignment('b', 1)] });
    const w = delta(eds, 'n', Endpoint);
    w.request(['a', 'b', 'c']);
    w.take();
    const ready = w.ready;
    eds.setResources([assignment('b', 2), assignment('c', 3)]);
    assert.equal(w.ready, ready + 1);
    assert.deepEqual(w.diff(), [['b', 'c'], ['a']]);
  });

  it('refuses a resource of another type and a watch of another type', () => {
    const eds = new LinearCache(Endpoint);
    assert.throws(
      () => eds.update(cluster('c')),
      (e: unknown) => e instanceof XdsError && /got envoy.config.cluster.v3.Cluster/.test(e.message),
    );
    assert.throws(
      () => sotw(eds, 'n', Cluster),
      (e: unknown) => e instanceof XdsError && e.code === Code.InvalidArgument,
    );
  });
});

describe('MuxCache', () => {
  it('routes watches by type URL, with a fallback', () => {
    const eds = new LinearCache(Endpoint, { resources: [assignment('a', 1)] });
    const snapshots = new SnapshotCache();
    snapshots.setSnapshot('n', Snapshot.create([cluster('c1')]));
    const mux = new MuxCache({ [Endpoint]: eds }, { fallback: snapshots });
    const e = sotw(mux, 'n', Endpoint);
    e.request(['a']);
    assert.deepEqual(e.names(), ['a']);
    assert.equal(eds.watchCount, 1);
    const c = sotw(mux, 'n', Cluster);
    c.request([]);
    assert.deepEqual(c.names(), ['c1']);
    assert.equal(mux.cacheFor(Cluster), snapshots);
  });

  it('a type no cache serves is Unimplemented', () => {
    const mux = new MuxCache({ [Endpoint]: new LinearCache(Endpoint) });
    assert.throws(
      () => sotw(mux, 'n', Cluster),
      (e: unknown) => e instanceof XdsError && e.code === Code.Unimplemented && e.message.includes('Cluster'),
    );
  });
});
