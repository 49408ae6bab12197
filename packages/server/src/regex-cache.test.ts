// Rule L3: compiled RE2 regexes are kept by pattern (regex-cache.ts), so a pattern repeated across CSDS requests
// builds its automaton once (probe finding Q7: 240-290 ms per request for one 1,800-instruction regex), and only the
// most recent regexCacheSize are kept, so the cache itself is bounded (rule L2).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cachedRe2, regexCacheSize } from './regex-cache.js';
import { compileRe2 } from './string-matcher.js';

describe('L3: compiled regexes kept by pattern', () => {
  it('L3: the same pattern is compiled once while it is among the most recent; the oldest is let go', () => {
    const first = cachedRe2('node-[0-9]+');
    assert.equal(cachedRe2('node-[0-9]+'), first);
    assert.ok(first.matches('node-12'));
    // regexCacheSize other patterns, with node-[0-9]+ used again halfway: it stays, the one not used goes.
    const other = cachedRe2('other-[0-9]+');
    for (let i = 0; i < regexCacheSize; i++) {
      cachedRe2(`filler-${i}`);
      if (i === regexCacheSize / 2) cachedRe2('node-[0-9]+');
    }
    assert.equal(cachedRe2('node-[0-9]+'), first);
    assert.notEqual(cachedRe2('other-[0-9]+'), other);
  });

  it('L3: a pattern RE2 rejects is not kept and is refused each time, naming the field', () => {
    for (let i = 0; i < 2; i++)
      assert.throws(() => compileRe2('(?=a)a', 'node_matchers[0].node_id.safe_regex'), /is not an RE2 regex/);
  });
});
