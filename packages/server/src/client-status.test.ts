// XdsServer's status accessors (rule S5): clientCount(), hasClient() and clientOf() read the stream registry's
// per-node index without copying any subscription, and clients() copies at most maxSubscribedNames names per type
// while subscribedCount still counts them all (rule L2: a client may hold 100,000 names per stream).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { start } from './test-harness.js';
import type { XdsServer } from './xds-server.js';

const { Endpoint } = TypeUrl;

/** Polls `check` until it returns true, failing after a generous deadline (no timing assumptions). */
async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const subscribedCount = (server: XdsServer, nodeId: string) =>
  server.clientOf(nodeId, { maxSubscribedNames: 0 })?.types[Endpoint]?.subscribedCount ?? -1;

describe('client status accessors (rule S5)', () => {
  it('S5: clientCount, hasClient and clientOf follow the open streams of each node', async () => {
    const h = await start();
    try {
      const names = ['e1', 'e2', 'e3', 'e4', 'e5'];
      const a1 = h.client({ node: 'a' });
      const a2 = h.client({ node: 'a' });
      const b = h.client({ node: 'b' });
      a1.subscribe(Endpoint, names);
      a2.subscribe(Endpoint, ['e1']);
      b.subscribe(Endpoint, ['e9']);
      await until('both nodes', () => h.server.streamCount === 3 && subscribedCount(h.server, 'b') === 1);
      assert.equal(h.server.clientCount(), 2);
      assert.equal(h.server.clients().length, 2);
      assert.equal(h.server.hasClient('a'), true);
      assert.equal(h.server.hasClient('nobody'), false);
      assert.equal(h.server.clientOf('nobody'), undefined);
      const a = h.server.clientOf('a');
      assert.equal(a?.nodeId, 'a');
      assert.equal(a?.streams, 2);
      assert.deepEqual(h.server.clientOf('b')?.types[Endpoint]?.subscribed, ['e9']);

      await a2.close();
      await until('a2 gone', () => h.server.streamCount === 2);
      assert.equal(h.server.clientCount(), 2);
      assert.equal(h.server.clientOf('a')?.streams, 1);
      await a1.close();
      await until('a gone', () => h.server.streamCount === 1);
      assert.equal(h.server.clientCount(), 1);
      assert.equal(h.server.hasClient('a'), false);
      assert.equal(h.server.clientOf('a'), undefined);
    } finally {
      await h.close();
    }
  });

  it('L2: clients({ maxSubscribedNames }) copies at most that many names and counts them all', async () => {
    const h = await start();
    try {
      const names = Array.from({ length: 50 }, (_, i) => `missing-${i}`);
      const client = h.client({ node: 'holder' });
      client.subscribe(Endpoint, names);
      await until('the subscription', () => subscribedCount(h.server, 'holder') === 50);
      const [capped] = h.server.clients({ maxSubscribedNames: 3 });
      assert.deepEqual(capped?.types[Endpoint]?.subscribed, names.slice(0, 3));
      assert.equal(capped?.types[Endpoint]?.subscribedCount, 50);
      assert.deepEqual(h.server.clients({ maxSubscribedNames: 0 })[0]?.types[Endpoint]?.subscribed, []);
      assert.equal(h.server.clients()[0]?.types[Endpoint]?.subscribed.length, 50);
    } finally {
      await h.close();
    }
  });
});
