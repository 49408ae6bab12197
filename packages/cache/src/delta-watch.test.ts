import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { assignment, cluster } from './test-resources.js';
import { delta } from './test-watch.js';

const { Cluster, Endpoint } = TypeUrl;

function cacheWith(): SnapshotCache {
  const cache = new SnapshotCache();
  cache.setSnapshot(
    'n1',
    Snapshot.create([cluster('c1'), cluster('c2'), assignment('c1', 80), assignment('c2', 81)]),
  );
  return cache;
}

describe('delta watch', () => {
  it('D3: sends every newly subscribed name that exists, and removes at once the ones that do not', () => {
    const w = delta(cacheWith(), 'n1', Endpoint);
    w.request(['c1', 'ghost']);
    assert.deepEqual(w.diff(), [['c1'], ['ghost']]);
    // Subscribing again to a name the client has sends it again.
    w.request(['c1']);
    assert.deepEqual(w.diff(), [['c1'], []]);
  });

  it('D4: each resource carries its content version; system_version_info is the type version', () => {
    const cache = cacheWith();
    const w = delta(cache, 'n1', Endpoint);
    w.request(['c1']);
    const r = w.take();
    const snapshot = cache.getSnapshot('n1')!;
    assert.equal(r?.resources[0]?.version, snapshot.entries(Endpoint).get('c1')?.version);
    assert.equal(r?.systemVersion, snapshot.version(Endpoint));
  });

  it('D5: after the first answer only changes and deletions go out', () => {
    const cache = cacheWith();
    const w = delta(cache, 'n1', Endpoint);
    w.request(['c1', 'c2']);
    assert.deepEqual(w.diff(), [['c1', 'c2'], []]);
    cache.updateSnapshot('n1', (draft) => {
      draft[Endpoint]['c1'] = assignment('c1', 8080);
    });
    assert.deepEqual(w.diff(), [['c1'], []]);
    cache.updateSnapshot('n1', (draft) => {
      delete draft[Endpoint]['c2'];
    });
    assert.deepEqual(w.diff(), [[], ['c2']]);
    // A name that comes back is sent again (S10 for delta).
    cache.updateSnapshot('n1', (draft) => {
      draft[Endpoint]['c2'] = assignment('c2', 81);
    });
    assert.deepEqual(w.diff(), [['c2'], []]);
  });

  it('D6: initial_resource_versions: only what differs is sent, and names gone are removed', () => {
    const cache = cacheWith();
    const versions = cache.getSnapshot('n1')!.entries(Endpoint);
    const w = delta(cache, 'n1', Endpoint);
    w.request(['c1', 'c2', 'old'], [], { c1: versions.get('c1')!.version, c2: 'stale', old: 'x' });
    assert.deepEqual(w.diff(), [['c2'], ['old']]);
  });

  it('D6: a wildcard reconnect that holds everything gets an empty first answer, then only changes', () => {
    const cache = cacheWith();
    const entries = cache.getSnapshot('n1')!.entries(Cluster);
    const w = delta(cache, 'n1', Cluster);
    w.request([], [], Object.fromEntries([...entries].map(([name, e]) => [name, e.version])));
    assert.deepEqual(w.diff(), [[], []]);
    assert.equal(w.take(), undefined);
  });

  it('D7: a first request with both lists empty is wildcard, for Listener and Cluster', () => {
    const cache = cacheWith();
    const w = delta(cache, 'n1', Cluster);
    w.request([]);
    assert.equal(w.watch.wildcard, true);
    assert.deepEqual(w.diff(), [['c1', 'c2'], []]);
    cache.updateSnapshot('n1', (draft) => {
      draft[Cluster]['c3'] = cluster('c3');
    });
    assert.deepEqual(w.diff(), [['c3'], []]);
    const eds = delta(cache, 'n1', Endpoint);
    eds.request([]);
    assert.equal(eds.watch.wildcard, false);
  });

  it('D7: "*" subscribes to everything; unsubscribing "*" leaves wildcard', () => {
    const cache = cacheWith();
    const w = delta(cache, 'n1', Cluster);
    w.request(['*']);
    assert.deepEqual(w.diff(), [['c1', 'c2'], []]);
    w.request([], ['*']);
    assert.equal(w.watch.wildcard, false);
    cache.updateSnapshot('n1', (draft) => {
      draft[Cluster]['c4'] = cluster('c4');
    });
    assert.equal(w.take(), undefined);
  });

  it('D7: a wildcard client that named X and unsubscribes X gets X back (or its removal)', () => {
    const cache = cacheWith();
    const w = delta(cache, 'n1', Cluster);
    w.request(['*', 'c1', 'ghost']);
    w.take();
    w.request([], ['c1', 'ghost']);
    assert.deepEqual(w.diff(), [['c1'], ['ghost']]);
  });

  it('D2: unsubscribing drops the name without a message when not under wildcard', () => {
    const cache = cacheWith();
    const w = delta(cache, 'n1', Endpoint);
    w.request(['c1', 'c2']);
    w.take();
    w.request([], ['c2']);
    assert.equal(w.take(), undefined);
    cache.updateSnapshot('n1', (draft) => {
      draft[Endpoint]['c2'] = assignment('c2', 999);
    });
    assert.equal(w.take(), undefined);
    assert.deepEqual([...w.watch.known.keys()], ['c1']);
  });

  it('S6, D8: what was sent and rejected is not sent again', () => {
    const cache = cacheWith();
    const w = delta(cache, 'n1', Endpoint);
    w.request(['c1']);
    w.take();
    // A NACK carries no subscription change: the watch sees no request at all, and a snapshot that does not
    // change c1 sends nothing.
    cache.updateSnapshot('n1', (draft) => {
      draft[Endpoint]['c2'] = assignment('c2', 5);
    });
    assert.equal(w.take(), undefined);
  });

  it('R4: a delta heartbeat names the held TTL resources without their bodies', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', Snapshot.create([{ resource: assignment('c1', 80), ttlMs: 1000 }]));
    const w = delta(cache, 'n1', Endpoint, { supportsTtl: true });
    w.request(['c1']);
    assert.deepEqual([...(w.take()?.ttls ?? [])], [['c1', 1000]]);
    cache.heartbeat();
    const beat = w.take();
    assert.deepEqual([...(beat?.heartbeats ?? [])], ['c1']);
  });
});
