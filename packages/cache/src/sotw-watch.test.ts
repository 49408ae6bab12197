import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { assignment, cluster, sampleResources } from './test-resources.js';
import { sotw } from './test-watch.js';

const { Cluster, Endpoint, Listener, Route } = TypeUrl;

function snap(...ports: number[]): Snapshot {
  return Snapshot.create(sampleResources(...ports));
}

function cacheWith(snapshot: Snapshot = snap()): SnapshotCache {
  const cache = new SnapshotCache();
  cache.setSnapshot('n1', snapshot);
  return cache;
}

describe('SotW watch: when to answer (S7)', () => {
  it('S7a: answers the initial request', () => {
    const w = sotw(cacheWith(), 'n1', Cluster);
    w.request(['c1']);
    assert.equal(w.ready, 1);
    const r = w.take();
    assert.deepEqual(
      r?.resources.map((e) => e.name),
      ['c1'],
    );
    assert.equal(r?.version, snap().version(Cluster));
  });

  it('S7a: a watch on a node with no snapshot yet is answered when the snapshot comes', () => {
    const cache = new SnapshotCache();
    const w = sotw(cache, 'n1', Endpoint);
    w.request(['c1', 'c2']);
    assert.equal(w.take(), undefined);
    const before = w.ready;
    cache.setSnapshot('n1', snap());
    assert.equal(w.ready, before + 1);
    assert.deepEqual(w.names()?.sort(), ['c1', 'c2']);
  });

  it('S7a: answers an initial request even when nothing it names exists', () => {
    const w = sotw(cacheWith(), 'n1', Endpoint);
    w.request(['nope']);
    const r = w.take();
    assert.ok(r);
    assert.deepEqual(r.resources, []);
  });

  it('S7: does not answer an ACK that changes nothing', () => {
    const w = sotw(cacheWith(), 'n1', Endpoint);
    w.request(['c1']);
    assert.ok(w.take());
    const ready = w.ready;
    w.request(['c1'], snap().version(Endpoint));
    assert.equal(w.ready, ready);
    assert.equal(w.take(), undefined);
  });

  it('S7b: an ACK that adds names is answered with those names, even unchanged', () => {
    const w = sotw(cacheWith(), 'n1', Endpoint);
    w.request(['c1']);
    w.take();
    w.request(['c1', 'c2']);
    assert.deepEqual(w.names(), ['c2']);
    // Dropping and re-adding a name sends it again: the client forgot it.
    w.request(['c2']);
    assert.equal(w.take(), undefined);
    w.request(['c1', 'c2']);
    assert.deepEqual(w.names(), ['c1']);
  });

  it('S7c: a new snapshot is pushed only to the types whose content changed', () => {
    const cache = cacheWith();
    const cds = sotw(cache, 'n1', Cluster);
    const eds = sotw(cache, 'n1', Endpoint);
    cds.request(['c1', 'c2']);
    eds.request(['c1', 'c2']);
    cds.take();
    eds.take();
    const cdsReady = cds.ready;
    cache.updateSnapshot('n1', (draft) => {
      draft[Endpoint]['c2'] = assignment('c2', 9000);
    });
    assert.equal(cds.ready, cdsReady, 'the Cluster watch is not woken');
    assert.equal(cds.take(), undefined);
    assert.deepEqual(eds.names(), ['c2']);
  });

  it('S7c: a snapshot equal in content to the current one is not pushed', () => {
    const cache = cacheWith();
    const w = sotw(cache, 'n1', Cluster);
    w.request(['c1']);
    w.take();
    cache.setSnapshot('n1', snap());
    assert.equal(w.take(), undefined);
  });
});

describe('SotW watch: NACK (S6)', () => {
  it('S6: after a NACK nothing is resent until the content differs from the rejected one', () => {
    const cache = cacheWith();
    const w = sotw(cache, 'n1', Cluster);
    w.request(['c1', 'c2']);
    w.take();
    // The client NACKs: same names, old version. Nothing to send.
    w.request(['c1', 'c2'], '');
    assert.equal(w.take(), undefined);
    // A snapshot that changes another type does not bring the rejected clusters back.
    cache.updateSnapshot('n1', (draft) => {
      draft[Endpoint]['c1'] = assignment('c1', 7);
    });
    assert.equal(w.take(), undefined);
    // Nor does a cluster the stream does not subscribe to.
    cache.updateSnapshot('n1', (draft) => {
      draft[Cluster]['c3'] = cluster('c3');
    });
    assert.equal(w.take(), undefined);
    // A snapshot whose subscribed clusters differ does.
    cache.updateSnapshot('n1', (draft) => {
      draft[Cluster]['c2'] = cluster('c2', 'fixed');
    });
    assert.deepEqual(w.names(), ['c1', 'c2']);
  });
});

