// Rule L2 (probe5 P2): the names streams hold subscribed are bounded per stream over its types
// (`maxNamesPerStream`), per type the server does not serve (`maxNamesPerUnknownType`, rule S15), and by a budget of
// their heap per connection, per peer address and across the server (`maxSubscriptionBytes…`). Past a bound the
// stream whose change it is ends with RESOURCE_EXHAUSTED naming the limit; other streams and connections go on; a
// stream's charge is given back however it ends. Over a real grpc-js server, with raw HTTP/2 connections from
// chosen loopback addresses (127.0.0.2 is another peer).
import assert from 'node:assert/strict';
import { connect as http2Connect } from 'node:http2';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { type Harness, start } from './test-harness.js';
import { methodPathOf, RawStream, sotwRequest, until } from './test-raw-client.js';

const { Cluster, Endpoint, Route } = TypeUrl;
const Quota = 'type.googleapis.com/acme.v1.Quota';
const patience = 60_000;

/** `count` distinct names of 60 characters. */
function names(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}-`.padEnd(60, 'x'));
}

/** What one stream's SotW subscription of `names(…, 100)` is charged: 2 × (100 × (60 + 2 bytes of framing)) + 40 × 100. */
const hundredNames = 2 * 100 * 62 + 40 * 100;

/** Raw HTTP/2 connections from chosen loopback addresses; `close` ends them all. */
function connections() {
  const sessions: ReturnType<typeof http2Connect>[] = [];
  return {
    /** A connection from `localAddress`; `open` starts an ADS SotW stream (or another method) on it. */
    from(port: number, localAddress = '127.0.0.1') {
      const session = http2Connect(`http://127.0.0.1:${port}`, {
        createConnection: () => connect({ host: '127.0.0.1', port, localAddress }),
      });
      session.on('error', () => {});
      sessions.push(session);
      return {
        open: (path = methodPathOf('sotw')) =>
          new RawStream(
            session.request({
              ':method': 'POST',
              ':path': path,
              'content-type': 'application/grpc',
              te: 'trailers',
            }),
          ),
      };
    },
    close() {
      for (const session of sessions) session.destroy();
    },
  };
}

