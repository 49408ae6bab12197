import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GlobIndex, GlobPrefixes } from './glob-index.js';

/** A seeded PRNG (mulberry32), so that a failure can be replayed from the printed seed. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const seed = Number(process.env.XDS_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`glob index (seed ${seed})`, () => {
  const int = random(seed);
  const segment = () => ['', 'a', 'b', 'ns', 'svc', 'x.y', '*', 'é'][int(8)]!;
  const path = (max: number) => Array.from({ length: int(max) }, segment).join('/');

  it(`finds exactly the globs a name starts with, across thousands of globs (seed ${seed})`, () => {
    const index = new GlobIndex<number>();
    const globs: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const prefix = `${path(5)}/`;
      globs.push(prefix);
      index.add(prefix, i);
    }
    // Some removed again, to prune the trie.
    for (let i = 0; i < 3000; i += 3) assert.equal(index.delete(globs[i]!, i), true);
    assert.equal(index.delete('never/', 0), false);
    for (let n = 0; n < 3000; n++) {
      const name = path(7);
      const expected: number[] = [];
      for (let i = 0; i < globs.length; i++) if (i % 3 !== 0 && name.startsWith(globs[i]!)) expected.push(i);
      const found: number[] = [];
      index.forEachMatch(name, (i) => found.push(i));
      assert.deepEqual(
        found.sort((a, b) => a - b),
        expected,
        `seed ${seed}: ${JSON.stringify(name)}`,
      );
      assert.equal(index.matches(name), expected.length > 0, `seed ${seed}: ${JSON.stringify(name)}`);
    }
  });

  it('looks at one trie node per segment of the name, however many globs there are', () => {
    const index = new GlobIndex<number>();
    for (let i = 0; i < 100_000; i++) index.add(`tenant-${i % 100}/ns-${i}/`, i);
    assert.equal(index.size, 100_000);
    const before = GlobIndex.visits;
    const found: number[] = [];
    for (let i = 0; i < 1000; i++)
      index.forEachMatch(`tenant-${i % 100}/ns-${i}/svc/port`, (v) => found.push(v));
    // Two matching segments deep at most, then a miss: at most three nodes per name.
    assert.ok(GlobIndex.visits - before <= 3 * 1000, `${GlobIndex.visits - before} visits`);
    assert.deepEqual(
      found,
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  it("keeps a watch's prefixes as a set, and refuses a prefix that is not whole segments", () => {
    const prefixes = new GlobPrefixes();
    prefixes.add('a/');
    prefixes.add('a/b/');
    prefixes.add('a/');
    assert.deepEqual([...prefixes], ['a/', 'a/b/']);
    assert.equal(prefixes.matches('a/b/c'), true);
    assert.equal(prefixes.matches('ab/c'), false);
    assert.equal(prefixes.delete('a/'), true);
    assert.equal(prefixes.matches('a/x'), false);
    assert.equal(prefixes.matches('a/b/x'), true);
    prefixes.clear();
    assert.equal(prefixes.size, 0);
    assert.equal(prefixes.matches('a/b/x'), false);
    assert.throws(() => new GlobIndex().add('a', 1), /a glob prefix ends with "\/"/);
  });
});
