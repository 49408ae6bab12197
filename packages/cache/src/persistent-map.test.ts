// The persistent map behind Snapshot.change (rule L2: an update costs O(the change)): every version reads, iterates
// and counts exactly as a Map changed the same way would, old versions included, through folds and hash collisions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PersistentMap, persistentMapCopies } from './persistent-map.js';

/** A small deterministic random source. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state % n;
  };
}

describe('PersistentMap', () => {
  it('L2: every version reads and iterates as a Map changed the same way, in Map order', () => {
    const rnd = random(7);
    for (let round = 0; round < 20; round++) {
      const base = new Map<string, number>();
      for (let i = rnd(200); i > 0; i--) base.set(`k${rnd(300)}`, i);
      let map = PersistentMap.of(new Map(base));
      let model = new Map(base);
      const versions: [PersistentMap<number>, Map<string, number>][] = [];
      for (let step = 0; step < 300; step++) {
        const set: [string, number][] = [];
        const removed: string[] = [];
        for (let j = rnd(5); j > 0; j--) {
          const key = `k${rnd(400)}`;
          if (rnd(3) === 0) removed.push(key);
          else set.push([key, step * 10 + j]);
        }
        map = map.with(set, removed);
        model = new Map(model);
        for (const key of removed) model.delete(key);
        for (const [key, value] of set) model.set(key, value);
        versions.push([map, model]);
      }
      for (const [version, expected] of versions) {
        assert.deepEqual([...version], [...expected]);
        assert.deepEqual([...version.keys()], [...expected.keys()]);
        assert.equal(version.size, expected.size);
        for (let i = 0; i < 400; i++) {
          assert.equal(version.get(`k${i}`), expected.get(`k${i}`));
          assert.equal(version.has(`k${i}`), expected.has(`k${i}`));
        }
      }
    }
  });

  it('L2: names whose hashes collide (FNV-1a: costarring, liquid) are kept apart', () => {
    const base = PersistentMap.of(new Map([['costarring', 1]]));
    const both = base.with([['liquid', 2]], []);
    assert.deepEqual(
      [...both],
      [
        ['costarring', 1],
        ['liquid', 2],
      ],
    );
    const one = both.with([], ['costarring']);
    assert.deepEqual([...one], [['liquid', 2]]);
    assert.equal(one.get('costarring'), undefined);
    assert.deepEqual([...both.with([['costarring', 3]], ['liquid'])], [['costarring', 3]]);
    assert.deepEqual([...base], [['costarring', 1]]);
  });

  it('L2: a change copies O(the change), amortised, not the map', () => {
    const base = new Map<string, number>();
    for (let i = 0; i < 5000; i++) base.set(`c${i}`, i);
    let map = PersistentMap.of(base);
    const before = persistentMapCopies();
    for (let i = 0; i < 2000; i++) map = map.with([[`c${(i * 7) % 5000}`, -i]], []);
    const perChange = (persistentMapCopies() - before) / 2000;
    // A path of at most 32-slot nodes per change, plus the folds (5,000 values every 2,500 changes or more).
    assert.ok(perChange < 100, `${perChange} copies per change`);
    assert.equal(map.size, 5000);
  });
});
