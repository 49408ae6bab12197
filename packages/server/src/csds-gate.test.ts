// Rule L2 for the CSDS gate (review R9): at most limits.maxConcurrentStatusCalls answers are built at once, which a
// test shows by counting the builds that run at once (XdsServer.statusCalls().peakBuilding, counted around the build
// itself, not by the gate), so that it fails without the gate; and a call cancelled while it waits for a turn
// leaves the queue at once, instead of keeping its place until its turn came round.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  ClientStatusDiscoveryService,
  ClientStatusRequestSchema,
  Code,
  methodPath,
  TypeUrl,
  XdsError,
} from '@xds/api';
import { Snapshot } from '@xds/cache';
import { StatusGate } from './csds-gate.js';
import { csdsClient, forNodes } from './test-csds-client.js';
import { cluster, type Harness, start } from './test-harness.js';
import { grpcFrame, RawConnection, until } from './test-raw-client.js';

const wait = 30_000;
const fetchStatus = methodPath(ClientStatusDiscoveryService.methods.find((m) => m.methodKind === 'unary')!);
const everyNode = grpcFrame(toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, {})));
const portOf = (h: Harness) => Number(h.address.split(':')[1]);

/** A FetchClientStatus call for every node on `connection`, its request sent and half-closed. */
function fetchCall(connection: RawConnection) {
  const call = connection.open(fetchStatus);
  call.stream.end(everyNode);
  return call;
}

/** Node n1 holds `count` clusters (a wildcard subscription): its CSDS answer takes many slices to build. */
async function bigHolder(h: Harness, count: number): Promise<void> {
  h.cache.setSnapshot('n1', Snapshot.create(Array.from({ length: count }, (_, i) => cluster(`c${i}`))));
  const client = h.client({ node: 'n1', timeoutMs: wait });
  client.subscribe(TypeUrl.Cluster, []);
  await client.next(TypeUrl.Cluster, { timeoutMs: wait });
}

describe('L2: the CSDS gate bounds the builds, and a cancelled call leaves its queue (review R9)', () => {
  it('L2: concurrent calls past limits.maxConcurrentStatusCalls wait their turn: no more builds run at once than it allows, and all are answered', async () => {
    // One caller (127.0.0.1) with eight calls in flight: its share is raised to eight.
    const h = await start({ limits: { maxConcurrentStatusCalls: 2, maxStatusCallsPerCaller: 8 } });
    const csds = csdsClient(h.address, wait);
    try {
      await bigHolder(h, 3000);
      const answers = await Promise.all(Array.from({ length: 8 }, () => csds.fetch(forNodes('n1'))));
      for (const answer of answers) assert.equal(answer.config[0]?.genericXdsConfigs.length, 3000);
      const stats = h.server.statusCalls();
      assert.equal(stats.built, 8);
      // Counted around each build: without the gate, the eight builds' slices interleave.
      assert.equal(stats.peakBuilding, 2);
      assert.equal(stats.building, 0);
    } finally {
      csds.close();
      await h.close();
    }
  });

  it('L2: StatusGate lets a call whose signal aborts leave the queue at once, CANCELLED, and gives the turn to the next (review R9)', async () => {
    const gate = new StatusGate({ max: 1, maxPerCaller: 10, maxWaiting: 2 });
    let release!: () => void;
    const first = gate.run(() => new Promise<string>((resolve) => (release = () => resolve('first'))));
    const leaving = new AbortController();
    const ran: string[] = [];
    const second = gate.run(
      async () => {
        ran.push('second');
        return 'second';
      },
      undefined,
      leaving.signal,
    );
    const third = gate.run(async () => {
      ran.push('third');
      return 'third';
    });
    assert.deepEqual(gate.stats, { running: 1, waiting: 2, callers: 0 });
    leaving.abort();
    assert.deepEqual(gate.stats, { running: 1, waiting: 1, callers: 0 });
    await assert.rejects(second, (e: XdsError) => e instanceof XdsError && e.code === Code.Cancelled);
    // Its place is free: another call may wait.
    const fourth = gate.run(async () => 'fourth');
    assert.deepEqual(gate.stats, { running: 1, waiting: 2, callers: 0 });
    release();
    assert.deepEqual(await Promise.all([first, third, fourth]), ['first', 'third', 'fourth']);
    assert.deepEqual(ran, ['third']);
    assert.deepEqual(gate.stats, { running: 0, waiting: 0, callers: 0 });
    // A call already cancelled never queues.
    await assert.rejects(
      gate.run(async () => 'late', undefined, AbortSignal.abort()),
      (e: XdsError) => e.code === Code.Cancelled,
    );
  });

  it('L2: a CSDS call cancelled while it waits for a turn leaves the queue at once; the turn is held while a built answer waits for the write budget', async () => {
    // The write budget is spent by one unread answer, and never stalls: the next answer waits for it, holding the
    // only turn, and a third call waits for the turn.
    const h = await start({
      limits: { maxConcurrentStatusCalls: 1, drainTimeoutMs: 600_000 },
      writeBudget: { maxBytesInFlight: 1, stallMs: 600_000 },
    });
    const unread = new RawConnection(portOf(h), { window: 0 });
    const reader = new RawConnection(portOf(h));
    try {
      const client = h.client({ node: 'n1', timeoutMs: wait });
      client.subscribe(TypeUrl.Cluster, []);
      await client.next(TypeUrl.Cluster, { timeoutMs: wait });
      const spent = fetchCall(unread);
      await until(() => h.server.statusCalls().unflushed === 1, 'the first answer sent, unread', wait);
      const holding = fetchCall(unread);
      await until(() => h.server.writeBudget().waitingStreams === 1, 'the second answer waiting', wait);
      const waiting = fetchCall(reader);
      await until(() => h.server.statusCalls().waiting === 1, 'the third call waiting for a turn', wait);
      waiting.cancel();
      await until(() => h.server.statusCalls().waiting === 0, 'the cancelled call out of the queue', wait);
      assert.equal(h.server.statusCalls().built, 2);
      // The answer waiting for the budget leaves it when its call goes.
      holding.cancel();
      await until(
        () => h.server.writeBudget().waitingStreams === 0,
        'the cancelled answer out of the budget',
        wait,
      );
      spent.cancel();
      await until(() => h.server.statusCalls().callers === 0, 'every share back', wait);
      assert.equal(h.server.writeBudget().unflushedWrites, 0);
    } finally {
      unread.close();
      reader.close();
      await h.close();
    }
  });
});
