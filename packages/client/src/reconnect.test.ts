import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { holdPort } from '../../../scripts/registries/held-port.mjs';
import { Backoff, XdsClient } from './index.js';
import { cluster, collect, nextEvent, sampleCache, serve } from './test-support.js';

describe('Backoff', () => {
  it('grows by the multiplier up to the cap, less a random part of up to jitter, and resets', () => {
    const backoff = new Backoff({ initialMs: 10, maxMs: 50, multiplier: 2, jitter: 0.5, random: () => 1 });
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next()], [5, 10, 20, 25]);
    backoff.reset();
    assert.equal(backoff.next(), 5);
    const none = new Backoff({ initialMs: 10, maxMs: 50, jitter: 0.5, random: () => 0 });
    assert.deepEqual([none.next(), none.next()], [10, 20]);
  });
});

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient reconnects over ${protocol}`, () => {
    const closers: (() => Promise<void>)[] = [];
    after(async () => {
      for (const close of closers.reverse()) await close();
    });

    it('S13, D6: retries with growing delays while the server is away, and resumes when it comes back', async () => {
      const cache = sampleCache();
      const first = await serve(cache);
      // The client's server address is a port this process holds, so the restarted server keeps it without taking
      // back a port it gave up (another test process could have it by then; held-port.mjs).
      const front = await holdPort(first.port);
      closers.push(() => front.close());
      const address = `127.0.0.1:${front.port}`;
      const c = new XdsClient({
        servers: [address],
        node: 'n1',
        protocol,
        backoff: { initialMs: 5, maxMs: 40, multiplier: 2, random: () => 0 },
      });
      closers.push(() => c.close());
      const updated = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Cluster);
      c.watch(TypeUrl.Cluster, '*', () => {});
      await updated;
      const retries = collect(c, 'reconnecting');
      const thirdRetry = nextEvent(c, 'reconnecting', (e) => e.attempt === 3);
      await first.server.close();
      front.forwardTo(undefined);
      await thirdRetry;
      assert.deepEqual(
        retries.slice(0, 4).map((r) => r.delayMs),
        [5, 10, 20, 40],
        'exponential, capped at maxMs',
      );
      const connected = nextEvent(c, 'connected');
      const second = await serve(cache);
      closers.push(() => second.server.close());
      front.forwardTo(second.port);
      const responses = collect(second.server, 'response');
      const presented = await nextEvent(second.server, 'request', (e) => e.initial);
      assert.equal((await connected).address, address);
      assert.equal(presented.versionInfo, protocol === 'sotw' ? c.version(TypeUrl.Cluster) : '');
      // The client holds c1 and c2: the server restarted with the same content sends no resource again.
      const change = nextEvent(c, 'update', (e) => e.updated.includes('c3'));
      cache.updateSnapshot('n1', (draft) => {
        draft[TypeUrl.Cluster]['c3'] = cluster('c3');
      });
      assert.deepEqual((await change).updated, ['c3'], 'only the new cluster is news');
      const sent = responses.flatMap((r) => r.resources);
      if (protocol === 'delta') assert.deepEqual(sent, ['c3'], 'D6: nothing unchanged was resent');
      else {
        // S13: the wildcard SotW subscription presented the current version, so the only response is the change.
        assert.equal(responses.length, 1);
        assert.deepEqual([...sent].sort(), ['c1', 'c2', 'c3']);
      }
      const afterHealthy = nextEvent(c, 'reconnecting');
      await second.server.close();
      assert.equal((await afterHealthy).attempt, 0, 'a stream that got a response resets the backoff');
    });

    it('fails over to the next server when the first is unreachable', async () => {
      const cache = sampleCache();
      const live = await serve(cache);
      closers.push(() => live.server.close());
      // A port this process holds with nothing behind it (each connection is reset): unlike a port given back, no
      // other test process can start a server on it meanwhile (held-port.mjs).
      const nothing = await holdPort();
      closers.push(() => nothing.close());
      const dead = `127.0.0.1:${nothing.port}`;
      const c = new XdsClient({
        servers: [dead, live.address],
        node: 'n1',
        protocol,
        backoff: { initialMs: 5, maxMs: 20 },
      });
      closers.push(() => c.close());
      const disconnected = nextEvent(c, 'disconnected');
      const connected = nextEvent(c, 'connected');
      const updated = nextEvent(c, 'update');
      c.watch(TypeUrl.Cluster, ['c1'], () => {});
      assert.equal((await disconnected).address, dead);
      assert.equal((await connected).address, live.address);
      assert.equal((await updated).address, live.address);
      assert.deepEqual([...c.resources(TypeUrl.Cluster).keys()], ['c1']);
      assert.equal(c.address, live.address);
    });
  });
}
