import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import type { DeltaReceivedResponse } from '@xds/testing';
import { assignment, cluster, type Harness, nextEvent, sample, start } from './test-harness.js';

const { Cluster, Endpoint } = TypeUrl;

function names(r: DeltaReceivedResponse | { names: readonly string[] }): string[] {
  return [...r.names].sort();
}

describe('delta over gRPC', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(async () => {
    await h.close();
  });

  it('D1: DeltaAggregatedResources and the per-type Delta methods serve resources', async () => {
    const ads = h.client({ protocol: 'delta' });
    ads.subscribe(Endpoint, ['c1']);
    assert.deepEqual((await ads.next(Endpoint)).names, ['c1']);
    const perType = h.client({ protocol: 'delta', ads: false });
    perType.subscribe(Cluster, ['c2']);
    assert.deepEqual((await perType.next(Cluster)).names, ['c2']);
  });

  it('D3, D4, D8: subscribing sends what exists with content versions and removes what does not; every response has a nonce', async () => {
    const client = h.client({ protocol: 'delta' });
    client.subscribe(Endpoint, ['c1', 'ghost']);
    const r = (await client.next(Endpoint)) as DeltaReceivedResponse;
    assert.deepEqual(r.names, ['c1']);
    assert.deepEqual(r.removed, ['ghost']);
    assert.equal(r.resources[0]?.version, sample().entries(Endpoint).get('c1')?.version);
    assert.equal(r.versionInfo, sample().version(Endpoint));
    assert.notEqual(r.nonce, '');
  });

  it('D5: after the first answer only changes and removals go out', async () => {
    h.cache.setSnapshot('d5', sample());
    const client = h.client({ protocol: 'delta', node: 'd5' });
    client.subscribe(Endpoint, ['c1', 'c2']);
    assert.deepEqual(names(await client.next(Endpoint)), ['c1', 'c2']);
    h.cache.updateSnapshot('d5', (d) => {
      d[Endpoint]['c1'] = assignment('c1', 4242);
    });
    const changed = (await client.next(Endpoint)) as DeltaReceivedResponse;
    assert.deepEqual(changed.names, ['c1']);
    assert.deepEqual(changed.removed, []);
    h.cache.updateSnapshot('d5', (d) => {
      delete d[Endpoint]['c2'];
    });
    const removed = (await client.next(Endpoint)) as DeltaReceivedResponse;
    assert.deepEqual(removed.names, []);
    assert.deepEqual(removed.removed, ['c2']);
    assert.deepEqual([...client.resources(Endpoint).keys()], ['c1']);
  });

  it('D6: a reconnect with initial_resource_versions gets only what differs', async () => {
    const current = sample().entries(Endpoint);
    const client = h.client({ protocol: 'delta' });
    client.send({
      node: { id: 'n1' },
      typeUrl: Endpoint,
      resourceNamesSubscribe: ['c1', 'c2', 'gone'],
      initialResourceVersions: { c1: current.get('c1')!.version, c2: 'outdated', gone: 'x' },
    });
    const r = (await client.next(Endpoint)) as DeltaReceivedResponse;
    assert.deepEqual(r.names, ['c2']);
    assert.deepEqual(r.removed, ['gone']);
  });

  it('D7: wildcard by an empty first request, leaving it by unsubscribing "*"', async () => {
    h.cache.setSnapshot('d7', sample());
    const client = h.client({ protocol: 'delta', node: 'd7' });
    client.subscribe(Cluster, []);
    assert.deepEqual(names(await client.next(Cluster)), ['c1', 'c2']);
    client.subscribe(Cluster, ['c1']);
    assert.deepEqual(names(await client.next(Cluster)), ['c1'], 'a named resource is sent even if held (D3)');
    // Unsubscribing c1 while still under wildcard: the server says c1 again.
    client.unsubscribe(Cluster, ['c1']);
    assert.deepEqual(names(await client.next(Cluster)), ['c1']);
    client.unsubscribe(Cluster, ['*']);
    const left = nextEvent(h.server, 'request', (e) => e.nodeId === 'd7' && e.unsubscribe.includes('*'));
    await left;
    h.cache.updateSnapshot('d7', (d) => {
      d[Cluster]['c3'] = cluster('c3');
    });
    client.subscribe(Endpoint, ['c1']);
    await client.next(Endpoint);
    assert.equal(client.responses(Cluster).length, 3, 'no Cluster push after leaving wildcard');
  });

  it('D2: subscription changes that come with a stale nonce still apply', async () => {
    h.cache.setSnapshot('d2', sample());
    const client = h.client({ protocol: 'delta', node: 'd2', autoAck: false });
    client.subscribe(Endpoint, ['c1']);
    const first = await client.next(Endpoint);
    client.ack(Endpoint);
    h.cache.updateSnapshot('d2', (d) => {
      d[Endpoint]['c1'] = assignment('c1', 5151);
    });
    await client.next(Endpoint);
    client.send({ typeUrl: Endpoint, resourceNamesSubscribe: ['c2'], responseNonce: first.nonce });
    assert.deepEqual((await client.next(Endpoint)).names, ['c2']);
  });

  it('D8, S6: a delta NACK is recorded and the rejected resource is not resent', async () => {
    h.cache.setSnapshot('d8', sample());
    const nack = nextEvent(h.server, 'nack', (e) => e.nodeId === 'd8');
    const client = h.client({
      protocol: 'delta',
      node: 'd8',
      nack: (r) => (r.names.includes('c2') ? 'c2 rejected' : undefined),
    });
    client.subscribe(Endpoint, ['c2']);
    await client.next(Endpoint);
    assert.equal((await nack).message, 'c2 rejected');
    client.subscribe(Endpoint, ['c1']);
    assert.deepEqual((await client.next(Endpoint)).names, ['c1']);
    h.cache.updateSnapshot('d8', (d) => {
      d[Endpoint]['c1'] = assignment('c1', 6161);
    });
    assert.deepEqual(
      (await client.next(Endpoint)).names,
      ['c1'],
      'only c1 changed; rejected c2 is not resent',
    );
  });
});
