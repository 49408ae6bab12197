// `handle.change(added, removed)`: a watch adds and drops names in O(the change). Delta sends only the change
// (rule D2), SotW the whole subscription (rule S7); names no watch wants any more are forgotten, names already held
// are handed to the watch at once. A real XdsServer on loopback.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import type { RequestEvent } from '@xds/server';
import type { WatchUpdate } from './index.js';
import { XdsClient } from './index.js';
import { nextEvent, sampleCache, serve } from './test-support.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient watch change() (${protocol})`, () => {
    it('D2, S7: adds and drops names of a watch; delta sends just the change', async () => {
      const { server, address } = await serve(sampleCache());
      closers.push(() => server.close());
      const client = new XdsClient({ servers: [address], node: 'n1', protocol });
      closers.push(() => client.close());
      const updates: WatchUpdate[] = [];
      const first = nextEvent(client, 'update', (e) => e.typeUrl === TypeUrl.Endpoint);
      const handle = client.watch(TypeUrl.Endpoint, ['c1'], (u) => updates.push(u));
      await first;

      const request = nextEvent(server, 'request', (e: RequestEvent) => e.names.includes('c2'));
      const c2 = nextEvent(
        client,
        'update',
        (e) => e.typeUrl === TypeUrl.Endpoint && e.updated.includes('c2'),
      );
      handle.change(['c2'], ['c1']);
      const sent = await request;
      if (protocol === 'delta') {
        assert.deepEqual(sent.names, ['c2']);
        assert.deepEqual(sent.unsubscribe, ['c1']);
      } else assert.deepEqual(sent.names, ['c2']);
      await c2;
      assert.deepEqual([...client.resources(TypeUrl.Endpoint).keys()], ['c2'], 'c1 is forgotten');
      assert.deepEqual(
        updates.at(-1)?.updated.map((r) => r.name),
        ['c2'],
      );

      // A second watch adding a name the client holds gets it at once.
      const other = client.watch(TypeUrl.Endpoint, [], () => {});
      const replayed = new Promise<WatchUpdate>((resolve) => {
        const third = client.watch(TypeUrl.Endpoint, [], resolve);
        third.change(['c2'], []);
      });
      assert.deepEqual(
        (await replayed).updated.map((r) => r.name),
        ['c2'],
      );
      other();

      // On a wildcard watch the names are kept beside the wildcard (rules S9, D7): nothing is forgotten.
      const wildcard = client.watch(TypeUrl.Cluster, '*', () => {});
      assert.deepEqual(wildcard.change(['c1'], []), []);
      assert.equal(wildcard.wildcard, true);
    });
  });
}
