// Rule L2 from the client's side, against a hostile origin on loopback: a server chooses how many resources a
// response offers and how many of them are bad. A response offering more than `limits.maxResourcesPerType` is
// counted from the wire and NACKed without decoding one (8 million empty resources once crashed the client, and
// over delta blocked it for a minute); the errors of a response are kept up to `limits.maxErrorDetailBytes` and the
// rest counted, so no string grows with the response.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema, anyPack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, DeltaDiscoveryResponseSchema, TypeUrl } from '@xds/api';
import { XdsClient } from './index.js';
import { hostileServer, clusterResponse as response } from './test-hostile-server.js';
import { nextEvent } from './test-support.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

function clusters(count: number, prefix: string) {
  const names = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  return { names, anys: names.map((name) => anyPack(ClusterSchema, create(ClusterSchema, { name }))) };
}

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient bounds how many resources a response offers (${protocol})`, () => {
    it('L2: a response offering more than limits.maxResourcesPerType is NACKed naming it, and none of its resources is decoded', async () => {
      const good = clusters(2, 'ok');
      const flood = clusters(101, 'c');
      const origin = await hostileServer(protocol, (_request, index, write) => {
        if (index === 0) write(response(protocol, 'n1', good.anys, good.names));
        if (index === 1) write(response(protocol, 'n2', flood.anys, flood.names));
      });
      closers.push(() => origin.close());
      let validated = 0;
      const client = new XdsClient({
        servers: [origin.address],
        node: 'n1',
        protocol,
        limits: { maxResourcesPerType: 100 },
        validate: () => {
          validated++;
          return null;
        },
      });
      closers.push(() => client.close());
      const nack = nextEvent(client, 'nack');
      client.watch(TypeUrl.Cluster, '*', () => {});
      const event = await nack;
      assert.match(
        event.message,
        /offers 101 resources of type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster, over limits\.maxResourcesPerType=100/,
      );
      assert.deepEqual(event.limits, ['maxResourcesPerType']);
      assert.equal(
        validated,
        2,
        'the validation hook saw only the first response: the flood was never decoded',
      );
      assert.deepEqual(
        [...client.resources(TypeUrl.Cluster).keys()].sort(),
        ['ok0', 'ok1'],
        'what was held stays',
      );
    });

    it('L2: the errors of a response are kept up to limits.maxErrorDetailBytes and the rest are counted', async () => {
      const empty = Array.from({ length: 5000 }, () => create(AnySchema));
      const origin = await hostileServer(protocol, (_request, index, write) => {
        if (index === 0) write(response(protocol, 'n1', empty));
      });
      closers.push(() => origin.close());
      const client = new XdsClient({ servers: [origin.address], node: 'n1', protocol });
      closers.push(() => client.close());
      const nack = nextEvent(client, 'nack');
      client.watch(TypeUrl.Cluster, '*', () => {});
      const event = await nack;
      const more = /; … and (\d+) more$/.exec(event.message);
      assert.ok(more !== null, `the message ends with the count left out: …${event.message.slice(-80)}`);
      const kept = event.message.split('; ').length - 1;
      assert.ok(kept > 10, `some errors are kept (${kept})`);
      assert.equal(kept + Number(more[1]), 5000, 'every error is kept or counted');
      assert.ok(Buffer.byteLength(event.message) <= 4096, `${Buffer.byteLength(event.message)} bytes`);
    });
  });
}

describe('XdsClient bounds how many names a delta response removes', () => {
  it('L2: a response removing more than limits.maxRemovedPerResponse names is NACKed naming it, and nothing of it is applied', async () => {
    const good = clusters(2, 'ok');
    // 60 in removed_resources and 41 in removed_resource_names: 101 together, one past the limit; ok0 among them.
    const removed = ['ok0', ...Array.from({ length: 59 }, (_, i) => `gone${i}`)];
    const named = Array.from({ length: 41 }, (_, i) => ({ name: `xdstp-${i}` }));
    const origin = await hostileServer('delta', (_request, index, write) => {
      if (index === 0) write(response('delta', 'n1', good.anys, good.names));
      if (index === 1)
        write(
          toBinary(
            DeltaDiscoveryResponseSchema,
            create(DeltaDiscoveryResponseSchema, {
              typeUrl: TypeUrl.Cluster,
              systemVersionInfo: 'n2',
              nonce: 'n2',
              removedResources: removed,
              removedResourceNames: named,
            }),
          ),
        );
    });
    closers.push(() => origin.close());
    const client = new XdsClient({
      servers: [origin.address],
      node: 'n1',
      protocol: 'delta',
      limits: { maxRemovedPerResponse: 100 },
    });
    closers.push(() => client.close());
    const nack = nextEvent(client, 'nack');
    client.watch(TypeUrl.Cluster, '*', () => {});
    const event = await nack;
    assert.match(
      event.message,
      /removes 101 names of type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster, over limits\.maxRemovedPerResponse=100; none was decoded$/,
    );
    assert.deepEqual(event.limits, ['maxRemovedPerResponse']);
    assert.deepEqual(
      [...client.resources(TypeUrl.Cluster).keys()].sort(),
      ['ok0', 'ok1'],
      'ok0 is not removed',
    );
  });
});
