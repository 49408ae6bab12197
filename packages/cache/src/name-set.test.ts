import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { internKey, internNames } from './name-set.js';

describe('interned subscriptions', () => {
  it('L5: lists whose names join alike are not one subscription', () => {
    // Joined by "\n", these were one key: the second node got the first node's set.
    const mallory = internNames(new Set(['A\nB', 'C', 'D', 'E']));
    const victim = internNames(new Set(['A', 'B', 'C', 'D', 'E']));
    assert.notEqual(victim, mallory);
    assert.deepEqual([...victim], ['A', 'B', 'C', 'D', 'E']);
    // Lengths that look like part of a name do not confuse the key either.
    const lengths = internNames(new Set(['1:A', 'B', 'C', 'D']));
    const other = internNames(new Set(['1', 'A', 'B', 'C', 'D']));
    assert.deepEqual([...lengths], ['1:A', 'B', 'C', 'D']);
    assert.deepEqual([...other], ['1', 'A', 'B', 'C', 'D']);
  });

  it('L5: the same names in the same order share one set, across callers', () => {
    const first = internNames(new Set(['w', 'x', 'y', 'z']));
    const second = internNames(new Set(['w', 'x', 'y', 'z']));
    assert.equal(second, first);
  });

  it('L5: the key of a large subscription is a fixed-size digest, not a second copy of its names', () => {
    const names = Array.from(
      { length: 20_000 },
      (_, i) => `outbound|8080||service-${i}.namespace.svc.cluster.local`,
    );
    const key = internKey(names);
    assert.equal(key.length, 43, 'a SHA-256 digest in base64url');
    assert.notEqual(internKey(names.slice(1)), key);
    const first = internNames(new Set(names));
    assert.equal(internNames(new Set(names)), first, 'an equal large list shares the set');
    const reordered = internNames(new Set([...names.slice(1), names[0] as string]));
    assert.notEqual(reordered, first, 'order is part of the key');
  });
});
