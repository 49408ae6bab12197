// Rule L2: a delta subscription change costs O(the change), not O(the subscription). A stream that held 90,000
// names and changed one per request made the server copy and re-intern the whole set per request (seconds of CPU
// for 100 tiny requests, other clients starved). Work is counted (sets copied, trie nodes visited), never timed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { GlobIndex } from './glob-index.js';
import { LinearCache } from './linear-cache.js';
import { prefixLookupWork } from './names-by-prefix.js';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { assignment } from './test-resources.js';
import { delta } from './test-watch.js';
import { Watch } from './watch.js';
import type { SubscriptionChange } from './watch-source.js';

const { Endpoint } = TypeUrl;

describe('delta subscription churn (L2)', () => {
  it('L2: K one-name changes of an N-name delta subscription update one set in place, copied at most once', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', Snapshot.create([assignment('a', 80), assignment('m-1', 81)]));
    const w = delta(cache, 'n1', Endpoint);
    const N = 20_000;
    const K = 200;
    w.request(['a', ...Array.from({ length: N }, (_, i) => `n-${i}`)]);
    assert.deepEqual(
      w.take()?.resources.map((e) => e.name),
      ['a'],
    );
    const copied = Watch.namesCopied;
    let set: ReadonlySet<string> | undefined;
    for (let i = 0; i < K; i++) {
      w.request([`m-${i}`], [`n-${i}`]);
      const r = w.diff();
      // The new name is sent if it exists; the client dropped the unsubscribed one itself (rule D5).
      assert.deepEqual(r, i === 1 ? [['m-1'], []] : [[], [`m-${i}`]]);
      if (i === 0) set = w.watch.subscribed;
      else assert.equal(w.watch.subscribed, set, `change ${i} replaced the subscription set`);
    }
    assert.equal(w.watch.subscriptionSize.names, N + 1);
    assert.ok(w.watch.subscribes('m-5') && !w.watch.subscribes('n-5') && w.watch.subscribes(`n-${K}`));
    // One copy-on-write of the shared (interned) first subscription, then changes in place.
    assert.ok(
      Watch.namesCopied - copied <= N + 1,
      `${Watch.namesCopied - copied} names copied for ${K} changes`,
    );
  });

  it('L2: a stream that shares an interned subscription copies it on its first change; the other keeps it', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', Snapshot.create([assignment('a', 80)]));
    const names = ['a', 'b', 'c', 'd', 'e'];
    const one = delta(cache, 'n1', Endpoint);
    const two = delta(cache, 'n1', Endpoint);
    one.request(names);
    two.request(names);
    assert.equal(
      one.watch.subscribed,
      two.watch.subscribed,
      'the same first subscription is shared (interned)',
    );
    one.request(['f'], ['a']);
    assert.notEqual(one.watch.subscribed, two.watch.subscribed);
    assert.deepEqual([...two.watch.subscribed], names);
    assert.deepEqual([...one.watch.subscribed].sort(), ['b', 'c', 'd', 'e', 'f']);
  });

  it('L2: subscribing a glob finds its names without walking the snapshot per request', () => {
    const cache = new SnapshotCache();
    const others = Array.from({ length: 5_000 }, (_, i) => assignment(`other/${i}`, 80));
    cache.setSnapshot(
      'n1',
      Snapshot.create([...others, assignment('lb/x', 81), assignment('lb/y', 82), assignment('lbz', 83)]),
    );
    const w = delta(cache, 'n1', Endpoint);
    w.request(['a', 'b', 'c', 'd']);
    w.take();
    const visits = GlobIndex.visits;
    const sorted = prefixLookupWork.namesSorted;
    const K = 100;
    for (let i = 0; i < K; i++) {
      w.request(['lb/*']);
      assert.deepEqual(w.diff(), [['lb/x', 'lb/y'], []]);
      w.request([], ['lb/*']);
      w.take();
    }
    // Each round matches two names (a few trie nodes each); a walk of the snapshot visits one node per name.
    assert.ok(
      GlobIndex.visits - visits < K * 20,
      `${GlobIndex.visits - visits} glob trie visits for ${K} rounds`,
    );
    // The snapshot's names are sorted once for every lookup in it.
    assert.ok(
      prefixLookupWork.namesSorted - sorted <= 5_003,
      `${prefixLookupWork.namesSorted - sorted} sorted`,
    );
  });

  it('L2: the cache is told what a delta request changed, not left to re-read the whole subscription', () => {
    const changes: (SubscriptionChange | undefined)[] = [];
    class Recording extends SnapshotCache {
      override subscriptionChanged(watch: Watch, change?: SubscriptionChange): void {
        super.subscriptionChanged(watch);
        changes.push(change);
      }
    }
    const cache = new Recording();
    cache.setSnapshot('n1', Snapshot.create([assignment('a', 80)]));
    const w = delta(cache, 'n1', Endpoint);
    w.request(['a', 'b', 'c', 'd', 'x/*']);
    w.request(['e', 'a', 'y/*'], ['b', 'x/*', 'never']);
    w.request(['f'], ['f']);
    assert.deepEqual(changes, [
      { added: ['a', 'b', 'c', 'd', 'x/*'], removed: [] },
      { added: ['e', 'y/*'], removed: ['b', 'x/*'] },
      { added: ['f'], removed: ['f'] },
    ]);
    assert.deepEqual([...w.watch.subscribed].sort(), ['a', 'c', 'd', 'e', 'y/*']);
  });

  it('L2: LinearCache re-indexes a delta watch by the change, without reading its whole subscription', () => {
    const cache = new LinearCache(Endpoint, {
      resources: [assignment('n-0', 80), assignment('lb/x', 81)],
      wildcard: true,
    });
    const w = delta(cache, 'n1', Endpoint);
    const N = 5_000;
    w.request(Array.from({ length: N }, (_, i) => `n-${i}`));
    w.take();
    let reads = 0;
    const watch = w.watch;
    const subscribed = Object.getOwnPropertyDescriptor(
      Object.getPrototypeOf(Object.getPrototypeOf(watch)),
      'subscribed',
    );
    Object.defineProperty(watch, 'subscribed', {
      get() {
        reads++;
        return subscribed?.get?.call(watch);
      },
    });
    for (let i = 1; i <= 50; i++) w.request([`m-${i}`], [`n-${i}`]);
    w.request(['lb/*', '*'], ['n-0']);
    w.take();
    assert.equal(reads, 0, 'the whole subscription was read to re-index a change');
    assert.equal(cache.watchCountOf('m-7'), 1);
    assert.equal(cache.watchCountOf('n-7'), 0);
    assert.equal(cache.watchCountOf('n-0'), 0);
    assert.equal(cache.watchCountOf('lb/*'), 1);
    assert.equal(cache.stats().wildcardWatches, 1);
    // The index is what wakes watches: a changed name the watch subscribes to reaches it.
    w.request([], ['*', 'lb/*']);
    w.take();
    assert.equal(cache.stats().wildcardWatches, 0);
    assert.equal(cache.watchCountOf('lb/*'), 0);
    const ready = w.ready;
    cache.update(assignment('n-60', 90));
    assert.equal(w.ready, ready + 1);
    assert.deepEqual(w.diff(), [['n-60'], []]);
    cache.update(assignment('n-30', 90));
    cache.update(assignment('m-9', 90));
    assert.deepEqual(w.diff(), [['m-9'], []]);
    w.watch.cancel();
    assert.equal(cache.stats().watches, 0);
    assert.equal(cache.stats().watchedNames, 0);
  });
});
