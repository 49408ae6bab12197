// Status and rollback: SnapshotCache.status() and lastAcked(), MuxCache by any request attribute, LinearCache
// counts, and the caches' logger.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Code, NodeSchema, TypeUrl, XdsError } from '@xds/api';
import type { CacheLogger } from './cache-logger.js';
import { LinearCache } from './linear-cache.js';
import { MuxCache } from './mux-cache.js';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { assignment, cluster } from './test-resources.js';
import { delta, sotw } from './test-watch.js';

const { Cluster, Endpoint } = TypeUrl;

/** A logger that keeps what it is told. */
function recording(): CacheLogger & { readonly lines: string[] } {
  const lines: string[] = [];
  const keep = (_object: object, message?: string) => {
    lines.push(message ?? '');
  };
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

/** Polls the clock until it moves, so that two times taken around it differ (no sleep as synchronisation). */
function nextMillisecond(): void {
  const start = Date.now();
  while (Date.now() === start) {
    // busy wait of at most a millisecond
  }
}

describe('SnapshotCache.status', () => {
  it('counts SotW and delta watches apart and keeps the last node seen', () => {
    const cache = new SnapshotCache();
    const a = sotw(cache, 'n1', Cluster);
    delta(cache, 'n1', Endpoint);
    delta(cache, 'n1', Cluster);
    const status = cache.status('n1');
    assert.equal(status?.watches, 3);
    assert.equal(status?.sotwWatches, 1);
    assert.equal(status?.deltaWatches, 2);
    assert.equal(status?.node?.id, 'n1');
    a.watch.cancel();
    assert.equal(cache.status('n1')?.sotwWatches, 0);
    assert.equal(cache.status('n1')?.deltaWatches, 2);
  });

  it('every request moves lastRequestAt, an ACK that changes nothing included', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', Snapshot.create([cluster('c1')]));
    const w = sotw(cache, 'n1', Cluster);
    w.request(['c1']);
    w.take();
    const before = cache.status('n1')!.lastRequestAt!;
    nextMillisecond();
    // The ACK: same names, nothing to send.
    w.request(['c1'], cache.getSnapshot('n1')!.version(Cluster));
    assert.equal(w.take(), undefined);
    assert.ok(cache.status('n1')!.lastRequestAt! > before);
  });

  it('the last node seen is the one of the latest request under the key', () => {
    const cache = new SnapshotCache({ nodeKey: () => 'group' });
    const withNode = (id: string) => ({ node: create(NodeSchema, { id }) });
    const a = sotw(cache, 'ignored', Cluster, withNode('a'));
    sotw(cache, 'ignored', Cluster, withNode('b'));
    assert.equal(cache.status('group')?.node?.id, 'b');
    a.request([]);
    assert.equal(cache.status('group')?.node?.id, 'a');
  });
});

describe('SnapshotCache.lastAcked (go-control-plane #564)', () => {
  const v1 = Snapshot.create([cluster('c1'), assignment('c1', 1)]);
  const v2 = v1.update((draft) => {
    draft[Endpoint]['c1'] = assignment('c1', 2);
  });

  it('S5: a snapshot is ACKed in full when every watch of the key ACKed its version of its type', () => {
    const cache = new SnapshotCache();
    const acked: Snapshot[] = [];
    cache.on('acked', (e) => acked.push(e.snapshot));
    const c = sotw(cache, 'n1', Cluster);
    const e = delta(cache, 'n1', Endpoint);
    c.request([]);
    e.request(['c1']);
    cache.setSnapshot('n1', v1);
    c.take();
    e.take();
    assert.equal(cache.lastAcked('n1'), undefined);
    c.watch.answered(true);
    // Clusters ACKed, endpoints not yet: not in full.
    assert.equal(cache.lastAcked('n1'), undefined);
    assert.equal(cache.status('n1')?.ackedInFull, false);
    e.watch.answered(true);
    assert.equal(cache.lastAcked('n1'), v1);
    assert.equal(cache.status('n1')?.ackedInFull, true);
    assert.deepEqual(acked, [v1]);
  });

  it('a NACKed change leaves the last snapshot ACKed in full as the one to roll back to', () => {
    const cache = new SnapshotCache();
    const c = sotw(cache, 'n1', Cluster);
    const e = sotw(cache, 'n1', Endpoint);
    c.request([]);
    e.request(['c1']);
    cache.setSnapshot('n1', v1);
    c.take();
    e.take();
    c.watch.answered(true);
    e.watch.answered(true);
    assert.equal(cache.lastAcked('n1'), v1);
    cache.setSnapshot('n1', v2);
    // v2 changed only endpoints: the clusters already held are v2's too.
    assert.equal(cache.status('n1')?.ackedInFull, false);
    assert.ok(e.take());
    e.watch.answered(false);
    assert.equal(cache.lastAcked('n1'), v1);
    // The application rolls back; the client holds v1 already.
    cache.setSnapshot('n1', cache.lastAcked('n1')!);
    assert.equal(cache.status('n1')?.ackedInFull, true);
  });

  it('an ACK of a response built from an older snapshot does not count for the current one', () => {
    const cache = new SnapshotCache();
    const e = sotw(cache, 'n1', Endpoint);
    e.request(['c1']);
    cache.setSnapshot('n1', v1);
    e.take();
    cache.setSnapshot('n1', v2);
    // The client ACKs v1's response after v2 was set.
    e.watch.answered(true);
    assert.equal(e.watch.ackedVersion, v1.version(Endpoint));
    assert.equal(cache.lastAcked('n1'), undefined);
    e.take();
    e.watch.answered(true);
    assert.equal(cache.lastAcked('n1'), v2);
  });
});

