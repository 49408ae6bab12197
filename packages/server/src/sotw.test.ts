import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { Snapshot } from '@xds/cache';
import { assignment, cluster, type Harness, nextEvent, sample, start } from './test-harness.js';

const { Cluster, Endpoint, Listener, Route } = TypeUrl;

describe('SotW over gRPC', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(async () => {
    await h.close();
  });

  it('S1: ADS serves every type on one stream, each with its own version', async () => {
    h.cache.setSnapshot('ads-one', sample());
    const client = h.client({ node: 'ads-one' });
    client.subscribe(Cluster, []);
    client.subscribe(Endpoint, ['c1', 'c2']);
    client.subscribe(Listener, ['l1']);
    client.subscribe(Route, ['r1']);
    const [cds, eds, lds, rds] = await Promise.all(
      [Cluster, Endpoint, Listener, Route].map((t) => client.next(t)),
    );
    assert.deepEqual(cds?.names, ['c1', 'c2']);
    assert.deepEqual([...(eds?.names ?? [])].sort(), ['c1', 'c2']);
    assert.deepEqual(lds?.names, ['l1']);
    assert.deepEqual(rds?.names, ['r1']);
    assert.equal(cds?.versionInfo, sample().version(Cluster));
    assert.equal(eds?.versionInfo, sample().version(Endpoint));
    assert.notEqual(cds?.versionInfo, eds?.versionInfo);
    const info = h.server.clients().find((c) => c.nodeId === 'ads-one');
    assert.equal(info?.streams, 1, 'one ADS stream');
    assert.deepEqual(Object.keys(info?.types ?? {}).sort(), [Cluster, Endpoint, Listener, Route].sort());
  });

  it('S1: a per-type stream takes an empty type_url as its own type', async () => {
    const client = h.client({ ads: false });
    client.send({ node: { id: 'n1' }, typeUrl: '', resourceNames: ['c1'] }, { typeUrl: Endpoint });
    const response = await client.next(Endpoint);
    assert.deepEqual(response.names, ['c1']);
    assert.equal(response.typeUrl, Endpoint);
  });

  it('S1: another type on a per-type stream is InvalidArgument; other streams go on', async () => {
    const good = h.client({ node: 'n1' });
    good.subscribe(Cluster, []);
    await good.next(Cluster);
    const bad = h.client({ ads: false });
    bad.send({ node: { id: 'n1' }, typeUrl: Endpoint, resourceNames: ['c1'] }, { typeUrl: Cluster });
    const end = await bad.ended(Cluster);
    assert.equal(end.code, status.INVALID_ARGUMENT);
    assert.match(
      end.details,
      /type_url type.googleapis.com\/envoy.config.endpoint.v3.ClusterLoadAssignment cannot be requested on \/envoy.service.cluster.v3.ClusterDiscoveryService\/StreamClusters/,
    );
    good.subscribe(Endpoint, ['c1']);
    assert.deepEqual((await good.next(Endpoint)).names, ['c1']);
  });

  it('S1, S15: a string that is not a type URL and an empty type on ADS are InvalidArgument', async () => {
    // A well-formed type URL the server does not serve is a subscription to nothing (rule S15, unknown-type.test.ts).
    const unknown = h.client();
    unknown.send({ node: { id: 'n1' }, typeUrl: 'nope nope', resourceNames: [] });
    const end = await unknown.ended();
    assert.equal(end.code, status.INVALID_ARGUMENT);
    assert.match(end.details, /type_url "nope nope" is not a type URL/);
    const empty = h.client();
    empty.send({ node: { id: 'n1' }, typeUrl: '', resourceNames: [] });
    assert.match((await empty.ended()).details, /type_url is required on an aggregated \(ADS\) stream/);
  });

  it('S2: a first request without node.id ends the stream with InvalidArgument', async () => {
    const client = h.client({ node: { id: '' } });
    client.subscribe(Cluster, []);
    const end = await client.ended();
    assert.equal(end.code, status.INVALID_ARGUMENT);
    assert.match(end.details, /first request of a stream must carry node.id/);
  });

  it('S2: a node id that changes mid-stream ends it; the node is kept when later requests omit it', async () => {
    const client = h.client();
    client.subscribe(Cluster, []);
    await client.next(Cluster);
    client.subscribe(Endpoint, ['c1']);
    await client.next(Endpoint);
    client.send({ typeUrl: Route, resourceNames: ['r1'], node: { id: 'someone-else' } });
    const end = await client.ended();
    assert.equal(end.code, status.INVALID_ARGUMENT);
    assert.match(end.details, /node.id changed on the stream from "n1" to "someone-else"/);
  });

  it('S3: every response carries a nonce unique on the stream', async () => {
    const client = h.client();
    for (const t of [Cluster, Endpoint, Listener, Route])
      client.subscribe(t, t === Cluster ? [] : ['c1', 'l1', 'r1']);
    await Promise.all([Cluster, Endpoint, Listener, Route].map((t) => client.next(t)));
    h.cache.updateSnapshot('n1', (d) => {
      d[Cluster]['c3'] = cluster('c3');
    });
    await client.next(Cluster);
    const nonces = client.responses().map((r) => r.nonce);
    assert.equal(nonces.length, 5);
    assert.ok(nonces.every((n) => n !== ''));
    assert.equal(new Set(nonces).size, nonces.length);
    h.cache.setSnapshot('n1', sample());
  });
});

