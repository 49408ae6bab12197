import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { DiscoveryRequestSchema, discoveryMethods, TypeUrl, XdsError } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { XdsTestClient } from '@xds/testing';
import { assignment, cluster, listener, nextEvent, route, sample, start } from './test-harness.js';
import { XdsServer } from './xds-server.js';

const { Cluster, Endpoint, Listener, Route } = TypeUrl;
const allTypes = [Cluster, Endpoint, Listener, Route];

/** Polls `check` until it returns true or the deadline passes. */
async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('the server-wide write budget', () => {
  it('S11, S12: with a budget of one byte, 30 streams take turns, one response in flight at a time, in push order', async () => {
    const h = await start({ writeBudget: { maxBytesInFlight: 1 } });
    let largest = 0;
    h.server.on('response', (e) => {
      largest = Math.max(largest, e.bytes);
    });
    try {
      // A generous deadline (not a sleep): 30 streams taking turns one byte of budget at a time are slow on a
      // loaded machine.
      const clients = Array.from({ length: 30 }, () => h.client({ node: 'n1', timeoutMs: 60_000 }));
      for (const client of clients) {
        client.subscribe(Cluster, []);
        client.subscribe(Endpoint, ['c1', 'c2', 'c3']);
        client.subscribe(Listener, []);
        client.subscribe(Route, ['r1', 'r3']);
      }
      await Promise.all(clients.flatMap((c) => allTypes.map((t) => c.next(t))));
      const first = h.server.writeBudget();
      assert.ok(first.waits > 0, `streams waited for their turn (${first.waits} waits)`);
      assert.ok(
        first.peakInFlightBytes <= largest,
        `at most one response in flight: peak ${first.peakInFlightBytes} B, largest response ${largest} B`,
      );
      // A push of every type to every stream: still one at a time, and each stream gets Cluster first (S11).
      const seen = clients.map((c) => c.responses().length);
      h.cache.setSnapshot(
        'n1',
        Snapshot.create([
          cluster('c1'),
          cluster('c3'),
          assignment('c1', 9001),
          assignment('c3', 9003),
          listener('l1', 'r3'),
          route('r3', 'c3'),
        ]),
      );
      await Promise.all(clients.map((c) => c.waitFor(Route, (r) => r.names.includes('r3'))));
      for (const [i, client] of clients.entries()) {
        const order = client
          .responses()
          .slice(seen[i])
          .map((r) => r.typeUrl);
        assert.deepEqual(order, [Cluster, Endpoint, Listener, Route], `client ${i}: push order`);
      }
      const after = h.server.writeBudget();
      assert.ok(after.peakInFlightBytes <= largest, `peak ${after.peakInFlightBytes} B ≤ ${largest} B`);
      await until(() => h.server.writeBudget().inFlightBytes === 0, 'every write to be flushed', 60_000);
      assert.equal(h.server.writeBudget().waitingStreams, 0);
    } finally {
      await h.close();
    }
  });

  it('S12: a client that stops reading holds up no one: its write stops counting once nothing flushes for stallMs', async () => {
    const cache = new SnapshotCache();
    const big = (v: number) =>
      Snapshot.create(
        Array.from({ length: 300 }, (_, i) => assignment(`e${i}`, 10_000 + ((v + i) % 50_000))),
        { version: `v${v}` },
      );
    cache.setSnapshot('stuck', big(0));
    cache.setSnapshot('fast', big(0));
    const server = new XdsServer({ cache, writeBudget: { maxBytesInFlight: 1, stallMs: 100 } });
    const port = await server.listen('127.0.0.1:0');
    const path = discoveryMethods.find((m) => m.kind === 'sotw' && m.typeUrl === undefined)!.path;
    // A raw HTTP/2 client that grants no flow-control window and never reads: the server's response to it can
    // never be flushed.
    const session = connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 0 } });
    session.on('error', () => {});
    const stuck = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stuck.on('error', () => {});
    stuck.pause();
    const names = Array.from({ length: 300 }, (_, i) => `e${i}`);
    const fast = new XdsTestClient({ address: `127.0.0.1:${port}`, node: 'fast', timeoutMs: 10_000 });
    try {
      const request = toBinary(
        DiscoveryRequestSchema,
        create(DiscoveryRequestSchema, { node: { id: 'stuck' }, typeUrl: Endpoint, resourceNames: names }),
      );
      const frame = Buffer.alloc(5 + request.length);
      frame.writeUInt32BE(request.length, 1);
      frame.set(request, 5);
      const firstStuck = nextEvent(server, 'response', (e) => e.nodeId === 'stuck');
      stuck.write(frame);
      await firstStuck;
      fast.subscribe(Endpoint, names);
      await fast.next(Endpoint);
      // Every snapshot goes to both: the stuck client's response never flushes, and with one byte of budget the
      // fast client would wait for ever if stalled writes kept counting.
      for (let v = 1; v <= 10; v++) {
        cache.setSnapshot('stuck', big(v));
        cache.setSnapshot('fast', big(v));
        await fast.waitFor(Endpoint, (r) => r.versionInfo === `v${v}`);
      }
      const stats = server.writeBudget();
      assert.ok(
        stats.stalledWrites >= 1,
        `the stuck client's writes were written off (${stats.stalledWrites})`,
      );
      assert.equal(fast.responses(Endpoint).at(-1)?.versionInfo, 'v10');
    } finally {
      stuck.destroy();
      session.destroy();
      await fast.close();
      await server.close();
    }
  });

  it('D1, S12: delta streams take turns too, and each gets every resource once', async () => {
    const h = await start({ writeBudget: { maxBytesInFlight: 1 } });
    try {
      const clients = Array.from({ length: 20 }, () => h.client({ node: 'n1', protocol: 'delta' }));
      for (const client of clients) {
        client.subscribe(Cluster, ['*']);
        client.subscribe(Endpoint, ['c1', 'c2']);
      }
      const first = await Promise.all(clients.map((c) => Promise.all([c.next(Cluster), c.next(Endpoint)])));
      for (const [cds, eds] of first) {
        assert.deepEqual([...cds.names].sort(), ['c1', 'c2']);
        assert.deepEqual([...eds.names].sort(), ['c1', 'c2']);
      }
      const stats = h.server.writeBudget();
      assert.ok(stats.waits > 0, `delta streams waited their turn (${stats.waits})`);
      await until(() => h.server.writeBudget().inFlightBytes === 0, 'every write to be flushed');
      for (const client of clients)
        assert.deepEqual([client.responses(Cluster).length, client.responses(Endpoint).length], [1, 1]);
    } finally {
      await h.close();
    }
  });

  it('rejects a budget below one byte, naming the option', () => {
    assert.throws(
      () => new XdsServer({ cache: new SnapshotCache(), writeBudget: { maxBytesInFlight: 0 } }),
      (error: unknown) => error instanceof XdsError && /writeBudget\.maxBytesInFlight/.test(error.message),
    );
    assert.throws(
      () => new XdsServer({ cache: new SnapshotCache(), writeBudget: { stallMs: -1 } }),
      /writeBudget\.stallMs/,
    );
  });

  it('a stream that ends while waiting gives its turn away and returns its bytes', async () => {
    const h = await start({ writeBudget: { maxBytesInFlight: 1 } }, {}, sample());
    try {
      const clients = Array.from({ length: 10 }, () => h.client({ node: 'n1' }));
      for (const client of clients) client.subscribe(Cluster, []);
      // Half of them go away at once, some while waiting for their turn.
      await Promise.all(clients.slice(0, 5).map((c) => c.close()));
      await Promise.all(clients.slice(5).map((c) => c.next(Cluster)));
      await until(() => h.server.writeBudget().inFlightBytes === 0, 'the budget to be whole again');
      assert.equal(h.server.writeBudget().waitingStreams, 0);
    } finally {
      await h.close();
    }
  });
});
