// Glob subscriptions at scale: many streams with many globs, served by LinearCache and SnapshotCache. A push
// costs about O(changed names x name length) with the glob index; these tests check what is sent against a plain
// reading of the globs, and count the index's work instead of timing it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { GlobIndex } from './glob-index.js';
import { LinearCache } from './linear-cache.js';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { assignment } from './test-resources.js';
import { delta, sotw } from './test-watch.js';

const { Endpoint } = TypeUrl;

/** Names `tenant-<t>/svc-<i>` for 20 tenants. */
const resourceNames = Array.from({ length: 2000 }, (_, i) => `tenant-${i % 20}/svc-${i}`);

/** 20,000 globs per stream: most match nothing, `tenant-<t>/` matches a whole tenant. */
function globsOf(tenants: readonly number[]): string[] {
  const globs = Array.from({ length: 20_000 }, (_, i) => `tenant-${i % 20}/svc-${i}/x/*`);
  for (const t of tenants) globs.push(`tenant-${t}/*`);
  return globs;
}

function wanted(globs: readonly string[], names: Iterable<string>): string[] {
  const prefixes = globs.map((g) => g.slice(0, -1));
  return [...names].filter((n) => prefixes.some((p) => n.startsWith(p))).sort();
}

describe('glob subscriptions at scale', () => {
  it('LinearCache: three streams of 20,000 globs each get exactly their changed names, with bounded work', () => {
    const eds = new LinearCache(Endpoint, {
      resources: resourceNames.map((n, i) => assignment(n, 1000 + i)),
    });
    const subscriptions = [globsOf([1, 2]), globsOf([2]), globsOf([])];
    // Two SotW streams and a delta one; sent() is what the next take() sends, sorted.
    const streams = subscriptions.map((globs, i) => {
      if (i === 2) {
        const stream = delta(eds, `n${i}`, Endpoint);
        stream.request(globs);
        return { sent: () => stream.diff()?.[0] ?? [] };
      }
      const stream = sotw(eds, `n${i}`, Endpoint);
      stream.request(globs);
      return { sent: () => stream.names()?.sort() ?? [] };
    });
    for (const [i, stream] of streams.entries()) {
      assert.deepEqual(stream.sent(), wanted(subscriptions[i]!, resourceNames), `stream ${i}`);
    }
    const changed = ['tenant-1/svc-1', 'tenant-2/svc-2', 'tenant-2/svc-22', 'tenant-3/svc-3'];
    const before = GlobIndex.visits;
    eds.apply({ set: changed.map((n) => assignment(n, 7)) });
    const sent = streams.map((s) => s.sent());
    // Each changed name is looked up once in the cache's index and once in each stream's: two segments deep.
    assert.ok(GlobIndex.visits - before <= changed.length * 4 * 2, `${GlobIndex.visits - before} visits`);
    assert.deepEqual(sent, [
      ['tenant-1/svc-1', 'tenant-2/svc-2', 'tenant-2/svc-22'],
      ['tenant-2/svc-2', 'tenant-2/svc-22'],
      [],
    ]);
  });

  it('SnapshotCache: streams with many globs are sent what their globs match, and nothing else', () => {
    const cache = new SnapshotCache();
    const resources = (port: number) => resourceNames.map((n, i) => assignment(n, port + i));
    cache.setSnapshot('n', Snapshot.create(resources(1000)));
    const globs = globsOf([4, 5]);
    const stream = sotw(cache, 'n', Endpoint);
    stream.request(globs);
    assert.deepEqual(stream.names()?.sort(), wanted(globs, resourceNames));
    const next = Snapshot.create(
      resourceNames.map((n, i) => assignment(n, i % 100 === 4 || i % 100 === 7 ? 5000 + i : 1000 + i)),
    );
    const before = GlobIndex.visits;
    cache.setSnapshot('n', next);
    const changed = resourceNames.filter((_, i) => i % 100 === 4 || i % 100 === 7);
    assert.deepEqual(stream.names()?.sort(), wanted(globs, changed));
    assert.ok(GlobIndex.visits - before <= changed.length * 2, `${GlobIndex.visits - before} visits`);
  });
});