describe('L2: subscribed names bounded per stream, per unknown type, per connection, per peer and in all', () => {
  const harnesses: Harness[] = [];
  const raw = connections();
  after(async () => {
    raw.close();
    await Promise.all(harnesses.map((h) => h.close()));
  });

  async function server(limits: Record<string, number> = {}): Promise<[Harness, number]> {
    const h = await start({ limits });
    harnesses.push(h);
    return [h, Number(h.address.split(':')[1])];
  }

  const subscriptions = (h: Harness) => h.server.streamStats().subscriptions;

  /** Waits until the server's streams hold `count` names in all. */
  const holding = (h: Harness, count: number) =>
    until(() => subscriptions(h).names === count, `${count} names held`, patience);

  /** A SotW stream of node n1 on `connection` subscribing EDS to `names(prefix, 100)`. */
  function eds(connection: { open(): RawStream }, prefix: string): RawStream {
    const stream = connection.open();
    stream.send({ node: { id: 'n1' }, typeUrl: Endpoint, resourceNames: names(prefix, 100) });
    return stream;
  }

  /** A bystander on the same server is served. */
  async function bystanderServed(h: Harness): Promise<void> {
    const other = h.client({ timeoutMs: patience });
    other.subscribe(Cluster, []);
    assert.deepEqual((await other.next(Cluster)).names, ['c1', 'c2']);
  }

  it('L2: limits.maxNamesPerStream bounds a stream over its types; SotW and delta; the change past it ends the stream, named', async () => {
    const [h, port] = await server({ maxNamesPerStream: 100 });
    const connection = raw.from(port);
    const stream = connection.open();
    stream.send({ node: { id: 'n1' }, typeUrl: Endpoint, resourceNames: names('e', 60) });
    await holding(h, 60);
    // A SotW request replaces its type's names: 40 routes fit beside 60 endpoints, 41 do not.
    stream.send({ typeUrl: Route, resourceNames: names('r', 40) });
    await holding(h, 100);
    stream.send({ typeUrl: Route, resourceNames: names('r', 41) });
    const end = await stream.end(patience);
    assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.match(
      end.grpcMessage ?? '',
      /would hold 101 names over its types \(41 of type\.googleapis\.com\/envoy\.config\.route\.v3\.RouteConfiguration\), more than limits\.maxNamesPerStream \(100\)/,
    );
    await holding(h, 0);
    assert.equal(subscriptions(h).bytes, 0, 'the ended stream gave back its charge');
    // Delta: unsubscribing makes room; subscribing past it ends the stream.
    const client = h.client({ protocol: 'delta', timeoutMs: patience });
    client.subscribe(Endpoint, names('e', 60));
    client.subscribe(Route, names('r', 40));
    await holding(h, 100);
    client.unsubscribe(Endpoint, names('e', 30));
    client.subscribe(Route, names('s', 30));
    await holding(h, 100);
    client.subscribe(Route, ['one-more']);
    const ended = await client.ended(Route);
    assert.equal(ended.code, status.RESOURCE_EXHAUSTED);
    assert.match(ended.details, /more than limits\.maxNamesPerStream \(100\)/);
    await holding(h, 0);
    assert.equal(h.server.streamStats().endedByLimit.maxNamesPerStream, 2);
    await bystanderServed(h);
  });

  it('S15, L2: a type the server does not serve holds at most limits.maxNamesPerUnknownType (default 1,000) names', async () => {
    const [h] = await server();
    const sotw = h.client({ timeoutMs: patience });
    sotw.subscribe(Quota, names('q', 1_000));
    assert.equal((await sotw.next(Quota)).resources.length, 0, 'answered as a type with no resources');
    sotw.subscribe(Endpoint, names('e', 1_001));
    await holding(h, 2_001);
    sotw.subscribe(Quota, names('q', 1_001));
    let end = await sotw.ended(Quota);
    assert.equal(end.code, status.RESOURCE_EXHAUSTED);
    assert.match(
      end.details,
      /the subscription of type\.googleapis\.com\/acme\.v1\.Quota, a type this server does not serve \(rule S15\), would hold 1001 names, more than limits\.maxNamesPerUnknownType \(1000\)/,
    );
    // Delta: the subscription grows by requests.
    const delta = h.client({ protocol: 'delta', timeoutMs: patience });
    delta.subscribe(Quota, names('q', 600));
    await delta.next(Quota);
    delta.subscribe(Quota, names('p', 401));
    end = await delta.ended(Quota);
    assert.equal(end.code, status.RESOURCE_EXHAUSTED);
    assert.match(end.details, /would hold 1001 names, more than limits\.maxNamesPerUnknownType \(1000\)/);
    await holding(h, 0);
    await bystanderServed(h);
  });

  it("L2: limits.maxSubscriptionBytesPerConnection ends the stream that would pass a connection's share; its other streams and other connections go on", async () => {
    const [h, port] = await server({ maxSubscriptionBytesPerConnection: 2 * hundredNames + 100 });
    const first = raw.from(port);
    const kept = [eds(first, 'a'), eds(first, 'b')];
    await holding(h, 200);
    assert.equal(subscriptions(h).bytes, 2 * hundredNames, 'a name is charged 2 x its bytes + 40');
    const third = eds(first, 'c');
    const end = await third.end(patience);
    assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.match(
      end.grpcMessage ?? '',
      new RegExp(
        `the subscription of type\\.googleapis\\.com/envoy\\.config\\.endpoint\\.v3\\.ClusterLoadAssignment \\(100 names of 6200 bytes\\) would pass limits\\.maxSubscriptionBytesPerConnection \\(${2 * hundredNames + 100} bytes\\): the names subscribed on this connection hold ${2 * hundredNames}`,
      ),
    );
    // Another connection has its own share; the first connection's streams still hold theirs.
    eds(raw.from(port), 'd');
    await holding(h, 300);
    const stats = subscriptions(h);
    assert.equal(stats.connections, 2);
    assert.equal(stats.refused.maxSubscriptionBytesPerConnection, 1);
    assert.equal(h.server.streamStats().endedByLimit.maxSubscriptionBytesPerConnection, 1);
    for (const stream of kept) assert.equal(stream.stream.closed, false, 'the other streams are open');
    await bystanderServed(h);
  });

  it('L2: limits.maxSubscriptionBytesPerPeer bounds one address over its connections; limits.maxSubscriptionBytesTotal the server', async () => {
    const [h, port] = await server({
      maxSubscriptionBytesPerConnection: 2 * hundredNames,
      maxSubscriptionBytesPerPeer: 3 * hundredNames,
      maxSubscriptionBytesTotal: 4 * hundredNames,
    });
    const a = raw.from(port);
    eds(a, 'a1');
    eds(a, 'a2');
    const b = raw.from(port);
    eds(b, 'b1');
    await holding(h, 300);
    let end = await eds(b, 'b2').end(patience);
    assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.match(
      end.grpcMessage ?? '',
      new RegExp(
        `would pass limits\\.maxSubscriptionBytesPerPeer \\(${3 * hundredNames} bytes\\): the names subscribed on peer 127\\.0\\.0\\.1 hold ${3 * hundredNames}`,
      ),
    );
    // Another address has its own share, within the server's total.
    const other = raw.from(port, '127.0.0.2');
    eds(other, 'c1');
    await holding(h, 400);
    end = await eds(other, 'c2').end(patience);
    assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.match(
      end.grpcMessage ?? '',
      new RegExp(
        `would pass limits\\.maxSubscriptionBytesTotal \\(${4 * hundredNames} bytes\\): the names subscribed on the server hold ${4 * hundredNames}`,
      ),
    );
    const stats = subscriptions(h);
    assert.equal(stats.peers, 2);
    assert.equal(stats.bytes, 4 * hundredNames);
    assert.deepEqual(stats.refused, {
      maxSubscriptionBytesTotal: 1,
      maxSubscriptionBytesPerConnection: 0,
      maxSubscriptionBytesPerPeer: 1,
    });
  });

  it('L2: a stream gives its charge back however it ends: client cancel, client end, an invalid request, a limit', async () => {
    const [h, port] = await server({ maxNamesPerStream: 150 });
    const connection = raw.from(port);
    const cancelled = eds(connection, 'x');
    const ended = eds(connection, 'y');
    const invalid = eds(connection, 'z');
    const limited = eds(connection, 'w');
    await holding(h, 400);
    cancelled.cancel();
    await holding(h, 300);
    ended.stream.end();
    assert.equal((await ended.end(patience)).grpcStatus, status.OK);
    await holding(h, 200);
    // An ADS request without a type URL ends its stream with INVALID_ARGUMENT.
    invalid.write(sotwRequest({ resourceNames: ['r'] }));
    assert.equal((await invalid.end(patience)).grpcStatus, status.INVALID_ARGUMENT);
    await holding(h, 100);
    limited.send({ typeUrl: Route, resourceNames: names('r', 51) });
    assert.equal((await limited.end(patience)).grpcStatus, status.RESOURCE_EXHAUSTED);
    await holding(h, 0);
    assert.equal(subscriptions(h).bytes, 0);
    assert.equal(subscriptions(h).connections, 0);
    assert.ok(subscriptions(h).peakBytes >= 4 * hundredNames);
  });

  it('L2: a delta subscription is charged as the watch applies it: a name listed twice once, subscribe then unsubscribe', async () => {
    const [h] = await server();
    const client = h.client({ protocol: 'delta', timeoutMs: patience });
    const list = names('d', 50);
    client.send({ node: { id: 'n1' }, typeUrl: Endpoint, resourceNamesSubscribe: [...list, ...list] });
    await holding(h, 50);
    assert.equal(subscriptions(h).bytes, 2 * 50 * 60 + 40 * 50);
    // Subscribed and unsubscribed in one request: the watch subscribes first, then unsubscribes, so it is gone.
    client.send({
      typeUrl: Endpoint,
      resourceNamesSubscribe: ['new'],
      resourceNamesUnsubscribe: ['new', list[0]!],
    });
    await holding(h, 49);
    client.send({ typeUrl: Endpoint, resourceNamesUnsubscribe: list });
    await holding(h, 0);
    assert.equal(subscriptions(h).bytes, 0);
  });
});
