import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  discoveryMethods,
  ListenerSchema,
  resourceName,
  TypeUrl,
} from '@xds/api';
import { pack, sotwResponse, withClient } from './test-support/scripted-server.js';

function pathOf(kind: 'sotw' | 'delta', typeUrl: string | undefined): string {
  const method = discoveryMethods.find((m) => m.kind === kind && m.typeUrl === typeUrl);
  assert.ok(method);
  return method.path;
}

const clusters = (...names: string[]) => pack(ClusterSchema, ...names.map((name) => ({ name })));

describe('SotW client', { timeout: 20_000 }, () => {
  it('S2: the first request of a stream carries the node, later ones do not', async () => {
    await withClient({}, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['c1']);
      const stream = await server.streams.shift();
      assert.equal(stream.path, pathOf('sotw', undefined));
      const first = await stream.nextSotw();
      assert.equal(first.node?.id, 'node-1');
      assert.equal(first.typeUrl, TypeUrl.Cluster);
      assert.deepEqual(first.resourceNames, ['c1']);
      assert.equal(first.versionInfo, '');
      assert.equal(first.responseNonce, '');
      stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n1', clusters('c1')));
      const ack = await stream.nextSotw();
      assert.equal(ack.node, undefined);
      client.subscribe(TypeUrl.Endpoint, ['c1']);
      const eds = await stream.nextSotw();
      assert.equal(eds.node, undefined);
      assert.equal(eds.typeUrl, TypeUrl.Endpoint);
      assert.equal(client.requests.length, 3);
    });
  });

  it('sendNodeOnEveryRequest puts the node on every request', async () => {
    await withClient(
      { sendNodeOnEveryRequest: true, node: { id: 'n', cluster: 'c' } },
      async (client, server) => {
        client.subscribe(TypeUrl.Cluster, ['c1']);
        const stream = await server.streams.shift();
        assert.equal((await stream.nextSotw()).node?.cluster, 'c');
        stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n1', clusters('c1')));
        assert.equal((await stream.nextSotw()).node?.id, 'n');
      },
    );
  });

  it('S5: an ACK repeats the version and nonce with the whole subscription', async () => {
    await withClient({}, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a', 'b']);
      const stream = await server.streams.shift();
      await stream.nextSotw();
      stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n1', clusters('a', 'b')));
      const ack = await stream.nextSotw();
      assert.equal(ack.typeUrl, TypeUrl.Cluster);
      assert.equal(ack.versionInfo, 'v1');
      assert.equal(ack.responseNonce, 'n1');
      assert.deepEqual(ack.resourceNames, ['a', 'b']);
      assert.equal(ack.errorDetail, undefined);
      const response = await client.next(TypeUrl.Cluster);
      assert.equal(response.acked, true);
      assert.deepEqual(response.names, ['a', 'b']);

      // A subscription change carries the version accepted and the latest nonce, and every name.
      client.subscribe(TypeUrl.Cluster, ['c', 'a']);
      const change = await stream.nextSotw();
      assert.equal(change.versionInfo, 'v1');
      assert.equal(change.responseNonce, 'n1');
      assert.deepEqual(change.resourceNames, ['a', 'b', 'c']);
    });
  });

  it('S5: a NACK carries the version last accepted, the new nonce and error_detail', async () => {
    const nack = (r: { versionInfo: string }) =>
      r.versionInfo === 'v1' ? undefined : `bad ${r.versionInfo}`;
    await withClient({ nack }, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a']);
      const stream = await server.streams.shift();
      await stream.nextSotw();
      stream.send(sotwResponse(TypeUrl.Cluster, 'v0', 'n0', clusters('a')));
      const first = await stream.nextSotw();
      assert.equal(first.versionInfo, '', 'nothing accepted yet');
      assert.equal(first.responseNonce, 'n0');
      assert.equal(first.errorDetail?.message, 'bad v0');
      stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n1', clusters('a')));
      assert.equal((await stream.nextSotw()).versionInfo, 'v1');
      stream.send(sotwResponse(TypeUrl.Cluster, 'v2', 'n2', clusters('a', 'b')));
      const nacked = await stream.nextSotw();
      assert.equal(nacked.versionInfo, 'v1');
      assert.equal(nacked.responseNonce, 'n2');
      assert.equal(nacked.errorDetail?.code, 3);
      assert.equal(nacked.errorDetail?.message, 'bad v2');
      assert.deepEqual(nacked.resourceNames, ['a']);
      const responses = client.responses(TypeUrl.Cluster);
      assert.deepEqual(
        responses.map((r) => [r.acked, r.nackMessage]),
        [
          [false, 'bad v0'],
          [true, undefined],
          [false, 'bad v2'],
        ],
      );
      assert.deepEqual(
        [...client.resources(TypeUrl.Cluster).keys()],
        ['a'],
        'the NACKed response is not applied',
      );
    });
  });

  it('autoAck false: the test answers the latest response with ack() and nack()', async () => {
    await withClient({ autoAck: false }, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a']);
      const stream = await server.streams.shift();
      await stream.nextSotw();
      stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n1', clusters('a')));
      const r1 = await client.next(TypeUrl.Cluster);
      assert.equal(r1.acked, undefined);
      assert.equal(client.requests.length, 1);
      assert.equal(client.resources(TypeUrl.Cluster).size, 0);
      client.ack(TypeUrl.Cluster);
      const ack = await stream.nextSotw();
      assert.deepEqual([ack.versionInfo, ack.responseNonce], ['v1', 'n1']);
      assert.equal(r1.acked, true);
      assert.equal(client.resources(TypeUrl.Cluster).size, 1);

      stream.send(sotwResponse(TypeUrl.Cluster, 'v2', 'n2', clusters('b')));
      await client.next(TypeUrl.Cluster);
      client.nack(TypeUrl.Cluster, 'no');
      const nack = await stream.nextSotw();
      assert.deepEqual([nack.versionInfo, nack.responseNonce, nack.errorDetail?.message], ['v1', 'n2', 'no']);
      assert.throws(() => client.ack(TypeUrl.Listener), /ack\(Listener\)/);
    });
  });

  it('S9: [] on a new type is legacy wildcard, "*" the explicit one; later [] means nothing', async () => {
    await withClient({}, async (client, server) => {
      client.subscribe(TypeUrl.Listener, []);
      const stream = await server.streams.shift();
      assert.deepEqual((await stream.nextSotw()).resourceNames, []);
      client.subscribe(TypeUrl.Cluster, ['*']);
      assert.deepEqual((await stream.nextSotw()).resourceNames, ['*']);
      client.setSubscription(TypeUrl.Cluster, ['x']);
      assert.deepEqual((await stream.nextSotw()).resourceNames, ['x']);
      client.unsubscribe(TypeUrl.Cluster, ['x']);
      assert.deepEqual((await stream.nextSotw()).resourceNames, []);
      assert.throws(() => client.unsubscribe(TypeUrl.Route, ['r']), /not subscribed/);
    });
  });

  it('S1: per-type mode opens the per-type method of each type, each with the node first', async () => {
    await withClient({ ads: false }, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['c1']);
      const cds = await server.streams.shift();
      assert.equal(cds.path, pathOf('sotw', TypeUrl.Cluster));
      assert.equal((await cds.nextSotw()).node?.id, 'node-1');
      client.subscribe(TypeUrl.Endpoint, ['c1']);
      const eds = await server.streams.shift();
      assert.equal(eds.path, pathOf('sotw', TypeUrl.Endpoint));
      assert.equal((await eds.nextSotw()).node?.id, 'node-1');
      // An empty type_url on a per-type stream means the stream's type.
      cds.send(sotwResponse('', 'v1', 'n1', clusters('c1')));
      const ack = await cds.nextSotw();
      assert.deepEqual([ack.typeUrl, ack.versionInfo, ack.node], [TypeUrl.Cluster, 'v1', undefined]);
      assert.equal((await client.next(TypeUrl.Cluster)).typeUrl, TypeUrl.Cluster);
      assert.equal(client.requests.length, 3);
      assert.throws(() => client.send({ versionInfo: 'x' }), /options.typeUrl/);
    });
  });

  it('resources(): Listener and Cluster responses replace the set, other types add to it', async () => {
    await withClient({}, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a', 'b']);
      const stream = await server.streams.shift();
      await stream.nextSotw();
      stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n1', clusters('a', 'b')));
      await stream.nextSotw();
      stream.send(sotwResponse(TypeUrl.Cluster, 'v2', 'n2', clusters('b')));
      await stream.nextSotw();
      assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()], ['b']);

      client.subscribe(TypeUrl.Endpoint, ['a', 'b']);
      await stream.nextSotw();
      const cla = (name: string, port: number) => ({
        clusterName: name,
        endpoints: [{ lbEndpoints: [{ loadBalancingWeight: port }] }],
      });
      stream.send(sotwResponse(TypeUrl.Endpoint, 'e1', 'n3', pack(ClusterLoadAssignmentSchema, cla('a', 1))));
      await stream.nextSotw();
      stream.send(sotwResponse(TypeUrl.Endpoint, 'e2', 'n4', pack(ClusterLoadAssignmentSchema, cla('b', 2))));
      await stream.nextSotw();
      const endpoints = client.resources(TypeUrl.Endpoint);
      assert.deepEqual([...endpoints.keys()].sort(), ['a', 'b']);
      const b = endpoints.get('b');
      assert.ok(b);
      assert.equal(resourceName(b), 'b');

      // Unsubscribing forgets a resource of a named subscription.
      client.unsubscribe(TypeUrl.Endpoint, ['a']);
      assert.deepEqual((await stream.nextSotw()).resourceNames, ['b']);
      assert.deepEqual([...client.resources(TypeUrl.Endpoint).keys()], ['b']);
    });
  });

  it('NACKs what Envoy could not decode: a resource of another type, a name twice', async () => {
    await withClient({}, async (client, server) => {
      client.subscribe(TypeUrl.Listener, []);
      const stream = await server.streams.shift();
      await stream.nextSotw();
      stream.send(sotwResponse(TypeUrl.Listener, 'v1', 'n1', clusters('x')));
      const nack1 = await stream.nextSotw();
      assert.match(
        nack1.errorDetail?.message ?? '',
        /envoy\.config\.cluster\.v3\.Cluster in a response of type/,
      );
      stream.send(
        sotwResponse(TypeUrl.Listener, 'v2', 'n2', pack(ListenerSchema, { name: 'l' }, { name: 'l' })),
      );
      const nack2 = await stream.nextSotw();
      assert.match(nack2.errorDetail?.message ?? '', /"l" appears twice/);
      assert.equal(client.resources(TypeUrl.Listener).size, 0);
    });
  });

  it('records but does not answer a type it never subscribed to', async () => {
    await withClient({}, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a']);
      const stream = await server.streams.shift();
      await stream.nextSotw();
      stream.send(sotwResponse(TypeUrl.Route, 'r1', 'n1', []));
      stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n2', clusters('a')));
      const ack = await stream.nextSotw();
      assert.equal(ack.responseNonce, 'n2');
      const [route] = client.responses(TypeUrl.Route);
      assert.equal(route?.acked, undefined);
      assert.deepEqual(
        client.responses().map((r) => r.nonce),
        ['n1', 'n2'],
      );
    });
  });

  it('send() writes a crafted request as it is', async () => {
    await withClient({}, async (client, server) => {
      client.send({
        typeUrl: TypeUrl.Cluster,
        responseNonce: 'stale',
        errorDetail: { code: 13, message: 'x' },
      });
      const stream = await server.streams.shift();
      const raw = await stream.nextSotw();
      assert.equal(raw.node, undefined);
      assert.equal(raw.responseNonce, 'stale');
      assert.equal(raw.errorDetail?.code, 13);
      // The raw request counted as the first of the stream.
      client.subscribe(TypeUrl.Cluster, ['a']);
      assert.equal((await stream.nextSotw()).node, undefined);
      assert.equal(client.requests.length, 2);
    });
  });
});
