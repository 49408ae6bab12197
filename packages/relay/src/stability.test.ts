import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { ClusterSchema, TypeUrl } from '@xds/api';
import { encodeResource } from '@xds/cache';
import { XdsClient } from '@xds/client';
import { makeCluster } from '@xds/generator';
import { holdPort } from '../../../scripts/registries/held-port.mjs';
import {
  assignment,
  closeAfterAll,
  collect,
  downstream,
  nextEvent,
  originKey,
  startOrigin,
  startOriginAndRelay,
  startRelay,
  until,
} from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

for (const upstream of ['delta', 'sotw'] as const) {
  describe(`relay over a ${upstream} upstream: static stability`, () => {
    it('X3: without its origin it keeps serving, and a restarted origin resends nothing unchanged', async () => {
      const first = await startOrigin();
      // The relay's upstream is a port this process holds, so the restarted origin keeps its address without
      // taking back a port it gave up (another test process could have it by then; held-port.mjs).
      const front = await holdPort(first.port);
      closers.push(() => front.close());
      const { relay, address } = await startRelay([`127.0.0.1:${front.port}`], {
        upstreamProtocol: upstream,
      });
      closers.push(() => relay.close());
      const clients = [
        track(downstream(address, 's1')),
        track(downstream(address, 'd1', { protocol: 'delta' })),
      ];
      for (const client of clients) {
        client.subscribe(TypeUrl.Cluster, ['*']);
        client.subscribe(TypeUrl.Endpoint, ['c1']);
        await client.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c1'));
      }
      assert.equal(relay.upstreamState(), 'connected');

      const gone = nextEvent(relay, 'upstreamDisconnected');
      await first.server.close();
      front.forwardTo(undefined);
      await gone;
      assert.equal(relay.upstreamState(), 'disconnected');
      // A client that arrives meanwhile is served what the relay holds.
      const late = track(downstream(address, 'late'));
      late.subscribe(TypeUrl.Cluster, ['*']);
      late.subscribe(TypeUrl.Endpoint, ['c1']);
      await late.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
      await late.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c1'));

      const responsesBefore = clients.map((c) => c.responses().length);
      const second = await startOrigin(first.cache);
      closers.push(() => second.server.close());
      front.forwardTo(second.port);
      const sent = collect(second.server, 'response');
      const back = nextEvent(relay, 'upstreamConnected');
      await back;
      // A change at the origin: the only news anywhere.
      const news = nextEvent(relay, 'upstreamUpdate', (e) => e.updated.includes('c3'));
      first.cache.updateSnapshot(originKey, (draft) => {
        draft[TypeUrl.Cluster]['c3'] = makeCluster({ name: 'c3' });
      });
      await news;
      for (const client of clients) await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c3'));
      // Downstream: exactly one new response each, the Cluster change; nothing unchanged was pushed again.
      assert.deepEqual(
        clients.map((c, i) => c.responses().length - responsesBefore[i]!),
        [1, 1],
      );
      const resent = sent.flatMap((r) => r.resources.map((name) => `${r.typeUrl.split('.').at(-1)}/${name}`));
      if (upstream === 'delta')
        assert.deepEqual(resent, ['Cluster/c3'], 'D6: the origin resent nothing unchanged');
      // S13 lets a server skip the first answer of a wildcard subscription only: the named EDS is answered again,
      // and the relay, seeing the same bytes, pushes nothing downstream.
      else
        assert.deepEqual(resent.filter((r) => r.startsWith('Cluster/')).sort(), [
          'Cluster/c1',
          'Cluster/c2',
          'Cluster/c3',
        ]);
    });
  });
}