describe('SotW watch: what to send (S8)', () => {
  it('S8: Listener and Cluster responses hold the whole subscribed set; others only what changed', () => {
    const cache = cacheWith();
    const cds = sotw(cache, 'n1', Cluster);
    const eds = sotw(cache, 'n1', Endpoint);
    cds.request(['c1', 'c2']);
    eds.request(['c1', 'c2']);
    cds.take();
    eds.take();
    cache.updateSnapshot('n1', (draft) => {
      draft[Cluster]['c2'] = cluster('c2', 'renamed');
      draft[Endpoint]['c2'] = assignment('c2', 1234);
    });
    assert.deepEqual(cds.names(), ['c1', 'c2']);
    assert.deepEqual(eds.names(), ['c2']);
  });

  it('S8: a deleted Cluster is left out of the next full response', () => {
    const cache = cacheWith();
    const cds = sotw(cache, 'n1', Cluster);
    cds.request(['c1', 'c2']);
    cds.take();
    cache.updateSnapshot('n1', (draft) => {
      delete draft[Cluster]['c2'];
    });
    assert.deepEqual(cds.names(), ['c1']);
  });

  it('S8: never a name the stream did not ask for, never one twice', () => {
    const w = sotw(cacheWith(), 'n1', Endpoint);
    w.request(['c2', 'c2']);
    assert.deepEqual(w.names(), ['c2']);
  });

  it('S11: resend() sends named endpoints again, and only wanted ones', () => {
    const w = sotw(cacheWith(), 'n1', Endpoint);
    w.request(['c1']);
    w.take();
    w.watch.resend(['c1', 'c2']);
    assert.deepEqual(w.names(), ['c1']);
  });

  it('S11: a snapshot wakes the watches of a node in ADS order', () => {
    const cache = new SnapshotCache();
    const order: string[] = [];
    for (const typeUrl of [Route, Listener, Endpoint, Cluster]) {
      const w = sotw(cache, 'n1', typeUrl, {}, order);
      w.request(['x']);
      assert.equal(w.take(), undefined, 'no snapshot yet');
    }
    order.length = 0;
    cache.setSnapshot('n1', snap());
    assert.deepEqual(order, [Cluster, Endpoint, Listener, Route]);
  });

  it('S11: the response names what changed, for the endpoints that must follow', () => {
    const cache = cacheWith();
    const cds = sotw(cache, 'n1', Cluster);
    cds.request(['c1', 'c2']);
    assert.deepEqual(cds.take()?.changed, [], 'new clusters are not changes');
    cache.updateSnapshot('n1', (draft) => {
      draft[Cluster]['c2'] = cluster('c2', 'svc');
    });
    assert.deepEqual(cds.take()?.changed, ['c2']);
  });

  it('S12: many changes before a take wake the server once', () => {
    const cache = cacheWith();
    const w = sotw(cache, 'n1', Endpoint);
    w.request(['c1', 'c2']);
    w.take();
    const ready = w.ready;
    for (let i = 0; i < 50; i++) cache.setSnapshot('n1', snap(1000 + i, 2000 + i));
    assert.equal(w.ready, ready + 1);
    const r = w.take();
    assert.deepEqual(r?.resources.map((e) => e.name).sort(), ['c1', 'c2']);
    assert.equal(r?.version, snap(1049, 2049).version(Endpoint));
  });
});

describe('SotW watch: wildcard (S9)', () => {
  it('S9: legacy wildcard: an empty list on the first request means every Cluster', () => {
    const w = sotw(cacheWith(), 'n1', Cluster);
    w.request([]);
    assert.deepEqual(w.names(), ['c1', 'c2']);
    assert.equal(w.watch.wildcard, true);
  });

  it('S9: once a name was given, an empty list means nothing', () => {
    const w = sotw(cacheWith(), 'n1', Cluster);
    w.request(['c1']);
    w.take();
    w.request([]);
    assert.equal(w.watch.wildcard, false);
    assert.deepEqual(w.names(), []);
  });

  it('S9: explicit "*" is wildcard, and ["*", "A"] is wildcard plus A', () => {
    const cache = cacheWith();
    const w = sotw(cache, 'n1', Cluster);
    w.request(['*', 'later']);
    assert.deepEqual(w.names(), ['c1', 'c2']);
    cache.updateSnapshot('n1', (draft) => {
      draft[Cluster]['later'] = cluster('later');
    });
    assert.deepEqual(w.names()?.sort(), ['c1', 'c2', 'later']);
    w.request(['later']);
    assert.equal(w.watch.wildcard, false);
    assert.deepEqual(w.names(), ['later']);
  });

  it('S9: legacy wildcard can be turned off (gRPC clients)', () => {
    const w = sotw(cacheWith(), 'n1', Cluster, { legacyWildcard: false });
    w.request([]);
    assert.equal(w.watch.wildcard, false);
    assert.deepEqual(w.names(), []);
  });

  it('S9: only Listener and Cluster allow wildcard unless the cache says so', () => {
    const w = sotw(cacheWith(), 'n1', Endpoint);
    w.request(['*']);
    assert.equal(w.watch.wildcard, false);
    const cache = new SnapshotCache({ wildcardTypes: [Endpoint] });
    cache.setSnapshot('n1', snap());
    const x = sotw(cache, 'n1', Endpoint);
    x.request([]);
    assert.deepEqual(x.names()?.sort(), ['c1', 'c2']);
  });
});

