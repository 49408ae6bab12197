// A short slice of `npm run fuzz` in `npm test`: the same harness, a couple of thousand cases (about half a minute
// on a busy 2-core machine), one fixed seed (the same cases every run) and one fresh seed (printed, so that a
// failure can be replayed with `npm run fuzz -- --seed N`).
// Rules L1 (wire readers agree with protobuf-es), L2 (limits), L3 (no backtracking regex), L4 (nothing escapes a
// handler): the server stays up and answering, every call ends with a status, the bystander keeps converging,
// streams and memory return to the baseline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FuzzReport, runFuzz } from './harness.js';
import { freshSeed } from './random.js';

function explain(report: FuzzReport): string {
  return report.failures
    .map(
      (f) =>
        `${f.property}: ${f.message}` +
        (f.index === undefined ? '' : `\n  replay: npm run fuzz -- --seed ${report.seed} --case ${f.index}`) +
        (f.file === undefined ? '' : `\n  saved case: ${f.file}`),
    )
    .join('\n');
}

async function slice(seed: number, cases: number): Promise<void> {
  const report = await runFuzz({ seed, cases, concurrency: 32, caseTimeoutMs: 30_000, minimiseMs: 0 });
  assert.equal(report.failures.length, 0, `seed ${seed}:\n${explain(report)}`);
  assert.equal(report.casesRun, cases, `seed ${seed}: every case ran`);
  assert.ok(report.bystander.updates > 0, `seed ${seed}: the bystander received pushes`);
  assert.ok(report.memory !== undefined, `seed ${seed}: memory was measured at the baseline and the end`);
  // Every kind of case ran, so that the slice covers each path (the weights make this near certain at this size).
  assert.ok(
    Object.keys(report.kinds).length >= 10,
    `seed ${seed}: kinds run: ${JSON.stringify(report.kinds)}`,
  );
}

describe('fuzz slice (rules L1-L4)', { timeout: 240_000 }, () => {
  it('L1-L4: a fixed seed: the server survives 1,000 hostile cases and the bystander converges', async () => {
    await slice(20261201, 1000);
  });

  it('L1-L4: a fresh seed (printed): the server survives 800 hostile cases and the bystander converges', async () => {
    const seed = freshSeed();
    console.log(`fuzz slice: seed ${seed} (replay: npm run fuzz -- --seed ${seed} --cases 800)`);
    await slice(seed, 800);
  });
});
