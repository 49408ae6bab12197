import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import type { SnapshotCache } from '@xds/cache';
import type { XdsServer } from '@xds/server';
import type { WatchUpdate } from './index.js';
import { XdsClient } from './index.js';
import { assignment, cluster, collect, nextEvent, sampleCache, serve } from './test-support.js';

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient over ${protocol}`, () => {
    const closers: (() => Promise<void>)[] = [];
    after(async () => {
      for (const close of closers.reverse()) await close();
    });

    async function setup(): Promise<{ cache: SnapshotCache; server: XdsServer; address: string }> {
      const cache = sampleCache();
      const { server, address } = await serve(cache);
      closers.push(() => server.close());
      return { cache, server, address };
    }

    function client(
      address: string,
      extra: Partial<ConstructorParameters<typeof XdsClient>[0]> = {},
    ): XdsClient {
      const c = new XdsClient({ servers: [address], node: 'n1', protocol, ...extra });
      closers.push(() => c.close());
      return c;
    }

    it('watches by wildcard and by name, and sees a change at the server', async () => {
      const { cache, address } = await setup();
      const c = client(address);
      const clusters: WatchUpdate[] = [];
      const endpoints: WatchUpdate[] = [];
      const firstClusters = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Cluster);
      c.watch(TypeUrl.Cluster, '*', (u) => clusters.push(u));
      const firstEndpoints = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Endpoint);
      c.watch(TypeUrl.Endpoint, ['c1'], (u) => endpoints.push(u));
      await Promise.all([firstClusters, firstEndpoints]);
      assert.deepEqual([...c.resources(TypeUrl.Cluster).keys()].sort(), ['c1', 'c2']);
      assert.deepEqual([...c.resources(TypeUrl.Endpoint).keys()], ['c1']);
      assert.deepEqual(clusters[0]?.updated.map((r) => r.name).sort(), ['c1', 'c2']);
      assert.equal(endpoints[0]?.updated[0]?.name, 'c1');

      const changed = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Endpoint);
      cache.updateSnapshot('n1', (draft) => {
        draft[TypeUrl.Endpoint]['c1'] = assignment('c1', 9999);
        draft[TypeUrl.Endpoint]['c2'] = assignment('c2', 9998);
      });
      const event = await changed;
      assert.deepEqual(event.updated, ['c1'], 'c2 is not watched');
      const held = c.resources(TypeUrl.Endpoint).get('c1');
      assert.match(JSON.stringify(held?.message.$typeName), /ClusterLoadAssignment/);
      assert.ok(held !== undefined && held.bytes.length > 0, 'the encoded bytes are kept');
    });

    it('reports a Cluster that disappears as removed', async () => {
      const { cache, address } = await setup();
      const c = client(address);
      const first = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Cluster);
      const updates: WatchUpdate[] = [];
      c.watch(TypeUrl.Cluster, '*', (u) => updates.push(u));
      await first;
      const removed = nextEvent(c, 'update', (e) => e.removed.length > 0);
      cache.updateSnapshot('n1', (draft) => {
        delete draft[TypeUrl.Cluster]['c2'];
      });
      assert.deepEqual((await removed).removed, ['c2']);
      assert.deepEqual(updates.at(-1)?.removed, ['c2']);
      assert.deepEqual([...c.resources(TypeUrl.Cluster).keys()], ['c1']);
    });

    it('S5: NACKs with the message of the validation hook, and applies only the resources it accepts', async () => {
      const { cache, server, address } = await setup();
      const c = client(address, {
        validate: (_typeUrl, resource) => (resource.name === 'bad' ? 'bad is not allowed here' : null),
      });
      const first = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Cluster);
      c.watch(TypeUrl.Cluster, '*', () => {});
      await first;
      const serverNack = nextEvent(server, 'nack');
      const clientNack = nextEvent(c, 'nack');
      cache.updateSnapshot('n1', (draft) => {
        draft[TypeUrl.Cluster]['bad'] = cluster('bad');
        draft[TypeUrl.Cluster]['c3'] = cluster('c3');
      });
      const [atServer, atClient] = await Promise.all([serverNack, clientNack]);
      assert.equal(atServer.message, 'bad is not allowed here (resource "bad")');
      assert.equal(atClient.message, atServer.message);
      assert.deepEqual([...c.resources(TypeUrl.Cluster).keys()].sort(), ['c1', 'c2', 'c3']);
      if (protocol === 'sotw')
        assert.equal(c.version(TypeUrl.Cluster), atServer.acceptedVersion, 'the version stays');
    });

    it('L2: NACKs a response that would hold more resources than limits.maxResourcesPerType', async () => {
      const { server, address } = await setup();
      const c = client(address, { limits: { maxResourcesPerType: 1 } });
      const serverNack = nextEvent(server, 'nack');
      c.watch(TypeUrl.Cluster, '*', () => {});
      assert.match((await serverNack).message, /limits\.maxResourcesPerType=1/);
      assert.equal(c.resources(TypeUrl.Cluster).size, 0);
    });

    it('a second watch on held resources gets them at once; cancel unsubscribes', async () => {
      const { server, address } = await setup();
      const c = client(address);
      const first = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Endpoint);
      const cancel = c.watch(TypeUrl.Endpoint, ['c1', 'c2'], () => {});
      await first;
      const second = await new Promise<WatchUpdate>((resolve) => {
        c.watch(TypeUrl.Endpoint, ['c2'], resolve);
      });
      assert.deepEqual(
        second.updated.map((r) => r.name),
        ['c2'],
      );
      const requests = collect(server, 'request');
      const unsubscribed = nextEvent(server, 'request', (e) =>
        protocol === 'delta' ? e.unsubscribe.includes('c1') : !e.names.includes('c1'),
      );
      cancel();
      await unsubscribed;
      assert.ok(requests.length >= 1);
      assert.deepEqual([...c.resources(TypeUrl.Endpoint).keys()], ['c2']);
    });

    it('closes when its AbortSignal aborts', async () => {
      const { server, address } = await setup();
      const controller = new AbortController();
      const c = client(address, { signal: controller.signal });
      const opened = nextEvent(server, 'streamOpen');
      c.watch(TypeUrl.Cluster, '*', () => {});
      await opened;
      const closed = nextEvent(server, 'streamClose');
      const disconnected = nextEvent(c, 'disconnected');
      controller.abort();
      await Promise.all([closed, disconnected]);
      assert.equal(c.closed, true);
      assert.throws(() => c.watch(TypeUrl.Cluster, '*', () => {}), /after close/);
    });
  });
}
