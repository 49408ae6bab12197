// The fuzzer's replay promise and its pool, without a server: case `i` of seed `s` is the same bytes whatever ran
// before it, in whatever order (so `--seed s --case i` replays a case the pool ran among 32 others), a saved case
// reads back as the same case, and the pool runs every index once within its bounds. Rules L1-L4 rest on the
// fuzzer finding and replaying inputs; these tests hold that machinery to its word.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { caseFromJson, caseToJson, type FuzzCase } from './case.js';
import { generateCase } from './cases.js';
import { describeEntries, FlightLog, replayCommand } from './flight-log.js';
import { fuzzNames } from './fuzz-config.js';
import { vocabulary } from './messages.js';
import { runPool } from './pool.js';

/** A digest of a case: its fields, with buffers hashed as bytes (cheap for cases of megabytes). */
function fingerprint(c: FuzzCase): string {
  const hash = createHash('sha256');
  const walk = (x: unknown): void => {
    if (Buffer.isBuffer(x)) {
      hash.update(`B${x.length}:`);
      hash.update(x);
    } else if (Array.isArray(x)) {
      hash.update('[');
      for (const y of x) walk(y);
      hash.update(']');
    } else if (x !== null && typeof x === 'object') {
      for (const key of Object.keys(x).sort()) {
        hash.update(`${key}=`);
        walk((x as Record<string, unknown>)[key]);
      }
    } else hash.update(`${JSON.stringify(x)};`);
  };
  walk(c);
  return hash.digest('hex');
}

describe('fuzz replay and pool', () => {
  it('L1-L4: case i of seed s has the same bytes in any order of generation, and a saved case reads back', () => {
    const indexes = Array.from({ length: 100 }, (_, i) => i);
    const first = vocabulary(fuzzNames());
    const forward = new Map(indexes.map((i) => [i, fingerprint(generateCase(77, i, first))]));
    // Another vocabulary object, the indexes backwards and interleaved with another seed's cases.
    const v = vocabulary(fuzzNames());
    let differ = 0;
    for (const i of [...indexes].reverse()) {
      if (fingerprint(generateCase(78, i, v)) !== forward.get(i)) differ++;
      const again = generateCase(77, i, v);
      assert.equal(fingerprint(again), forward.get(i), `case ${i} of seed 77`);
      if (i % 5 === 0)
        assert.equal(
          fingerprint(caseFromJson(caseToJson(again))),
          forward.get(i),
          `case ${i} saved and read back`,
        );
    }
    assert.ok(differ > 95, `seeds 77 and 78 differ in ${differ} of 100 cases`);
  });

  it('runs every index once, at most `concurrency` at once and `heavy` heavy ones at once', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let heavyInFlight = 0;
    let peak = 0;
    let heavyPeak = 0;
    await runPool(
      {
        from: 10,
        to: 210,
        concurrency: 8,
        heavy: 2,
        take: (index) => ({ index, heavy: index % 3 === 0 }),
        isHeavy: (item) => item.heavy,
        stopped: () => false,
      },
      async (index, item) => {
        inFlight++;
        if (item.heavy) heavyInFlight++;
        peak = Math.max(peak, inFlight);
        heavyPeak = Math.max(heavyPeak, heavyInFlight);
        // Yield a few turns so that cases overlap.
        for (let i = 0; i < (index % 5) + 1; i++) await new Promise((resolve) => setImmediate(resolve));
        seen.push(index);
        inFlight--;
        if (item.heavy) heavyInFlight--;
      },
    );
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, i) => i + 10),
    );
    assert.equal(peak, 8);
    assert.equal(heavyPeak, 2);
  });

  it('stops taking cases once stopped', async () => {
    let ran = 0;
    await runPool(
      {
        from: 0,
        to: 1000,
        concurrency: 4,
        heavy: 1,
        take: (i) => i,
        isHeavy: () => false,
        stopped: () => ran >= 20,
      },
      async () => {
        ran++;
        await new Promise((resolve) => setImmediate(resolve));
      },
    );
    assert.ok(ran >= 20 && ran < 24, `ran ${ran}`);
  });

  it('the flight log names the cases open or ended within the grace, then the last ones before, and their replay', () => {
    const v = vocabulary(fuzzNames());
    const log = new FlightLog(3);
    const tokens = Array.from({ length: 10 }, (_, i) => log.start(100 + i, generateCase(5, 100 + i, v), i));
    // Cases 100-107 end at 10..17 ms; 108 and 109 stay open. The breakage is noticed at 20 ms, grace 5 ms.
    for (let i = 0; i < 8; i++) log.end(tokens[i]!, 10 + i);
    const snap = log.snapshot(5, 20);
    assert.deepEqual(
      snap.inFlight.map((e) => e.index),
      [105, 106, 107, 108, 109],
    );
    assert.deepEqual(
      snap.recent.map((e) => e.index),
      [102, 103, 104],
    );
    const lines = describeEntries(snap.inFlight, snap.at).split('\n');
    assert.match(lines[0]!, /^ {2}#105 [a-z-]+: .* \(ended 5 ms before\)$/);
    assert.match(lines[4]!, /^ {2}#109 [a-z-]+: .* \(open\)$/);
    assert.equal(
      replayCommand({ seed: 5, concurrency: 32, kinds: ['sotw', 'delta'] }, [105, 106], 20),
      'npm run fuzz -- --seed 5 --indices 105,106 --concurrency 32 --repeat 20 --kinds sotw,delta',
    );
  });
});
