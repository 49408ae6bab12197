// resolveLimits (limits.ts): what an application passes as `limits` is checked before any listener starts (rule
// L2: every bound has a documented default and an option; a bad option is refused naming it, never taken as
// something else).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, XdsError } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { defaultLimits, maxTimerMs, resolveLimits } from './limits.js';
import { XdsServer } from './xds-server.js';

function refusal(pattern: RegExp) {
  return (error: unknown) =>
    error instanceof XdsError && error.code === Code.InvalidArgument && pattern.test(error.message);
}

describe('resolveLimits (rule L2)', () => {
  it('L2: a time limit past the longest Node timer is refused naming it (Node would fire it after 1 ms)', () => {
    for (const key of Object.keys(defaultLimits).filter((k) => k.endsWith('Ms'))) {
      assert.throws(
        () => resolveLimits({ [key]: maxTimerMs + 1 }),
        refusal(new RegExp(`limits\\.${key} must be at most ${maxTimerMs} ms`)),
      );
      assert.equal(resolveLimits({ [key]: maxTimerMs })[key as keyof typeof defaultLimits], maxTimerMs);
    }
    assert.throws(
      () =>
        new XdsServer({
          cache: new SnapshotCache(),
          limits: { connectionSetupTimeoutMs: Number.MAX_SAFE_INTEGER },
        }),
      refusal(/limits\.connectionSetupTimeoutMs must be at most/),
    );
  });

  it('L2: a count limit may be as large as an integer goes; unknown names and non-integers are refused', () => {
    assert.equal(resolveLimits({ maxConnections: 10_000_000_000 }).maxConnections, 10_000_000_000);
    assert.throws(() => resolveLimits({ maxNope: 1 } as never), refusal(/limits\.maxNope is not a limit/));
    assert.throws(
      () => resolveLimits({ maxConnections: 1.5 }),
      refusal(/must be a positive integer, got 1\.5/),
    );
    assert.throws(() => resolveLimits({ maxConnections: 0 }), refusal(/must be a positive integer, got 0/));
  });
});
