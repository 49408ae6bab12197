// The text of a NACK says why first (rule S5; L2 bounds its size): each error is its reason, then the resource it is
// about with its name shortened, so that resources with long names (up to limits.maxNameBytes, 16 KiB) cannot push
// the reasons out of the limits.maxErrorDetailBytes kept. Against a real XdsServer.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { maxShownNameBytes, shownName } from './error-list.js';
import { XdsClient, type XdsResource } from './index.js';
import { clusterResponse, hostileServer } from './test-hostile-server.js';
import { cluster, clusterClient, nextEvent, serve } from './test-support.js';

describe('shownName', () => {
  it('keeps a short name whole and shortens a long one on character boundaries, saying its size', () => {
    assert.equal(shownName('c1'), '"c1"');
    const euros = '€'.repeat(2000);
    const shown = shownName(euros);
    assert.match(shown, /^"€+…€+" \(6000 bytes\)$/);
    assert.ok(Buffer.byteLength(shown) <= maxShownNameBytes + 20, shown);
    assert.ok(!shown.includes('\uFFFD'), 'no character is cut in two');
  });
});

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient's NACK text over ${protocol}`, () => {
    const closers: (() => Promise<void>)[] = [];
    after(async () => {
      for (const close of closers.reverse()) await close();
    });

    it('S5, L2: the reasons come first and every one is kept when the rejected resources have 12 KB names', async () => {
      const cache = new SnapshotCache();
      const long = (tag: string) => `${tag}-${'x'.repeat(12_000)}-${tag}`;
      cache.setSnapshot('n1', Snapshot.create([cluster('ok')]));
      const { server, address } = await serve(cache);
      closers.push(() => server.close());
      // Each long-named cluster is rejected with a reason of its own.
      const validate = (_typeUrl: string, resource: XdsResource) =>
        resource.name === 'ok' ? null : `cluster ${resource.name.slice(-1)} has no endpoints`;
      const client = await clusterClient(address, { protocol, validate }, closers);
      const atServer = nextEvent(server, 'nack');
      const atClient = nextEvent(client, 'nack');
      cache.setSnapshot(
        'n1',
        Snapshot.create([cluster('ok'), cluster(long('a')), cluster(long('b')), cluster(long('c'))]),
      );
      const [sent, seen] = await Promise.all([atClient, atServer]);
      assert.equal(seen.message, sent.message, 'the server got the text the client reports');
      const errors = sent.message.split('; ');
      assert.deepEqual(
        errors.map((e) => e.replace(/ \(resource .*$/, '').slice(0, 80)).sort(),
        ['cluster a has no endpoints', 'cluster b has no endpoints', 'cluster c has no endpoints'],
        `every reason is kept, first: ${sent.message.slice(0, 300)}`,
      );
      for (const error of errors)
        assert.match(error, /^cluster ([abc]) has no endpoints \(resource "\1-x+…x+-\1" \(12004 bytes\)\)$/);
      assert.ok(Buffer.byteLength(sent.message) < 1024, `${Buffer.byteLength(sent.message)} bytes`);
    });

    it('S5, L2: a resource whose Any names another type of 50 KB is refused saying so first, its type URL shortened', async () => {
      const url = `type.googleapis.com/${'x'.repeat(50_000)}`;
      const origin = await hostileServer(protocol, (_request, index, write) => {
        if (index === 0)
          write(clusterResponse(protocol, 'n1', [create(AnySchema, { typeUrl: url })], ['r0']));
      });
      closers.push(() => origin.close());
      const client = new XdsClient({ servers: [origin.address], node: 'n1', protocol });
      closers.push(() => client.close());
      const nack = nextEvent(client, 'nack');
      client.watch(TypeUrl.Cluster, '*', () => {});
      const { message } = await nack;
      assert.match(
        message,
        /^a resource of another type in a response of type type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster: "type\.googleapis\.com\/x+…x+" \(50020 bytes\)$/,
      );
    });
  });
}