describe('relay: NACKs', () => {
  it('X4: a downstream NACK is that client status on the relay, goes nowhere upstream and is not resent', async () => {
    const { origin, relay, address } = await startOriginAndRelay(closers);
    const originNacks = collect(origin.server, 'nack');
    const picky = track(
      downstream(address, 'picky', {
        nack: (r) =>
          r.typeUrl === TypeUrl.Cluster && r.names.includes('c2') ? 'c2 is not for me' : undefined,
      }),
    );
    const calm = track(downstream(address, 'calm'));
    const nacked = nextEvent(relay.server, 'nack');
    for (const client of [picky, calm]) {
      client.subscribe(TypeUrl.Cluster, ['*']);
      client.subscribe(TypeUrl.Endpoint, ['c1']);
    }
    assert.equal((await nacked).message, 'c2 is not for me');
    await calm.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
    const status = relay.server.clients().find((c) => c.nodeId === 'picky')?.types[TypeUrl.Cluster];
    assert.equal(status?.status, 'NACKED');
    assert.equal(status?.nack?.message, 'c2 is not for me');
    await until(
      'the calm client to be SYNCED',
      () =>
        relay.server.clients().find((c) => c.nodeId === 'calm')?.types[TypeUrl.Cluster]?.status === 'SYNCED',
    );
    // An Endpoint change goes out; the rejected Cluster response does not go out again (rule S6).
    const cdsBefore = picky.responses(TypeUrl.Cluster).length;
    const edsBefore = picky.responses(TypeUrl.Endpoint).length;
    origin.cache.updateSnapshot(originKey, (draft) => {
      draft[TypeUrl.Endpoint]['c1'] = assignment('c1', 9091);
    });
    await picky.waitFor(TypeUrl.Endpoint, () => picky.responses(TypeUrl.Endpoint).length > edsBefore);
    assert.equal(picky.responses(TypeUrl.Cluster).length, cdsBefore);
    assert.deepEqual(originNacks, [], 'the origin saw no NACK');
  });

  it('X4: the relay NACKs upstream only a resource it cannot decode', async () => {
    const { origin, relay, address } = await startOriginAndRelay(closers);
    const client = track(downstream(address, 'n1'));
    client.subscribe(TypeUrl.Cluster, ['*']);
    await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
    const broken = create(ClusterSchema, { name: 'broken' });
    encodeResource(broken, { bytes: new Uint8Array([0x0a, 0x06, 0x62, 0x72, 0x6f, 0x6b, 0x65, 0x6e, 0xff]) });
    const atOrigin = nextEvent(origin.server, 'nack');
    const atRelay = nextEvent(relay, 'upstreamNack');
    origin.cache.updateSnapshot(originKey, (draft) => {
      draft[TypeUrl.Cluster]['broken'] = broken;
    });
    const [nack] = await Promise.all([atOrigin, atRelay]);
    assert.match(nack.message, /cannot decode/);
    assert.equal(nack.nodeId, 'relay~web');
    assert.equal(client.resources(TypeUrl.Cluster).has('broken'), false);
  });
});

for (const protocol of ['delta', 'sotw'] as const) {
  describe(`a ${protocol} client moving from a relay to the origin`, () => {
    it('X1: presents the versions it got from the relay, and the origin sends it nothing again', async () => {
      const origin = await startOrigin();
      closers.push(() => origin.server.close());
      const { relay, address } = await startRelay([origin.address]);
      const client = new XdsClient({
        servers: [address, origin.address],
        node: { id: 'mover', cluster: 'web' },
        protocol,
        backoff: { initialMs: 5, maxMs: 20 },
      });
      closers.push(() => client.close());
      const first = new Promise<void>((resolve) => {
        client.watch(TypeUrl.Cluster, '*', () => resolve());
      });
      await first;
      assert.equal(client.address, address);
      const sent = collect(origin.server, 'response');
      const moved = new Promise<void>((resolve) =>
        client.on('connected', (e) => {
          if (e.address === origin.address) resolve();
        }),
      );
      const presented = nextEvent(origin.server, 'request', (e) => e.nodeId === 'mover');
      await relay.close();
      await moved;
      await presented;
      // A change: the only resource the origin sends the client.
      const news = new Promise<void>((resolve) =>
        client.on('update', (e) => {
          if (e.updated.includes('c3')) resolve();
        }),
      );
      origin.cache.updateSnapshot(originKey, (draft) => {
        draft[TypeUrl.Cluster]['c3'] = makeCluster({ name: 'c3' });
      });
      await news;
      const toMover = sent.filter((r) => r.nodeId === 'mover');
      if (protocol === 'delta')
        assert.deepEqual(
          toMover.flatMap((r) => r.resources),
          ['c3'],
        );
      else
        assert.equal(toMover.length, 1, 'S13: the wildcard subscription at the same version is not answered');
    });
  });
}
