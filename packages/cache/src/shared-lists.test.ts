import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { assignment } from './test-resources.js';
import { sotw } from './test-watch.js';

const { Endpoint } = TypeUrl;

describe('lists shared by SotW streams with the same subscription (R3)', () => {
  const many = (n: number, port: (i: number) => number) =>
    Snapshot.create(Array.from({ length: n }, (_, i) => assignment(`a${i}`, port(i))));

  it('S8, S10: the first response and a push of many changes are one list for every such stream', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot(
      'n1',
      many(300, (i) => 1000 + i),
    );
    const names = [...Array.from({ length: 299 }, (_, i) => `a${i}`), 'not-yet'];
    const one = sotw(cache, 'n1', Endpoint);
    const two = sotw(cache, 'n1', Endpoint);
    one.request(names);
    two.request(names);
    const first = one.take();
    assert.equal(
      first?.resources.length,
      299,
      'every subscribed name the snapshot has (S10: not-yet is not)',
    );
    assert.equal(two.take()?.resources, first?.resources, 'the same list');
    // 280 of them change (more than a push looks at one by one), a300 is new but not subscribed.
    cache.setSnapshot(
      'n1',
      many(301, (i) => (i < 280 ? 5000 + i : 1000 + i)),
    );
    const pushed = one.take();
    assert.deepEqual(
      pushed?.resources.map((r) => r.name),
      Array.from({ length: 280 }, (_, i) => `a${i}`),
    );
    assert.equal(pushed?.changed.length, 280);
    assert.equal(two.take()?.resources, pushed?.resources);
    // A stream that joins now holds the second snapshot too: the next push is the same for all three.
    const three = sotw(cache, 'n1', Endpoint);
    three.request(names);
    assert.equal(three.take()?.resources.length, 299);
    cache.setSnapshot(
      'n1',
      many(301, (i) => (i < 280 ? 9000 + i : 1000 + i)),
    );
    const again = [one.take(), two.take(), three.take()];
    for (const response of again) assert.equal(response?.resources.length, 280);
    assert.equal(again[0]?.resources, again[1]?.resources);
    assert.equal(one.take(), undefined, 'nothing more to send');
  });
});
