import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterSchema, discoveryMethods, ListenerSchema, TypeUrl } from '@xds/api';
import { deltaResponse, packOne, withClient } from './test-support/scripted-server.js';

function pathOf(typeUrl: string | undefined): string {
  const method = discoveryMethods.find((m) => m.kind === 'delta' && m.typeUrl === typeUrl);
  assert.ok(method);
  return method.path;
}

const cluster = (name: string, version = '1') => ({
  name,
  version,
  resource: packOne(ClusterSchema, { name }),
});

describe('delta client', { timeout: 20_000 }, () => {
  it('D1, S2: opens the delta ADS stream; the node goes on the first request only', async () => {
    await withClient({ protocol: 'delta' }, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a', 'b']);
      const stream = await server.streams.shift();
      assert.equal(stream.path, pathOf(undefined));
      const first = await stream.nextDelta();
      assert.equal(first.node?.id, 'node-1');
      assert.equal(first.typeUrl, TypeUrl.Cluster);
      assert.deepEqual(first.resourceNamesSubscribe, ['a', 'b']);
      assert.deepEqual(first.resourceNamesUnsubscribe, []);
      assert.equal(first.responseNonce, '');
      stream.send(deltaResponse(TypeUrl.Cluster, 'n1', [cluster('a'), cluster('b')]));
      const ack = await stream.nextDelta();
      assert.equal(ack.node, undefined);
      assert.equal(ack.typeUrl, TypeUrl.Cluster);
      assert.equal(ack.responseNonce, 'n1');
      assert.equal(ack.errorDetail, undefined);
      assert.deepEqual(ack.resourceNamesSubscribe, []);
      const response = await client.next(TypeUrl.Cluster);
      assert.equal(response.protocol, 'delta');
      assert.deepEqual(response.names, ['a', 'b']);
      assert.equal(response.acked, true);
    });
  });

  it('D2: subscribe, unsubscribe and setSubscription send the changes', async () => {
    await withClient({ protocol: 'delta' }, async (client, server) => {
      client.subscribe(TypeUrl.Endpoint, ['a', 'b']);
      const stream = await server.streams.shift();
      const lists = async () => {
        const r = await stream.nextDelta();
        return [r.resourceNamesSubscribe, r.resourceNamesUnsubscribe, r.responseNonce];
      };
      assert.deepEqual(await lists(), [['a', 'b'], [], '']);
      client.subscribe(TypeUrl.Endpoint, ['c']);
      assert.deepEqual(await lists(), [['c'], [], '']);
      client.unsubscribe(TypeUrl.Endpoint, ['a']);
      assert.deepEqual(await lists(), [[], ['a'], '']);
      client.setSubscription(TypeUrl.Endpoint, ['b', 'd']);
      assert.deepEqual(await lists(), [['d'], ['c'], '']);
    });
  });

  it('D7: [] on a new type is the implicit wildcard; setSubscription leaves it by unsubscribing "*"', async () => {
    await withClient({ protocol: 'delta' }, async (client, server) => {
      client.subscribe(TypeUrl.Listener, []);
      const stream = await server.streams.shift();
      const first = await stream.nextDelta();
      assert.deepEqual([first.resourceNamesSubscribe, first.resourceNamesUnsubscribe], [[], []]);
      client.setSubscription(TypeUrl.Listener, ['l1']);
      const change = await stream.nextDelta();
      assert.deepEqual([change.resourceNamesSubscribe, change.resourceNamesUnsubscribe], [['l1'], ['*']]);
    });
  });

  it('D8, S5: a NACK is the nonce with error_detail, and is not applied', async () => {
    const nack = (r: { removed: readonly string[] }) => (r.removed.includes('b') ? 'keep b' : undefined);
    await withClient({ protocol: 'delta', nack }, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a', 'b']);
      const stream = await server.streams.shift();
      await stream.nextDelta();
      stream.send(deltaResponse(TypeUrl.Cluster, 'n1', [cluster('a'), cluster('b')]));
      await stream.nextDelta();
      stream.send(deltaResponse(TypeUrl.Cluster, 'n2', [], ['b']));
      const nacked = await stream.nextDelta();
      assert.equal(nacked.responseNonce, 'n2');
      assert.equal(nacked.errorDetail?.code, 3);
      assert.equal(nacked.errorDetail?.message, 'keep b');
      assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()], ['a', 'b']);
    });
  });

  it('resources(): delta responses add resources and remove removed_resources', async () => {
    await withClient({ protocol: 'delta' }, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a', 'b', 'c']);
      const stream = await server.streams.shift();
      await stream.nextDelta();
      stream.send(deltaResponse(TypeUrl.Cluster, 'n1', [cluster('a'), cluster('b')]));
      await stream.nextDelta();
      stream.send(deltaResponse(TypeUrl.Cluster, 'n2', [cluster('c'), cluster('a', '2')], ['b']));
      await stream.nextDelta();
      const held = client.resources(TypeUrl.Cluster);
      assert.deepEqual([...held.keys()].sort(), ['a', 'c']);
      const last = await client.waitFor(TypeUrl.Cluster, (r) => r.nonce === 'n2');
      assert.equal(last.protocol, 'delta');
      if (last.protocol === 'delta') {
        assert.deepEqual(
          last.resources.map((r) => [r.name, r.version, r.message?.$typeName]),
          [
            ['c', '1', 'envoy.config.cluster.v3.Cluster'],
            ['a', '2', 'envoy.config.cluster.v3.Cluster'],
          ],
        );
        assert.deepEqual(last.removed, ['b']);
      }
      // Unsubscribing a named resource forgets it.
      client.unsubscribe(TypeUrl.Cluster, ['c']);
      await stream.nextDelta();
      assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()], ['a']);
    });
  });

  it('D1: per-type mode opens the per-type delta method', async () => {
    await withClient({ protocol: 'delta', ads: false }, async (client, server) => {
      client.subscribe(TypeUrl.Listener, ['l']);
      const lds = await server.streams.shift();
      assert.equal(lds.path, pathOf(TypeUrl.Listener));
      assert.equal((await lds.nextDelta()).node?.id, 'node-1');
      lds.send(
        deltaResponse('', 'n1', [
          { name: 'l', version: '1', resource: packOne(ListenerSchema, { name: 'l' }) },
        ]),
      );
      assert.equal((await lds.nextDelta()).responseNonce, 'n1');
      assert.deepEqual([...client.resources(TypeUrl.Listener).keys()], ['l']);
      client.send({ typeUrl: TypeUrl.Listener, initialResourceVersions: { l: '1' } });
      assert.deepEqual((await lds.nextDelta()).initialResourceVersions, { l: '1' });
    });
  });
});