describe('SotW ACK, NACK and stale nonces', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(async () => {
    await h.close();
  });

  it('S4: a stale nonce changes nothing and gets no answer; ACK events fire only for the latest nonce', async () => {
    const client = h.client({ autoAck: false, node: 'stale' });
    h.cache.setSnapshot('stale', sample());
    const acks: string[] = [];
    h.server.on('ack', (e) => {
      if (e.nodeId === 'stale') acks.push(e.nonce);
    });
    client.subscribe(Endpoint, ['c1']);
    const first = await client.next(Endpoint);
    h.cache.updateSnapshot('stale', (d) => {
      d[Endpoint]['c1'] = assignment('c1', 9999);
    });
    const second = await client.next(Endpoint);
    // Answer the older nonce and ask for c2 too: stale, so ignored.
    const staleRequest = nextEvent(h.server, 'request', (e) => e.nodeId === 'stale' && e.stale);
    client.send({
      typeUrl: Endpoint,
      resourceNames: ['c1', 'c2'],
      versionInfo: first.versionInfo,
      responseNonce: first.nonce,
    });
    await staleRequest;
    assert.deepEqual(h.server.clients().find((c) => c.nodeId === 'stale')?.types[Endpoint]?.subscribed, [
      'c1',
    ]);
    // Answering the latest nonce with the same list is an ACK, and brings c2 in.
    const ack = nextEvent(h.server, 'ack', (e) => e.nodeId === 'stale');
    client.send({
      typeUrl: Endpoint,
      resourceNames: ['c1', 'c2'],
      versionInfo: second.versionInfo,
      responseNonce: second.nonce,
    });
    assert.equal((await ack).nonce, second.nonce);
    assert.deepEqual((await client.next(Endpoint)).names, ['c2']);
    assert.deepEqual(acks, [second.nonce]);
    assert.equal(client.responses(Endpoint).length, 3);
  });

  it('S4: the first request of a type on a new stream is initial whatever nonce it carries', async () => {
    const client = h.client();
    client.send({
      node: { id: 'n1' },
      typeUrl: Cluster,
      resourceNames: [],
      responseNonce: 'from-another-replica',
      versionInfo: 'old',
    });
    assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c2']);
  });

  it('S5, S6: a NACK is told by error_detail, even when it claims the new version, and is not resent', async () => {
    h.cache.setSnapshot('nacker', sample());
    const client = h.client({ node: 'nacker', autoAck: false });
    client.subscribe(Cluster, []);
    const response = await client.next(Cluster);
    // The client advances version_info inside its NACK: only error_detail decides.
    const nack = nextEvent(h.server, 'nack', (e) => e.nodeId === 'nacker');
    client.send({
      typeUrl: Cluster,
      resourceNames: [],
      versionInfo: response.versionInfo,
      responseNonce: response.nonce,
      errorDetail: { code: 3, message: 'cluster c2 is invalid' },
    });
    const event = await nack;
    assert.equal(event.message, 'cluster c2 is invalid');
    assert.equal(event.version, response.versionInfo);
    assert.equal(event.nonce, response.nonce);
    const info = h.server.clients().find((c) => c.nodeId === 'nacker')?.types[Cluster];
    assert.equal(info?.status, 'NACKED');
    assert.deepEqual(info?.nack, { version: response.versionInfo, message: 'cluster c2 is invalid' });
    assert.equal(info?.ackedVersion, undefined);
    // Another type's change goes out; the rejected clusters do not come back.
    client.subscribe(Endpoint, ['c1']);
    await client.next(Endpoint);
    client.ack(Endpoint);
    h.cache.updateSnapshot('nacker', (d) => {
      d[Endpoint]['c1'] = assignment('c1', 7777);
    });
    await client.next(Endpoint);
    client.ack(Endpoint);
    assert.equal(client.responses(Cluster).length, 1);
    // Clusters that differ from the rejected ones are sent, and an ACK makes the type SYNCED.
    h.cache.updateSnapshot('nacker', (d) => {
      d[Cluster]['c2'] = cluster('c2', 'fixed');
    });
    await client.next(Cluster);
    const synced = nextEvent(h.server, 'ack', (e) => e.nodeId === 'nacker' && e.typeUrl === Cluster);
    client.ack(Cluster);
    await synced;
    assert.equal(h.server.clients().find((c) => c.nodeId === 'nacker')?.types[Cluster]?.status, 'SYNCED');
  });

  it('S7: an ACK that changes nothing is not answered', async () => {
    h.cache.setSnapshot('quiet', sample());
    const client = h.client({ node: 'quiet' });
    client.subscribe(Endpoint, ['c1']);
    await client.next(Endpoint);
    client.subscribe(Listener, ['l1']);
    await client.next(Listener);
    // The Endpoint ACK went out before the Listener request on the same stream, so an answer to it would have
    // arrived before the Listener response.
    assert.equal(client.responses(Listener).length, 1);
    assert.equal(client.responses(Endpoint).length, 1);
  });

  it('S7, S9: with a long name list, a repeated list changes nothing and a list with one name swapped is a new subscription', async () => {
    const many = (port: number) =>
      Snapshot.create(Array.from({ length: 12 }, (_, i) => assignment(`e${i}`, port + i)));
    h.cache.setSnapshot('long', many(7000));
    const client = h.client({ node: 'long' });
    const first = [...Array.from({ length: 9 }, (_, i) => `e${i}`), 'e10'];
    client.subscribe(Endpoint, first);
    assert.deepEqual([...(await client.next(Endpoint)).names].sort(), [...first].sort());
    // The ACK repeats all ten names; a Listener request behind it shows that it was not answered (S7).
    client.subscribe(Listener, ['l1']);
    await client.next(Listener);
    assert.equal(client.responses(Endpoint).length, 1);
    // As many bytes, one name swapped (e10 -> e11): e11 is sent, and e10 is no longer wanted.
    const second = [...first.slice(0, 9), 'e11'];
    client.setSubscription(Endpoint, second);
    assert.deepEqual((await client.next(Endpoint)).names, ['e11']);
    h.cache.setSnapshot('long', many(8000));
    const pushed = await client.next(Endpoint);
    assert.deepEqual([...pushed.names].sort(), [...second].sort(), 'e10 is not pushed; e11 is');
    // Another stream sending bytes already seen (the first list) gets that subscription without a decode.
    const other = h.client({ node: 'long' });
    other.subscribe(Endpoint, first);
    assert.deepEqual([...(await other.next(Endpoint)).names].sort(), [...first].sort());
    other.setSubscription(Endpoint, second);
    assert.deepEqual((await other.next(Endpoint)).names, ['e11']);
    other.setSubscription(Endpoint, first);
    assert.deepEqual((await other.next(Endpoint)).names, ['e10'], 'back to the first list: e10 again');
  });
});
