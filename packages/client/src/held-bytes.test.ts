// Rule L2 from the client's side: the bytes of the resources a server makes the client hold are bounded, one
// resource (`limits.maxResourceBytes`), one type (`maxResourceBytesPerType`) and every type together
// (`maxResourceBytesTotal`). Past a limit the response is NACKed with an error_detail naming the type, the size and
// the limit, so that the origin sees it (its status records the NACK); what was accepted before stays, and held
// bytes do not grow. A real XdsServer on loopback serves clusters and listeners made large by a long string field.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create, type Message } from '@bufbuild/protobuf';
import { ClusterSchema, ListenerSchema, TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import type { XdsServer } from '@xds/server';
import { type ClientLimits, type NackSentEvent, type Validate, XdsClient } from './index.js';
import { nextEvent, serve } from './test-support.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

/** A cluster whose encoding is about `bytes` long (its `alt_stat_name` pads it). */
function bigCluster(name: string, bytes: number) {
  return create(ClusterSchema, { name, altStatName: 'x'.repeat(bytes) });
}

/** A listener whose encoding is about `bytes` long (its `stat_prefix` pads it). */
function bigListener(name: string, bytes: number) {
  return create(ListenerSchema, { name, statPrefix: 'y'.repeat(bytes) });
}

/** Polls `check` every 10 ms until it holds, failing after 30 s. */
async function poll(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until the origin records the client's NACK of `typeUrl`, and returns its message. */
async function originSawNack(server: XdsServer, typeUrl: TypeUrl): Promise<string> {
  await poll(`the origin to record the ${typeUrl} NACK`, () => {
    const status = server.clients()[0]?.types[typeUrl];
    return status?.status === 'NACKED' && status.nack !== undefined;
  });
  return server.clients()[0]!.types[typeUrl]!.nack!.message;
}

/**
 * An origin serving `resources` to node n1 and a client of it over `protocol` with `limits`, watching every
 * cluster and holding the first answer; both closed after the tests.
 */
async function start(
  protocol: 'sotw' | 'delta',
  limits: ClientLimits,
  resources: Message[],
  validate?: Validate,
) {
  const cache = new SnapshotCache();
  cache.setSnapshot('n1', Snapshot.create(resources));
  const { server, address } = await serve(cache);
  closers.push(() => server.close());
  const c = new XdsClient({
    servers: [address],
    node: 'n1',
    protocol,
    limits,
    ...(validate === undefined ? {} : { validate }),
  });
  closers.push(() => c.close());
  const first = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Cluster);
  c.watch(TypeUrl.Cluster, '*', () => {});
  await first;
  return { cache, server, c };
}

const names = (c: XdsClient, typeUrl: string) => [...c.resources(typeUrl).keys()].sort();

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient bounds the bytes it holds (${protocol})`, () => {
    it('L2, S5: a resource past limits.maxResourceBytes (default 4 MiB) is NACKed naming it; the others are applied and its held version kept', async () => {
      const { cache, server, c } = await start(protocol, {}, [bigCluster('c1', 100), bigCluster('c2', 100)]);
      const c1 = c.resource(TypeUrl.Cluster, 'c1')!;

      const nack = nextEvent(c, 'nack', (e) => e.typeUrl === TypeUrl.Cluster);
      const big = 4 * 1024 * 1024 + 1000;
      cache.setSnapshot(
        'n1',
        Snapshot.create([bigCluster('c1', big), bigCluster('c2', 100), bigCluster('c3', 100)]),
      );
      const event: NackSentEvent = await nack;
      assert.match(
        event.message,
        /^type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster: a resource is \d+ bytes, over limits\.maxResourceBytes=4194304 \(resource "c1"\)$/,
      );
      assert.deepEqual(event.limits, ['maxResourceBytes']);
      assert.deepEqual(names(c, TypeUrl.Cluster), ['c1', 'c2', 'c3'], 'c3 applied, c1 kept');
      assert.equal(c.resource(TypeUrl.Cluster, 'c1')?.version, c1.version, 'c1 keeps its accepted version');
      assert.ok(c.heldBytes() < 1_000, `held ${c.heldBytes()} bytes`);
      assert.match(await originSawNack(server, TypeUrl.Cluster), /over limits\.maxResourceBytes=4194304/);
    });

    it('L2, S5: a response that would take a type past limits.maxResourceBytesPerType is NACKed naming it; none of its resources is applied', async () => {
      const limit = 64 * 1024;
      const judged: string[] = [];
      const validate: Validate = (_typeUrl, resource) => void judged.push(resource.name);
      const { cache, server, c } = await start(
        protocol,
        { maxResourceBytesPerType: limit },
        [bigCluster('c1', 20_000), bigCluster('c2', 20_000)],
        validate,
      );
      const held = c.heldBytes(TypeUrl.Cluster);
      assert.ok(held > 40_000 && held < limit, `held ${held} bytes`);
      const version = c.version(TypeUrl.Cluster);

      // c2 goes, c3 of 50 KB comes: 70 KB.
      const nack = nextEvent(c, 'nack', (e) => e.typeUrl === TypeUrl.Cluster);
      cache.setSnapshot('n1', Snapshot.create([bigCluster('c1', 20_000), bigCluster('c3', 50_000)]));
      const event = await nack;
      assert.match(
        event.message,
        /^the response would make type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster hold 7\d{4} bytes of resources, over limits\.maxResourceBytesPerType=65536$/,
      );
      assert.deepEqual(event.limits, ['maxResourceBytesPerType']);
      assert.ok(!judged.includes('c3'), 'the refused response was not decoded');
      // SotW keeps the state accepted before; delta applies the removal (a delta server does not send it again),
      // which only shrinks what is held.
      assert.deepEqual(names(c, TypeUrl.Cluster), protocol === 'sotw' ? ['c1', 'c2'] : ['c1']);
      assert.ok(c.heldBytes(TypeUrl.Cluster) <= held, 'held bytes did not grow');
      assert.equal(c.version(TypeUrl.Cluster), version, 'the accepted version stays');
      assert.match(
        await originSawNack(server, TypeUrl.Cluster),
        /over limits\.maxResourceBytesPerType=65536/,
      );

      // The origin's next content, within the limit, is taken.
      const fixed = nextEvent(c, 'ack', (e) => e.typeUrl === TypeUrl.Cluster);
      cache.setSnapshot('n1', Snapshot.create([bigCluster('c1', 20_000), bigCluster('c3', 40_000)]));
      await fixed;
      assert.deepEqual(names(c, TypeUrl.Cluster), ['c1', 'c3']);
      assert.ok(c.heldBytes(TypeUrl.Cluster) <= limit);
    });

    it('L2, S5: a response that would take the client past limits.maxResourceBytesTotal across types is NACKed naming it; the other types keep what they hold', async () => {
      const limit = 64 * 1024;
      const { cache, server, c } = await start(protocol, { maxResourceBytesTotal: limit }, [
        bigCluster('c1', 40_000),
        bigListener('l1', 40_000),
      ]);
      const held = c.heldBytes();

      const nack = nextEvent(c, 'nack', (e) => e.typeUrl === TypeUrl.Listener);
      c.watch(TypeUrl.Listener, '*', () => {});
      const event = await nack;
      assert.match(
        event.message,
        /^the response would make the client hold 8\d{4} bytes of resources across types \(type\.googleapis\.com\/envoy\.config\.listener\.v3\.Listener: 4\d{4}\), over limits\.maxResourceBytesTotal=65536$/,
      );
      assert.deepEqual(event.limits, ['maxResourceBytesTotal']);
      assert.deepEqual(names(c, TypeUrl.Listener), [], 'the listener is not held');
      assert.deepEqual(names(c, TypeUrl.Cluster), ['c1'], 'the clusters are kept');
      assert.equal(c.heldBytes(), held, 'held bytes did not grow');
      assert.match(await originSawNack(server, TypeUrl.Listener), /over limits\.maxResourceBytesTotal=65536/);

      // Smaller clusters make room: the origin's next listener is taken.
      const listeners = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Listener);
      cache.setSnapshot('n1', Snapshot.create([bigCluster('c1', 1_000), bigListener('l1', 30_000)]));
      await listeners;
      await poll('c1 made small', () => c.heldBytes(TypeUrl.Cluster) < 2_000);
      assert.deepEqual(names(c, TypeUrl.Listener), ['l1']);
      assert.ok(c.heldBytes() <= limit, `held ${c.heldBytes()} bytes`);
    });
  });
}
