import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { LinearCache } from './linear-cache.js';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { assignment } from './test-resources.js';
import { sotw } from './test-watch.js';

const { Endpoint } = TypeUrl;

/** A snapshot of `n` assignments `a0`…, `a<i>` on port `port(i)` (undefined: left out). */
const many = (n: number, port: (i: number) => number | undefined) =>
  Snapshot.create(
    Array.from({ length: n }, (_, i) => i)
      .filter((i) => port(i) !== undefined)
      .map((i) => assignment(`a${i}`, port(i)!)),
  );

const names = (n: number) => Array.from({ length: n }, (_, i) => `a${i}`);

describe('a small push to SotW streams that held the same snapshot (S8, R3)', () => {
  it('S8, R3: a push of a few changes is one list for every such stream, which then hold the snapshot by reference', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot(
      'n1',
      many(300, (i) => 1000 + i),
    );
    const streams = [sotw(cache, 'n1', Endpoint), sotw(cache, 'n1', Endpoint), sotw(cache, 'n1', Endpoint)];
    for (const stream of streams) stream.request(names(300));
    for (const stream of streams) assert.equal(stream.take()?.resources.length, 300);
    for (let push = 1; push <= 3; push++) {
      // Three assignments change (a few: the watches look at the changed names only).
      cache.setSnapshot(
        'n1',
        many(300, (i) => (i % 100 >= 1 && i % 100 <= push ? 2000 * (i % 100) + i : 1000 + i)),
      );
      const [one, two, three] = streams.map((stream) => stream.take());
      assert.deepEqual(
        one?.resources.map((r) => r.name),
        [`a${push}`, `a${100 + push}`, `a${200 + push}`],
      );
      assert.deepEqual(one?.changed, [`a${push}`, `a${100 + push}`, `a${200 + push}`]);
      assert.equal(two?.resources, one?.resources, 'the same list (one encoded body)');
      assert.equal(three?.resources, one?.resources);
      for (const stream of streams) {
        assert.equal(stream.watch.sent.ownSize, 0, 'no per-stream entry: the stream holds the snapshot');
        assert.equal(
          stream.watch.sent.get(`a${push}`),
          cache.getSnapshot('n1')?.entries(Endpoint).get(`a${push}`)?.version,
        );
        assert.equal(stream.take(), undefined, 'nothing more to send');
      }
    }
  });

  it('S8: changes of several snapshots before a take add up, for that stream alone', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot(
      'n1',
      many(50, (i) => 1000 + i),
    );
    const slow = sotw(cache, 'n1', Endpoint);
    const quick = sotw(cache, 'n1', Endpoint);
    for (const stream of [slow, quick]) {
      stream.request(names(50));
      stream.take();
    }
    cache.setSnapshot(
      'n1',
      many(50, (i) => (i === 1 ? 5001 : 1000 + i)),
    );
    assert.deepEqual(quick.names(), ['a1']);
    cache.setSnapshot(
      'n1',
      many(50, (i) => (i === 1 ? 5001 : i === 7 ? 5007 : 1000 + i)),
    );
    assert.deepEqual(quick.names(), ['a7']);
    assert.deepEqual(
      slow
        .take()
        ?.resources.map((r) => r.name)
        .sort(),
      ['a1', 'a7'],
    );
    // Both hold the latest snapshot now: the next push is the same list for both.
    cache.setSnapshot(
      'n1',
      many(50, (i) => (i === 1 ? 5001 : i === 7 ? 5007 : i === 9 ? 5009 : 1000 + i)),
    );
    const [a, b] = [slow.take(), quick.take()];
    assert.deepEqual(
      a?.resources.map((r) => r.name),
      ['a9'],
    );
    assert.equal(b?.resources, a?.resources);
  });

  it('S8, S10: a removed name is not sent and no longer held; when it comes back it is sent again', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot(
      'n1',
      many(20, (i) => 1000 + i),
    );
    const stream = sotw(cache, 'n1', Endpoint);
    stream.request(names(20));
    stream.take();
    cache.setSnapshot(
      'n1',
      many(20, (i) => (i === 3 ? undefined : i === 4 ? 5004 : 1000 + i)),
    );
    assert.deepEqual(stream.names(), ['a4']);
    assert.equal(stream.watch.sent.get('a3'), undefined);
    cache.setSnapshot(
      'n1',
      many(20, (i) => (i === 4 ? 5004 : 1000 + i)),
    );
    assert.deepEqual(stream.names(), ['a3']);
  });

  it('S8: a subscription gets only its own names of a change', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot(
      'n1',
      many(20, (i) => 1000 + i),
    );
    const all = sotw(cache, 'n1', Endpoint);
    const some = sotw(cache, 'n1', Endpoint);
    all.request(names(20));
    some.request(names(10));
    all.take();
    some.take();
    cache.setSnapshot(
      'n1',
      many(20, (i) => (i === 2 || i === 12 ? 5000 + i : 1000 + i)),
    );
    assert.deepEqual(all.names(), ['a2', 'a12']);
    assert.deepEqual(some.names(), ['a2']);
  });

  it('S8: a cache that tells each watch its own change (LinearCache) gets the same answers', () => {
    const cache = new LinearCache(Endpoint, {
      resources: Array.from({ length: 20 }, (_, i) => assignment(`a${i}`, 1000 + i)),
    });
    const one = sotw(cache, 'n1', Endpoint);
    const two = sotw(cache, 'n2', Endpoint);
    one.request(names(20));
    two.request(names(10));
    one.take();
    two.take();
    cache.apply({ set: [assignment('a2', 5002), assignment('a15', 5015)] });
    assert.deepEqual(one.names(), ['a2', 'a15']);
    assert.deepEqual(two.names(), ['a2']);
    assert.equal(one.watch.sent.ownSize, 0);
  });
});
