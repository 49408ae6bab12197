// Rule L2 at the relay's fan-in: a downstream request that adds one name to a group holding many costs O(the
// change), not O(the names the group holds): the relay cache counts a delta watch's SubscriptionChange, the group's
// upstream takes only what its union gained or lost, and its delta upstream sends only that. The work is counted
// (elements iterated out of every Set and Map while the relay handles the request), never timed. A real origin, the
// real relay, real downstream clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import type { RequestEvent } from '@xds/server';
import { closeAfterAll, downstream, nextEvent, startOriginAndRelay, until } from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

type Iterating = 'values' | 'keys' | 'entries' | typeof Symbol.iterator;

/**
 * Counts the elements iterated out of every Set and Map (for-of, spread, `new Set(iterable)`, keys(), values(),
 * entries(), forEach) while `run` runs and until `done` settles.
 */
async function countIterated(run: () => void, done: Promise<unknown>): Promise<number> {
  let count = 0;
  const restore: (() => void)[] = [];
  for (const proto of [Set.prototype, Map.prototype] as Record<Iterating | 'forEach', unknown>[]) {
    for (const key of ['values', 'keys', 'entries', Symbol.iterator] as const) {
      const original = proto[key] as (this: unknown) => Iterator<unknown>;
      proto[key] = function (this: unknown) {
        const iterator = original.call(this);
        return {
          next: () => {
            const step = iterator.next();
            if (step.done !== true) count++;
            return step;
          },
          [Symbol.iterator]() {
            return this;
          },
        };
      };
      restore.push(() => {
        proto[key] = original;
      });
    }
    const forEach = proto['forEach'] as (this: unknown, f: (...args: unknown[]) => void) => void;
    proto['forEach'] = function (this: unknown, f: (...args: unknown[]) => void) {
      forEach.call(this, (...args: unknown[]) => {
        count++;
        f(...args);
      });
    };
    restore.push(() => {
      proto['forEach'] = forEach;
    });
  }
  try {
    run();
    await done;
  } finally {
    for (const undo of restore) undo();
  }
  return count;
}

describe('relay: the cost of a subscription change', () => {
  it('L2, X4: a delta request adding one name to a group of 20,000 names goes upstream alone, in O(the change)', {
    timeout: 120_000,
  }, async () => {
    const { origin, address } = await startOriginAndRelay(closers);
    const names = Array.from({ length: 20_000 }, (_, i) => `n${i}`);
    const big = track(downstream(address, 'big', { protocol: 'delta' }));
    const held = nextEvent(
      origin.server,
      'request',
      (e) => e.typeUrl === TypeUrl.Endpoint && e.names.includes('n19999'),
      60_000,
    );
    big.subscribe(TypeUrl.Endpoint, names);
    await held;
    await big.waitFor(TypeUrl.Endpoint, (r) => r.protocol === 'delta' && r.raw.removedResources.length > 0);

    const small = track(downstream(address, 'small', { protocol: 'delta' }));
    small.subscribe(TypeUrl.Endpoint, ['c1']);
    await small.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c1'));

    let upstream: RequestEvent | undefined;
    const sent = nextEvent(
      origin.server,
      'request',
      (e) => e.typeUrl === TypeUrl.Endpoint && e.names.includes('c2'),
      60_000,
    ).then((e) => {
      upstream = e;
    });
    const iterated = await countIterated(() => small.subscribe(TypeUrl.Endpoint, ['c2']), sent);
    assert.deepEqual(upstream?.names, ['c2'], 'only the change goes upstream');
    assert.deepEqual(upstream?.unsubscribe, []);
    assert.ok(
      iterated < 2_000,
      `${iterated} elements iterated for one added name while the group holds 20,001: O(the names held)`,
    );
    await small.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c2'));
  });

  it("X4: a group back from idle asks upstream for its new clients' names only", async () => {
    const { origin, relay, address } = await startOriginAndRelay(closers, { groupIdleMs: 60_000 });
    const upstreamNames = () =>
      [...(origin.server.clients()[0]?.types[TypeUrl.Endpoint]?.subscribed ?? [])].sort().join();
    const first = downstream(address, 'first', { protocol: 'delta' });
    first.subscribe(TypeUrl.Endpoint, ['c1']);
    await first.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c1'));
    await first.close();
    await until('the group to be idle', () => relay.server.clients().length === 0);
    const next = track(downstream(address, 'next', { protocol: 'delta' }));
    next.subscribe(TypeUrl.Endpoint, ['c2']);
    await next.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c2'));
    await until('the upstream to ask for c2 alone', () => upstreamNames() === 'c2');
    assert.equal(relay.groups().length, 1);
  });
});
