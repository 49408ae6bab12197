import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { encodeCount } from './encoded-resource.js';
import { LinearCache } from './linear-cache.js';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { assignment, cluster, listener, route, sampleResources } from './test-resources.js';
import { delta, type SotwDriver, sotw } from './test-watch.js';

const { Cluster, Endpoint, Listener, Route } = TypeUrl;

describe('SnapshotCache', () => {
  it('R3: N nodes sharing a snapshot encode each resource once, and share the wire bytes', () => {
    const resources = [
      cluster('c1'),
      cluster('c2'),
      assignment('c1', 1),
      assignment('c2', 2),
      listener('l', 'r'),
      route('r', 'c1'),
    ];
    const before = encodeCount();
    const shared = Snapshot.create(resources);
    assert.equal(encodeCount() - before, resources.length);
    const cache = new SnapshotCache();
    const drivers: SotwDriver[] = [];
    for (let i = 0; i < 500; i++) {
      cache.setSnapshot(`node-${i}`, shared);
      for (const typeUrl of [Cluster, Endpoint, Listener, Route]) {
        const w = sotw(cache, `node-${i}`, typeUrl);
        w.request(typeUrl === Cluster || typeUrl === Listener ? [] : ['c1', 'c2', 'r']);
        drivers.push(w);
      }
    }
    const anys = new Set<Uint8Array>();
    for (const w of drivers) for (const entry of w.take()?.resources ?? []) anys.add(entry.any);
    assert.equal(encodeCount() - before, resources.length);
    assert.equal(anys.size, resources.length, 'one Any encoding per resource, shared by every response');
  });

  it('R3: nodes whose snapshots hold equal content built separately share the bytes', () => {
    const a = Snapshot.create([assignment('shared', 1, 2, 3)]);
    const b = Snapshot.create([assignment('shared', 1, 2, 3)]);
    assert.equal(a.entries(Endpoint).get('shared')?.bytes, b.entries(Endpoint).get('shared')?.bytes);
  });

  it('thousands of concurrent watches and snapshot changes leave no watch behind after cancellation', () => {
    const cache = new SnapshotCache();
    const eds = new LinearCache(Endpoint, { wildcard: true });
    const nodes = 200;
    const all: { cancel(): void }[] = [];
    const drivers: { readonly ready: number }[] = [];
    for (let n = 0; n < nodes; n++) {
      for (let i = 0; i < 10; i++) {
        const s = sotw(cache, `n${n}`, i % 2 === 0 ? Cluster : Endpoint);
        s.request(i % 2 === 0 ? [] : [`c${i}`]);
        const d = delta(cache, `n${n}`, Endpoint);
        d.request([`c${i}`, `c${i + 1}`]);
        const l = delta(eds, `n${n}`, Endpoint);
        l.request(i % 3 === 0 ? ['*'] : [`c${i}`, 'x/*']);
        all.push(s.watch, d.watch, l.watch);
        drivers.push(s, d, l);
      }
    }
    assert.equal(all.length, 6000);
    for (let v = 0; v < 5; v++) {
      for (let n = 0; n < nodes; n++)
        cache.setSnapshot(
          `n${n}`,
          Snapshot.create([cluster('c0'), assignment('c1', v), assignment('c3', v)]),
        );
      eds.apply({ set: [assignment('c1', v), assignment('x/y', v)] });
    }
    assert.equal(eds.watchCount, 2000);
    assert.equal(
      cache.status().reduce((sum, s) => sum + s.watches, 0),
      4000,
    );
    // Cancel in a shuffled order; cancelling twice is harmless.
    for (let i = all.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    for (const w of all) w.cancel();
    for (const w of all) w.cancel();
    assert.equal(eds.watchCount, 0);
    assert.equal(
      cache.status().reduce((sum, s) => sum + s.watches, 0),
      0,
    );
    // Nothing cancelled is woken any more.
    const ready = drivers.map((d) => d.ready);
    for (let n = 0; n < nodes; n++)
      cache.setSnapshot(`n${n}`, Snapshot.create([cluster('c1'), assignment('c1', 99)]));
    eds.apply({ set: [assignment('c1', 99), assignment('x/y', 99)] });
    assert.deepEqual(
      drivers.map((d) => d.ready),
      ready,
    );
    for (let n = 0; n < nodes; n++) cache.clearSnapshot(`n${n}`);
    assert.deepEqual(cache.keys(), [], 'no key is kept for a node without snapshot or watch');
  });

  it('reports per-node status and emits snapshot and clear events', () => {
    const cache = new SnapshotCache();
    const events: string[] = [];
    cache.on('snapshot', (e) => events.push(`set ${e.key} ${e.previous === undefined ? 'first' : 'again'}`));
    cache.on('clear', (e) => events.push(`clear ${e.key} ${e.reason}`));
    const snap = Snapshot.create([cluster('c1')]);
    cache.setSnapshot('n1', snap);
    cache.setSnapshot(
      'n1',
      snap.update((d) => {
        d[Cluster]['c2'] = cluster('c2');
      }),
    );
    const w = sotw(cache, 'n1', Cluster);
    w.request([]);
    const status = cache.status('n1');
    assert.equal(status?.watches, 1);
    assert.equal(status?.versions?.[Cluster], cache.getSnapshot('n1')?.version(Cluster));
    assert.equal(status?.versions?.[Endpoint], undefined);
    assert.ok((status?.lastRequestAt ?? 0) > 0);
    cache.clearSnapshot('n1');
    assert.deepEqual(events, ['set n1 first', 'set n1 again', 'clear n1 cleared']);
    assert.equal(cache.status('n1')?.versions, undefined);
  });

  it('drops the snapshots of nodes idle for idleTimeoutMs', () => {
    const cache = new SnapshotCache({ idleTimeoutMs: 60_000 });
    try {
      cache.setSnapshot('busy', Snapshot.create([cluster('c')]));
      cache.setSnapshot('idle', Snapshot.create([cluster('c')]));
      const w = sotw(cache, 'busy', Cluster);
      w.request([]);
      assert.deepEqual(cache.sweep(Date.now() + 30_000), []);
      assert.deepEqual(cache.sweep(Date.now() + 61_000), ['idle']);
      assert.equal(cache.getSnapshot('idle'), undefined);
      assert.ok(cache.getSnapshot('busy'));
      w.watch.cancel();
      assert.deepEqual(cache.sweep(Date.now() + 61_000), ['busy']);
    } finally {
      cache.close();
    }
  });

  it('nodeKey groups nodes onto one snapshot', () => {
    const cache = new SnapshotCache({ nodeKey: (node) => node.cluster || node.id });
    cache.setSnapshot('n1', Snapshot.create([cluster('c1')]));
    assert.equal(cache.keyOf({ id: 'n1', cluster: '' } as never), 'n1');
    const w = sotw(cache, 'n1', Cluster);
    w.request([]);
    assert.deepEqual(w.names(), ['c1']);
  });

  it('updateSnapshot of a key without a snapshot is NotFound', () => {
    assert.throws(
      () => new SnapshotCache().updateSnapshot('nobody', () => {}),
      /updateSnapshot\("nobody"\): the key has no snapshot/,
    );
    assert.throws(() => new SnapshotCache().setSnapshot('x', {} as never), /not a Snapshot/);
  });
});

describe('SnapshotCache: version-only changes (S7c)', () => {
  it('S7c: a snapshot that changes only the version wakes no watch; a content change does', () => {
    const snap = (a = 80, b = 81) => Snapshot.create(sampleResources(a, b));
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', snap());
    const eds = sotw(cache, 'n1', Endpoint);
    const cds = sotw(cache, 'n1', Cluster);
    eds.request(['c1', 'c2']);
    cds.request([]);
    assert.equal(eds.take()?.resources.length, 2);
    assert.equal(cds.take()?.resources.length, 2);
    const woken = [eds.ready, cds.ready];
    const sameContent = (version: string) => Snapshot.create(sampleResources(), { version });
    cache.setSnapshot('n1', sameContent('v2'));
    cache.setSnapshot('n1', sameContent('v3'));
    assert.equal(cache.getSnapshot('n1')?.version(Cluster), 'v3');
    assert.deepEqual([eds.ready, cds.ready], woken, 'same resources at a new version: nothing to send');
    assert.equal(eds.take(), undefined);
    cache.setSnapshot('n1', snap(90, 91));
    assert.equal(eds.ready, woken[0]! + 1);
    assert.deepEqual(
      eds.take()?.resources.map((r) => r.name),
      ['c1', 'c2'],
    );
  });
});
