// Rule L4 from the client's side: nothing a listener or a response does escapes into grpc-js's `data` handler,
// where an exception takes the process down (a relay's cache once threw from the client's `update` event on a
// resource named `__proto__`, and the relay exited). A listener that throws is logged; the stream goes on.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { XdsClient } from './index.js';
import { cluster, serve } from './test-support.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient contains what its listeners throw (${protocol})`, () => {
    it('L4: update and ack listeners that throw are logged, and the next response is still applied', async () => {
      const cache = new SnapshotCache();
      cache.setSnapshot('n1', Snapshot.create([cluster('c1')], { version: 'v1' }));
      const { server, address } = await serve(cache);
      closers.push(() => server.close());
      const warnings: string[] = [];
      const client = new XdsClient({
        servers: [address],
        node: 'n1',
        protocol,
        logger: { debug: () => {}, info: () => {}, warn: (_o, m) => warnings.push(String(m)) },
      });
      closers.push(() => client.close());
      for (const event of ['update', 'ack'] as const)
        client.on(event, () => {
          throw new Error(`a ${event} listener fails`);
        });
      // The watch's own listener sees the updates (an `update` listener registered later would not: the one that
      // throws stops the emitter).
      const seen: string[] = [];
      client.watch(TypeUrl.Cluster, '*', (update) => seen.push(...update.updated.map((r) => r.name)));
      await poll('c1', () => seen.includes('c1'));
      cache.setSnapshot('n1', Snapshot.create([cluster('c1'), cluster('c2')], { version: 'v2' }));
      await poll('c2', () => seen.includes('c2'));
      assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()].sort(), ['c1', 'c2']);
      assert.ok(client.connected, 'the stream goes on');
      assert.ok(warnings.filter((w) => w.includes('listener threw')).length >= 4, warnings.join('\n'));
    });
  });
}

/** Polls `check` every 10 ms until it holds, failing after 20 s. */
async function poll(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
