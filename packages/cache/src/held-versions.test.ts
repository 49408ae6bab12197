import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { HeldVersions } from './held-versions.js';
import { internNames } from './name-set.js';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { assignment, cluster } from './test-resources.js';
import { delta, sotw } from './test-watch.js';

const { Cluster, Endpoint } = TypeUrl;

function manyAssignments(n: number, port: number) {
  return Array.from({ length: n }, (_, i) => assignment(`c${i}`, port + i));
}

describe('HeldVersions', () => {
  it('reads through to its base and records differences', () => {
    const snap = Snapshot.create(manyAssignments(3, 1000));
    const entries = snap.entries(Endpoint);
    const held = HeldVersions.of(entries);
    assert.equal(held.get('c1'), entries.get('c1')?.version);
    held.set('c1', 'other');
    held.delete('c2');
    held.set('x', 'vx');
    assert.equal(held.get('c1'), 'other');
    assert.equal(held.get('c2'), undefined);
    assert.deepEqual([...held.keys()].sort(), ['c0', 'c1', 'x']);
    assert.equal(held.ownSize, 3);
    held.set('c1', entries.get('c1')!.version);
    assert.equal(held.ownSize, 2, 'setting the base version drops the difference');
  });

  it('restricted to a subscription, holds only the subscribed names of its base, and compacts keeping it', () => {
    const before = Snapshot.create(manyAssignments(300, 1000));
    const entries = before.entries(Endpoint);
    const only = new Set(Array.from({ length: 200 }, (_, i) => `c${i}`).concat('missing'));
    const held = HeldVersions.of(entries, only);
    assert.equal(held.get('c5'), entries.get('c5')?.version);
    assert.equal(held.get('c250'), undefined, 'not subscribed');
    assert.equal(held.get('missing'), undefined, 'subscribed, not in the base');
    assert.equal([...held.keys()].length, 200);
    assert.equal(held.empty, false);
    assert.equal(held.delete('c250'), false);
    assert.equal(held.ownSize, 0, 'forgetting an unheld name records nothing');
    held.delete('c7');
    held.set('c250', 'v250');
    assert.deepEqual([held.get('c7'), held.get('c250')], [undefined, 'v250']);
    assert.equal([...held.keys()].length, 200);
    // 150 of the subscribed names change; compacting onto the new snapshot keeps the restriction.
    const after = before.update((d) => {
      for (let i = 0; i < 150; i++) d[Endpoint][`c${i}`] = assignment(`c${i}`, 7000 + i);
    });
    for (let i = 0; i < 150; i++)
      if (i !== 7) held.set(`c${i}`, after.entries(Endpoint).get(`c${i}`)!.version);
    const keys = new Set(held.keys());
    held.compact(after.entries(Endpoint));
    assert.ok(held.ownSize <= 2, `after compacting: ${held.ownSize} own entries (c7 dropped, c250 extra)`);
    assert.deepEqual(new Set(held.keys()), keys);
    assert.equal(held.get('c251'), undefined);
    assert.equal(HeldVersions.of(entries, new Set()).empty, true);
  });

  it('compacts onto a new snapshot when that makes it smaller', () => {
    const before = Snapshot.create(manyAssignments(200, 1000));
    const held = HeldVersions.of(before.entries(Endpoint));
    const after = before.update((d) => {
      for (let i = 0; i < 100; i++) d[Endpoint][`c${i}`] = assignment(`c${i}`, 5000 + i);
    });
    for (let i = 0; i < 100; i++) held.set(`c${i}`, after.entries(Endpoint).get(`c${i}`)!.version);
    assert.equal(held.ownSize, 100);
    held.compact(after.entries(Endpoint));
    assert.equal(held.ownSize, 0);
    assert.equal(held.get('c150'), after.entries(Endpoint).get('c150')?.version);
  });
});

describe('per-stream memory', () => {
  it('streams holding a snapshot as it is keep no per-resource state of their own', () => {
    const cache = new SnapshotCache();
    const names = Array.from({ length: 500 }, (_, i) => `c${i}`);
    cache.setSnapshot('n', Snapshot.create([...names.map((n) => cluster(n)), ...manyAssignments(500, 1000)]));
    const cds = Array.from({ length: 50 }, () => sotw(cache, 'n', Cluster));
    const eds = Array.from({ length: 50 }, () => sotw(cache, 'n', Endpoint));
    const deltas = Array.from({ length: 50 }, () => delta(cache, 'n', Endpoint));
    for (const w of cds) w.request([]);
    for (const w of eds) w.request([...names]);
    for (const w of deltas) w.request([...names]);
    for (const w of [...cds, ...eds, ...deltas]) assert.ok(w.take());
    for (const w of cds) assert.equal(w.watch.sent.ownSize, 0);
    for (const w of eds) assert.equal(w.watch.sent.ownSize, 0);
    for (const w of deltas) assert.equal(w.watch.known.ownSize, 0);
    // One subscription set shared by all the streams that asked for the same names.
    assert.equal(new Set(eds.map((w) => w.watch.subscribed)).size, 1);
    // A 1% change adds a little per stream, and compaction keeps it bounded over many changes.
    for (let round = 0; round < 40; round++) {
      cache.updateSnapshot('n', (d) => {
        for (let i = 0; i < 5; i++)
          d[Endpoint][`c${(round * 5 + i) % 500}`] = assignment(`c${(round * 5 + i) % 500}`, 9000 + round);
      });
      for (const w of [...eds, ...deltas]) assert.equal(w.take()?.resources.length, 5);
    }
    for (const w of eds)
      assert.ok(w.watch.sent.ownSize <= 16 + 500 / 8, `${w.watch.sent.ownSize} own entries`);
    for (const w of deltas)
      assert.ok(w.watch.known.ownSize <= 16 + 500 / 8, `${w.watch.known.ownSize} own entries`);
  });

  it('interns equal subscriptions', () => {
    const a = internNames(new Set(['a', 'b', 'c', 'd', 'e']));
    const b = internNames(new Set(['a', 'b', 'c', 'd', 'e']));
    assert.equal(a, b);
    assert.notEqual(internNames(new Set(['e', 'd', 'c', 'b', 'a', 'f'])), a);
  });
});
