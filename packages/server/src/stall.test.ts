// Rule S12 against clients that stop reading: raw HTTP/2 streams that grant the server no flow-control window, so
// that nothing written to them is ever flushed.
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { create, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { DeltaDiscoveryRequestSchema, TypeUrl } from '@xds/api';
import { type ConfigWatcher, Snapshot, SnapshotCache } from '@xds/cache';
import { XdsTestClient } from '@xds/testing';
import type { XdsServerOptions } from './options.js';
import { assignment, nextEvent } from './test-harness.js';
import { grpcFrame, methodPathOf, RawConnection, type RawStream, until } from './test-raw-client.js';
import { XdsServer } from './xds-server.js';

const { Endpoint } = TypeUrl;
const names = Array.from({ length: 300 }, (_, i) => `e${i}`);

const snapshots = new Map<number, Snapshot>();

/** 300 assignments (about 15 KB per response) at version `v${v}`; every version changes every port. */
function big(v: number): Snapshot {
  let snapshot = snapshots.get(v);
  if (snapshot === undefined) {
    snapshot = Snapshot.create(
      names.map((name, i) => assignment(name, 10_000 + ((v + i) % 50_000))),
      { version: `v${v}` },
    );
    snapshots.set(v, snapshot);
  }
  return snapshot;
}

interface Setup {
  readonly cache: SnapshotCache;
  readonly server: XdsServer;
  readonly port: number;
  /** Stalled raw streams of nodes `stuck0`, `stuck1`, …, each with its first response written. */
  readonly stuck: RawStream[];
  readonly connections: RawConnection[];
  readonly bystander: XdsTestClient;
  close(): Promise<void>;
}

/** A server with `stalled` non-reading streams (one per connection) and one reading bystander, all at v0. */
async function setup(stalled: number, options: Partial<XdsServerOptions> = {}): Promise<Setup> {
  const cache = new SnapshotCache();
  cache.setSnapshot('fast', big(0));
  for (let i = 0; i < stalled; i++) cache.setSnapshot(`stuck${i}`, big(0));
  const server = new XdsServer({ cache, closeGraceMs: 500, ...options });
  const port = await server.listen('127.0.0.1:0');
  const connections: RawConnection[] = [];
  const stuck: RawStream[] = [];
  for (let i = 0; i < stalled; i++) {
    const connection = new RawConnection(port, { window: 0 });
    connections.push(connection);
    const stream = connection.open(methodPathOf('sotw'));
    const written = nextEvent(server, 'response', (e) => e.nodeId === `stuck${i}`);
    stream.send({ node: { id: `stuck${i}` }, typeUrl: Endpoint, resourceNames: names });
    await written;
    stuck.push(stream);
  }
  const bystander = new XdsTestClient({ address: `127.0.0.1:${port}`, node: 'fast', timeoutMs: 10_000 });
  bystander.subscribe(Endpoint, names);
  await bystander.next(Endpoint);
  return {
    cache,
    server,
    port,
    stuck,
    connections,
    bystander,
    async close() {
      for (const connection of connections) connection.close();
      await bystander.close();
      await server.close();
      cache.close();
    },
  };
}

/** Sets version `v` for every node and waits until the bystander has it. */
async function push(s: Setup, v: number, stalled: number): Promise<void> {
  for (let i = 0; i < stalled; i++) s.cache.setSnapshot(`stuck${i}`, big(v));
  s.cache.setSnapshot('fast', big(v));
  await s.bystander.waitFor(Endpoint, (r) => r.versionInfo === `v${v}`);
}

describe('clients that stop reading (rule S12)', () => {
  it('S12: a stream that stops reading holds one unflushed response, counted in bytes, and then gets only the latest', async () => {
    const s = await setup(1);
    const sizes: number[] = [];
    s.server.on('response', (e) => {
      if (e.nodeId === 'stuck0') sizes.push(e.bytes);
    });
    try {
      const first = s.server.writeBudget();
      assert.equal(first.unflushedWrites, 1, 'the first response is written and not flushed');
      const held = first.unflushedBytes;
      assert.ok(held > 10_000, `its bytes are counted (${held} B)`);
      for (let v = 1; v <= 10; v++) await push(s, v, 1);
      // The bystander has v10, so every push reached the stalled stream's watch: none of them was written.
      assert.deepEqual(sizes, [], 'no response is written behind an unflushed one');
      const after = s.server.writeBudget();
      assert.equal(after.unflushedWrites, 1);
      assert.equal(after.unflushedBytes, held, 'what a stalled stream holds does not grow with pushes');
      // The client reads again: it gets what was held (v0), then the latest snapshot only (v10), not v1…v9.
      s.connections[0]!.grant(1 << 20);
      const stream = s.stuck[0]!;
      await until(
        () => stream.responses.length >= 2 && s.server.writeBudget().unflushedWrites === 0,
        'the held response and the latest to be flushed',
      );
      assert.deepEqual(
        stream.responses.map((r) => r.versionInfo),
        ['v0', 'v10'],
      );
      assert.equal(sizes.length, 1);
    } finally {
      await s.close();
    }
  });

  it('S12, L2: a stream that does not drain within limits.drainTimeoutMs ends with RESOURCE_EXHAUSTED naming the limit', async () => {
    const s = await setup(0, { limits: { drainTimeoutMs: 300 } });
    const connection = new RawConnection(s.port, { window: 0 });
    try {
      s.cache.setSnapshot('stuck', big(0));
      const closed = nextEvent(s.server, 'streamClose', (e) => e.nodeId === 'stuck');
      const stream = connection.open(methodPathOf('sotw'));
      stream.send({ node: { id: 'stuck' }, typeUrl: Endpoint, resourceNames: names });
      const event = await closed;
      assert.equal(event.code, status.RESOURCE_EXHAUSTED);
      assert.match(event.reason, /limits\.drainTimeoutMs \(300 ms\)/);
      // Its data cannot pass, so neither can a status after it: the stream is reset, which a gRPC client reads as
      // RESOURCE_EXHAUSTED.
      const end = await stream.end();
      assert.equal(end.rstCode, constants.NGHTTP2_ENHANCE_YOUR_CALM);
      assert.equal(s.server.streamStats().endedByLimit.drainTimeoutMs, 1);
      await until(() => s.server.writeBudget().unflushedBytes === 0, 'its bytes to be released');
      // The reading client goes on.
      await push(s, 1, 0);
      assert.deepEqual(
        s.server.clients().map((c) => c.nodeId),
        ['fast'],
      );
    } finally {
      connection.close();
      await s.close();
    }
  });

  it('D1, S12: a delta stream that stops reading holds one unflushed response and ends after limits.drainTimeoutMs', async () => {
    const s = await setup(0, { limits: { drainTimeoutMs: 1000 } });
    const connection = new RawConnection(s.port, { window: 0 });
    let written = 0;
    s.server.on('response', (e) => {
      if (e.nodeId === 'stuck') written++;
    });
    try {
      s.cache.setSnapshot('stuck', big(0));
      const closed = nextEvent(s.server, 'streamClose', (e) => e.nodeId === 'stuck');
      const stream = connection.open(methodPathOf('delta'));
      const request = create(DeltaDiscoveryRequestSchema, {
        node: { id: 'stuck' },
        typeUrl: Endpoint,
        resourceNamesSubscribe: names,
      });
      stream.write(grpcFrame(toBinary(DeltaDiscoveryRequestSchema, request)));
      await until(() => written === 1, 'the first delta response');
      // A new snapshot while the first response is unflushed: nothing more is written.
      s.cache.setSnapshot('stuck', big(1));
      const event = await closed;
      assert.equal(event.code, status.RESOURCE_EXHAUSTED);
      assert.match(event.reason, /limits\.drainTimeoutMs \(1000 ms\)/);
      assert.equal(written, 1);
      assert.equal((await stream.end()).rstCode, constants.NGHTTP2_ENHANCE_YOUR_CALM);
    } finally {
      connection.close();
      await s.close();
    }
  });

  it('S12: readers converge while stalled streams hold more than the whole write budget', async () => {
    // 10 stalled streams hold about 150 KB; the budget is 16 KiB. With the default stallMs.
    const s = await setup(10, { writeBudget: { maxBytesInFlight: 16 * 1024 } });
    try {
      for (let v = 1; v <= 5; v++) await push(s, v, 10);
      assert.equal(s.bystander.responses(Endpoint).at(-1)?.versionInfo, 'v5');
      const stats = s.server.writeBudget();
      assert.equal(stats.unflushedWrites, 10, 'one unflushed response per stalled stream');
      assert.ok(stats.stalledWrites >= 1, 'stalled writes stopped counting against the budget');
    } finally {
      await s.close();
    }
  });

  it('S12: an unflushed response keeps only its bytes, not the response it was encoded from', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const cache = new SnapshotCache();
    cache.setSnapshot('stuck', big(0));
    // The responses the stream takes from its watch, seen through WeakRefs only.
    const taken: WeakRef<object>[] = [];
    const watcher: ConfigWatcher = {
      watchSotw(options) {
        const watch = cache.watchSotw(options);
        return new Proxy(watch, {
          get(target, key) {
            if (key === 'take')
              return () => {
                const response = target.take();
                if (response !== undefined) taken.push(new WeakRef(response));
                return response;
              };
            const value: unknown = Reflect.get(target, key, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
      watchDelta: (options) => cache.watchDelta(options),
    };
    const server = new XdsServer({ cache: watcher, closeGraceMs: 500 });
    let written = 0;
    server.on('response', () => {
      written++;
    });
    const port = await server.listen('127.0.0.1:0');
    const connection = new RawConnection(port, { window: 0 });
    try {
      connection
        .open(methodPathOf('sotw'))
        .send({ node: { id: 'stuck' }, typeUrl: Endpoint, resourceNames: names });
      // (The 'response' event is not kept: its names are read from the response.)
      await until(() => written === 1, 'the response to be written');
      assert.equal(taken.length, 1);
      await until(
        () => {
          gc();
          return taken[0]!.deref() === undefined;
        },
        'the response taken from the watch to be collected while its bytes are unflushed',
        3000,
      );
      assert.equal(server.writeBudget().unflushedWrites, 1, 'the response is still unflushed');
    } finally {
      connection.close();
      await server.close();
      cache.close();
    }
  });
});
