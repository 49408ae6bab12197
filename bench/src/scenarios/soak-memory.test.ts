// Checks the soak's memory figures (soak-memory.ts): the slope that reports growth which goes on after the warm-up,
// and the growth over the warmed-up and the synced start (issue 10's soak bound).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryGrowth, slopePer10Minutes, warmupMinutes } from './soak-memory.js';

const point = (minute: number, rssMB: number, heapMB: number) => ({ minute, rssMB, heapMB });

describe('soak memory figures', () => {
  it('the slope is MB per 10 minutes over the samples from the start minute on', () => {
    // Warm-up growth before minute 5 (100 -> 150) is left out; from minute 5, +1 MB a minute.
    const samples = [point(0, 100, 30), point(1, 150, 30)];
    for (let m = 5; m <= 60; m++) samples.push(point(m, 150 + (m - 5), 30 + (m % 2)));
    assert.equal(slopePer10Minutes(samples, 5, 'rssMB'), 10);
    assert.ok(Math.abs(slopePer10Minutes(samples, 5, 'heapMB')) < 0.1, 'an alternating heap has no trend');
    assert.equal(slopePer10Minutes([point(5, 1, 1)], 5, 'rssMB'), 0, 'one sample: no slope');
  });

  it('growth is measured over the warmed-up start and over the synced state', () => {
    const g = memoryGrowth(point(0, 200, 36), point(5, 230, 38), point(60, 250, 40), point(61, 240, 39));
    assert.ok(Math.abs(g.rssEnd - (240 / 230 - 1)) < 1e-9);
    assert.ok(Math.abs(g.rssEndOverSynced - 0.2) < 1e-9);
    assert.ok(Math.abs(g.heapLastMinute - (40 / 38 - 1)) < 1e-9);
    assert.equal(warmupMinutes(60), 5);
    assert.equal(warmupMinutes(2), 0);
  });
});
