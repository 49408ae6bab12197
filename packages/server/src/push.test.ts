import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type ClientDuplexStream, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { DiscoveryRequestSchema, DiscoveryResponseSchema, discoveryMethods, TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import {
  assignment,
  cluster,
  type Harness,
  listener,
  nextEvent,
  route,
  sample,
  start,
} from './test-harness.js';
import { XdsServer } from './xds-server.js';

const { Cluster, Endpoint, Listener, Route } = TypeUrl;

describe('what and when the server pushes', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(async () => {
    await h.close();
  });

  it('S8: Cluster responses hold the whole set; Endpoint responses only what changed', async () => {
    h.cache.setSnapshot('s8', sample());
    const client = h.client({ node: 's8' });
    client.subscribe(Cluster, ['c1', 'c2']);
    client.subscribe(Endpoint, ['c1', 'c2']);
    await client.next(Cluster);
    await client.next(Endpoint);
    h.cache.updateSnapshot('s8', (d) => {
      d[Cluster]['c2'] = cluster('c2', 'svc');
      d[Endpoint]['c1'] = assignment('c1', 3131);
    });
    assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c2']);
    const eds = await client.waitFor(
      Endpoint,
      (r) => r.names.includes('c1') && r.versionInfo !== sample().version(Endpoint),
    );
    assert.deepEqual(
      eds.names.filter((n) => n !== 'svc'),
      ['c1'],
    );
  });

  it('S9: gRPC clients never mean wildcard by an empty list; Envoy does', async () => {
    const grpcClient = h.client({ node: { id: 'n1', userAgentName: 'gRPC Node' } });
    grpcClient.subscribe(Cluster, []);
    assert.deepEqual((await grpcClient.next(Cluster)).names, []);
    const envoy = h.client({ node: { id: 'n1', userAgentName: 'envoy' } });
    envoy.subscribe(Cluster, []);
    assert.deepEqual((await envoy.next(Cluster)).names, ['c1', 'c2']);
  });

  it('S10: a name that does not exist yet is pushed when a snapshot brings it', async () => {
    h.cache.setSnapshot('s10', sample());
    const client = h.client({ node: 's10' });
    client.subscribe(Endpoint, ['later']);
    assert.deepEqual((await client.next(Endpoint)).names, []);
    h.cache.updateSnapshot('s10', (d) => {
      d[Endpoint]['later'] = assignment('later', 1);
    });
    assert.deepEqual((await client.next(Endpoint)).names, ['later']);
  });

  it('S11: one push goes out Cluster, Endpoint, Listener, Route, and a changed Cluster brings its endpoints again', async () => {
    h.cache.setSnapshot('s11', sample());
    const client = h.client({ node: 's11' });
    client.subscribe(Route, ['r1', 'r2']);
    client.subscribe(Listener, ['l1']);
    client.subscribe(Endpoint, ['c1', 'c2', 'svc']);
    client.subscribe(Cluster, []);
    await Promise.all([Cluster, Endpoint, Listener, Route].map((t) => client.next(t)));
    const seen = client.responses().length;
    h.cache.setSnapshot(
      's11',
      sample(20_000, { cluster2Service: 'svc' }).update((d) => {
        d[Listener]['l1'] = listener('l1', 'r2');
        d[Route]['r2'] = route('r2', 'c2');
      }),
    );
    await client.waitFor(Route, (r) => r.names.includes('r2'));
    const order = client
      .responses()
      .slice(seen)
      .map((r) => r.typeUrl);
    assert.deepEqual(order, [Cluster, Endpoint, Listener, Route]);
    // Now change only cluster c2's settings: its ClusterLoadAssignment "svc" follows although it did not change.
    h.cache.updateSnapshot('s11', (d) => {
      d[Cluster]['c2'] = {
        ...cluster('c2', 'svc'),
        connectTimeout: { $typeName: 'google.protobuf.Duration', seconds: 9n, nanos: 0 },
      };
    });
    const cds = await client.waitFor(
      Cluster,
      (r) => r.nonce !== client.responses(Cluster)[1]?.nonce && client.responses(Cluster).length >= 3,
    );
    const eds = await client.waitFor(Endpoint, (r) => r.receivedAt > cds.receivedAt);
    assert.deepEqual(eds.names, ['svc']);
  });

  it('S11: when every Cluster changes, every assignment follows, unchanged ones included', async () => {
    h.cache.setSnapshot('s11-all', sample());
    const client = h.client({ node: 's11-all' });
    client.subscribe(Cluster, []);
    client.subscribe(Endpoint, ['c1', 'c2']);
    await Promise.all([client.next(Cluster), client.next(Endpoint)]);
    const timeout = { $typeName: 'google.protobuf.Duration', seconds: 7n, nanos: 0 } as const;
    h.cache.updateSnapshot('s11-all', (d) => {
      d[Cluster]['c1'] = { ...cluster('c1'), connectTimeout: timeout };
      d[Cluster]['c2'] = { ...cluster('c2'), connectTimeout: timeout };
    });
    const cds = await client.waitFor(
      Cluster,
      (r) => client.responses(Cluster).length >= 2 && r.names.length === 2,
    );
    const eds = await client.waitFor(Endpoint, (r) => r.receivedAt >= cds.receivedAt);
    assert.deepEqual([...eds.names].sort(), ['c1', 'c2']);
    assert.equal(
      eds.versionInfo,
      client.responses(Endpoint)[0]?.versionInfo,
      'the assignments did not change',
    );
  });

  it('S13, S14: a client that reconnects to another replica with the same snapshot is not pushed again', async () => {
    const replica = await start();
    try {
      const first = h.client({ node: 'n1' });
      first.subscribe(Cluster, []);
      const got = await first.next(Cluster);
      const again = replica.client({ node: 'n1' });
      again.send({
        node: { id: 'n1' },
        typeUrl: Cluster,
        resourceNames: [],
        versionInfo: got.versionInfo,
        responseNonce: got.nonce,
      });
      again.subscribe(Endpoint, ['c1']);
      await again.next(Endpoint);
      assert.equal(
        again.responses(Cluster).length,
        0,
        'same content hash on both replicas (S14): no Cluster push (S13)',
      );
      const named = replica.client({ node: 'n1' });
      named.send({
        node: { id: 'n1' },
        typeUrl: Endpoint,
        resourceNames: ['c1'],
        versionInfo: sample().version(Endpoint),
      });
      assert.deepEqual((await named.next(Endpoint)).names, ['c1'], 'a non-wildcard reconnect is answered');
    } finally {
      await replica.close();
    }
  });
});

