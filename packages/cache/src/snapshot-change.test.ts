// Snapshot.change, the O(change) update of one type by encoded resources (rules S14, R3, X1): the result holds and
// versions what Snapshot.create would for the same content, the previous snapshot is unchanged, and changesSince
// names exactly what changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { encodeResource } from './encoded-resource.js';
import { Snapshot } from './snapshot.js';
import { cluster } from './test-resources.js';

const Cluster = TypeUrl.Cluster;
const entry = (name: string, service = '') => encodeResource(cluster(name, service));

describe('Snapshot.change', () => {
  it('S14: the content-hashed version equals that of a snapshot created with the same resources', () => {
    const base = Snapshot.create(['a', 'b', 'c'].map((n) => cluster(n)));
    const changed = base.change(Cluster, [entry('b', 'other'), entry('d')], ['c']);
    const fresh = Snapshot.create([cluster('a'), cluster('b', 'other'), cluster('d')]);
    assert.equal(changed.version(Cluster), fresh.version(Cluster));
    assert.deepEqual([...changed.entries(Cluster).keys()], ['a', 'b', 'd']);
    assert.deepEqual(
      [...base.entries(Cluster).keys()],
      ['a', 'b', 'c'],
      'the previous snapshot is unchanged',
    );
    assert.deepEqual(changed.changesSince(base), new Map([[Cluster, new Set(['b', 'c', 'd'])]]));
  });

  it('X1: a given version wins; same content and same version is the same snapshot; a removed name wins over a set one', () => {
    const base = Snapshot.create([cluster('a')], { version: 'v1' });
    assert.equal(base.change(Cluster, [entry('a')], [], 'v1'), base);
    const renamed = base.change(Cluster, [entry('a')], [], 'v2');
    assert.equal(renamed.version(Cluster), 'v2');
    assert.deepEqual(renamed.changesSince(base), new Map([[Cluster, new Set()]]));
    const gone = base.change(Cluster, [entry('a', 'x')], ['a'], 'v3');
    assert.equal(gone.entries(Cluster).size, 0);
    assert.throws(() => base.change(TypeUrl.Endpoint, [entry('a')], []), /not a type|is a/);
  });
});