describe('MuxCache by any request attribute', () => {
  it('classify(request) picks the cache by node (the old type map still works)', () => {
    const canary = new SnapshotCache();
    const stable = new SnapshotCache();
    canary.setSnapshot('n', Snapshot.create([cluster('canary')]));
    stable.setSnapshot('n', Snapshot.create([cluster('stable')]));
    const mux = new MuxCache({
      classify: (request) => (request.node.cluster === 'canary' ? canary : stable),
    });
    const node = (canaryFlag: boolean) =>
      create(NodeSchema, { id: 'n', cluster: canaryFlag ? 'canary' : 'main' });
    const a = sotw(mux, 'n', Cluster, { node: node(true) });
    const b = sotw(mux, 'n', Cluster, { node: node(false) });
    a.request([]);
    b.request([]);
    assert.deepEqual(a.names(), ['canary']);
    assert.deepEqual(b.names(), ['stable']);
    assert.equal(mux.cacheFor(Cluster), undefined);
    const none = new MuxCache({ classify: () => undefined });
    assert.throws(
      () => sotw(none, 'n', Cluster),
      (e: unknown) => e instanceof XdsError && e.code === Code.Unimplemented,
    );
  });
});

describe('LinearCache counts and logger', () => {
  it('counts resources, watches by name, wildcard and glob watches', () => {
    const logger = recording();
    const cache = new LinearCache(Endpoint, {
      logger,
      resources: [assignment('a/1', 1), assignment('b', 2)],
    });
    const byName = sotw(cache, 'n1', Endpoint);
    byName.request(['b', 'c']);
    const glob = delta(cache, 'n2', Endpoint);
    glob.request(['a/*']);
    const wildcard = delta(cache, 'n3', Endpoint);
    wildcard.request(['*']);
    assert.deepEqual(cache.stats(), {
      resources: 2,
      watches: 3,
      wildcardWatches: 0,
      globWatches: 1,
      watchedNames: 2,
    });
    assert.equal(cache.watchCountOf('b'), 1);
    assert.equal(cache.watchCountOf('a/*'), 1);
    assert.equal(cache.watchCountOf('zzz'), 0);
    const wildCache = new LinearCache(Endpoint, { wildcard: true });
    delta(wildCache, 'n', Endpoint).request(['*']);
    assert.equal(wildCache.stats().wildcardWatches, 1);
    cache.update(assignment('b', 3));
    assert.ok(logger.lines.includes('linear cache changed'));
  });

  it('a SnapshotCache logs what it does through its logger', () => {
    const logger = recording();
    const cache = new SnapshotCache({ logger });
    cache.setSnapshot('n', Snapshot.create([cluster('c')]));
    cache.clearSnapshot('n');
    assert.deepEqual(logger.lines, ['snapshot set', 'snapshot cleared']);
  });
});