describe('S12: backpressure', () => {
  it('S12: a client that stops reading gets the latest state, never a backlog, and does not slow others', async () => {
    const cache = new SnapshotCache();
    const big = (v: number) =>
      Snapshot.create(
        [
          ...Array.from({ length: 200 }, (_, i) => assignment(`e${i}`, 10_000 + ((v + i) % 50_000))),
          cluster('c1'),
        ],
        { version: `v${v}` },
      );
    cache.setSnapshot('slow', big(0));
    cache.setSnapshot('fast', big(0));
    const server = new XdsServer({ cache });
    const port = await server.listen('127.0.0.1:0');
    const path = discoveryMethods.find((m) => m.kind === 'sotw' && m.typeUrl === undefined)!.path;
    const Client = makeGenericClientConstructor({}, 'Ads');
    const grpcClient = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
      'grpc.http2.lookahead_bytes': 0,
      'grpc.max_receive_message_length': -1,
    } as never);
    const call = grpcClient.makeBidiStreamRequest(
      path,
      (r: Parameters<typeof toBinary<typeof DiscoveryRequestSchema>>[1]) =>
        Buffer.from(toBinary(DiscoveryRequestSchema, r)),
      (b: Buffer) => fromBinary(DiscoveryResponseSchema, b),
    ) as ClientDuplexStream<never, ReturnType<typeof fromBinary<typeof DiscoveryResponseSchema>>>;
    call.on('error', () => {});
    const fastResponses: string[] = [];
    let slowResponses = 0;
    server.on('response', (e) => {
      if (e.nodeId === 'fast') fastResponses.push(e.version);
      if (e.nodeId === 'slow') slowResponses++;
    });
    try {
      const names = Array.from({ length: 200 }, (_, i) => `e${i}`);
      const firstSlow = nextEvent(server, 'response', (e) => e.nodeId === 'slow');
      call.write(
        create(DiscoveryRequestSchema, {
          node: { id: 'slow' },
          typeUrl: Endpoint,
          resourceNames: names,
        }) as never,
      );
      await firstSlow;
      call.pause(); // stop reading: HTTP/2 flow control fills up
      const fast = new (await import('@xds/testing')).XdsTestClient({
        address: `127.0.0.1:${port}`,
        node: 'fast',
      });
      fast.subscribe(Endpoint, names);
      await fast.next(Endpoint);
      const updates = 300;
      for (let v = 1; v <= updates; v++) {
        cache.setSnapshot('slow', big(v));
        cache.setSnapshot('fast', big(v));
        if (v % 30 === 0) await fast.waitFor(Endpoint, (r) => r.versionInfo === `v${v}`);
      }
      await fast.waitFor(Endpoint, (r) => r.versionInfo === `v${updates}`);
      assert.ok(
        slowResponses < updates / 2,
        `the slow client was written ${slowResponses} responses, not ${updates}`,
      );
      // Resume reading: the slow client catches up with the latest version.
      const latest = new Promise<string>((resolve) => {
        call.on('data', (r: { versionInfo: string; nonce: string }) => {
          call.write(
            create(DiscoveryRequestSchema, {
              typeUrl: Endpoint,
              resourceNames: names,
              versionInfo: r.versionInfo,
              responseNonce: r.nonce,
            }) as never,
          );
          if (r.versionInfo === `v${updates}`) resolve(r.versionInfo);
        });
      });
      call.resume();
      assert.equal(await latest, `v${updates}`);
      assert.ok(slowResponses < updates / 2, `${slowResponses} responses for ${updates} snapshots`);
      await fast.close();
    } finally {
      call.cancel();
      grpcClient.close();
      await server.close();
    }
  });
});