describe('SotW watch: names that do not exist yet (S10) and reconnects (S13)', () => {
  it('S10: remembers a missing name and pushes it when a snapshot brings it', () => {
    const cache = cacheWith();
    const w = sotw(cache, 'n1', Endpoint);
    w.request(['c1', 'c9']);
    assert.deepEqual(w.names(), ['c1']);
    cache.updateSnapshot('n1', (draft) => {
      draft[Endpoint]['c9'] = assignment('c9', 99);
    });
    assert.deepEqual(w.names(), ['c9']);
  });

  it('S13: a wildcard client presenting the current version is not answered', () => {
    const w = sotw(cacheWith(), 'n1', Cluster);
    w.request([], snap().version(Cluster));
    assert.equal(w.take(), undefined);
  });

  it('S13: every other reconnect is answered', () => {
    const stale = sotw(cacheWith(), 'n1', Cluster);
    stale.request([], 'an-old-version');
    assert.deepEqual(stale.names(), ['c1', 'c2']);
    const named = sotw(cacheWith(), 'n1', Endpoint);
    named.request(['c1'], snap().version(Endpoint));
    assert.deepEqual(named.names(), ['c1']);
  });
});

describe('SotW watch: ADS completeness', () => {
  it('subset (default) sends the names asked for', () => {
    const w = sotw(cacheWith(), 'n1', Endpoint);
    w.request(['c1']);
    assert.deepEqual(w.names(), ['c1']);
  });

  it('hold waits until every name of the snapshot is asked for', () => {
    const cache = new SnapshotCache({ completeness: 'hold' });
    cache.setSnapshot('n1', snap());
    const w = sotw(cache, 'n1', Endpoint);
    w.request(['c1']);
    assert.equal(w.take(), undefined);
    w.request(['c1', 'c2']);
    assert.deepEqual(w.names()?.sort(), ['c1', 'c2']);
    const perType = sotw(cache, 'n1', Endpoint, { ads: false });
    perType.request(['c1']);
    assert.deepEqual(perType.names(), ['c1'], 'hold applies to ADS only');
  });

  it('empty answers missing ClusterLoadAssignment names with empty assignments', () => {
    const cache = new SnapshotCache({ completeness: 'empty' });
    cache.setSnapshot('n1', snap());
    const w = sotw(cache, 'n1', Endpoint);
    w.request(['c1', 'ghost']);
    const r = w.take();
    const ghost = r?.resources.find((e) => e.name === 'ghost');
    assert.ok(ghost);
    assert.equal((ghost.message as unknown as { endpoints: unknown[] }).endpoints.length, 0);
  });
});

describe('SotW watch: TTL (R4)', () => {
  it('R4: TTLs go only to clients that support them', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', Snapshot.create([{ resource: assignment('c1', 80), ttlMs: 5000 }]));
    const plain = sotw(cache, 'n1', Endpoint);
    plain.request(['c1']);
    assert.equal(plain.take()?.ttls, undefined);
    const ttl = sotw(cache, 'n1', Endpoint, { supportsTtl: true });
    ttl.request(['c1']);
    assert.deepEqual([...(ttl.take()?.ttls ?? [])], [['c1', 5000]]);
  });

  it('R4: heartbeats re-send held TTL resources to TTL clients only, and never to others', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot(
      'n1',
      Snapshot.create([{ resource: assignment('c1', 80), ttlMs: 5000 }, assignment('c2', 81)]),
    );
    const plain = sotw(cache, 'n1', Endpoint);
    const ttl = sotw(cache, 'n1', Endpoint, { supportsTtl: true });
    for (const w of [plain, ttl]) {
      w.request(['c1', 'c2']);
      w.take();
    }
    const plainReady = plain.ready;
    cache.heartbeat();
    assert.equal(plain.ready, plainReady);
    assert.equal(plain.take(), undefined);
    const beat = ttl.take();
    assert.deepEqual(
      beat?.resources.map((e) => e.name),
      ['c1'],
    );
    assert.deepEqual([...(beat?.heartbeats ?? [])], ['c1']);
    assert.equal(beat?.version, cache.getSnapshot('n1')?.version(Endpoint));
    assert.equal(ttl.take(), undefined, 'one heartbeat per tick');
  });
});
