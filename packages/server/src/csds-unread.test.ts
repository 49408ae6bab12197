// Rules S12 and L2 for answers nobody reads (probe Q5): CSDS (FetchClientStatus, StreamClientStatus) and the unary
// Fetch methods used to build an answer and hand it to grpc-js whether or not the caller read, outside the write
// budget, and a CSDS call gave its caller's share back once its answer was built, not sent: a caller that opened
// calls and never read had answer after answer queued for it. Now an answer counts in the write budget until it is
// flushed, a CSDS call keeps its caller's share (limits.maxStatusCallsPerCaller) until then, a StreamClientStatus
// stream holds one unflushed answer at a time, and an answer unread past limits.drainTimeoutMs has its call reset,
// counted and logged, as a discovery stream's is. Callers are raw HTTP/2 streams that grant no flow-control window.
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import {
  ClientStatusDiscoveryService,
  ClientStatusRequestSchema,
  discoveryMethods,
  methodPath,
  TypeUrl,
} from '@xds/api';
import { recordingLogger } from './test-connections.js';
import { csdsClient } from './test-csds-client.js';
import { type Harness, sample, start } from './test-harness.js';
import { grpcFrame, RawConnection, type RawStream, until, within } from './test-raw-client.js';

const wait = 30_000;
const methodOf = (kind: 'unary' | 'bidi_streaming') =>
  methodPath(ClientStatusDiscoveryService.methods.find((m) => m.methodKind === kind)!);
const fetchStatus = methodOf('unary');
const streamStatus = methodOf('bidi_streaming');
const fetchClusters = discoveryMethods.find((m) => m.kind === 'fetch' && m.typeUrl === TypeUrl.Cluster)!.path;
const everyNode = grpcFrame(toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, {})));

/** A FetchClientStatus call for every node, its request sent and half-closed. */
function fetchCall(connection: RawConnection): RawStream {
  const call = connection.open(fetchStatus);
  call.stream.end(everyNode);
  return call;
}

/** The server's port, for a raw connection. */
const portOf = (h: Harness) => Number(h.address.split(':')[1]);

/** A server with limits.drainTimeoutMs of 1 s, its logger and a connection that grants no window: runs `body`. */
async function withUnreadCaller(
  body: (h: Harness, unread: RawConnection, logger: ReturnType<typeof recordingLogger>) => Promise<void>,
): Promise<void> {
  const logger = recordingLogger();
  const h = await start({ logger, limits: { drainTimeoutMs: 1000 } });
  const unread = new RawConnection(portOf(h), { window: 0 });
  try {
    await body(h, unread, logger);
  } finally {
    unread.close();
    await h.close();
  }
}

describe('S12, L2: answers that callers do not read are bounded (probe Q5)', () => {
  it('L2, S12: a FetchClientStatus answer counts in the write budget and keeps its caller’s share until flushed; past limits.drainTimeoutMs unread, its call is reset and counted, and the share comes back', async () => {
    const logger = recordingLogger();
    const h = await start({ logger, limits: { maxStatusCallsPerCaller: 2, drainTimeoutMs: 1000 } });
    const unread = new RawConnection(portOf(h), { window: 0 });
    const operator = csdsClient(h.address, wait);
    const client = h.client({ node: 'n1', timeoutMs: wait });
    try {
      // Node n1's status makes every answer some hundreds of bytes.
      client.subscribe(TypeUrl.Endpoint, ['c1']);
      await client.next(TypeUrl.Endpoint, { timeoutMs: wait });
      const held = [fetchCall(unread), fetchCall(unread)];
      await until(
        () => h.server.writeBudget().unflushedWrites === 2,
        'both answers in the write budget',
        wait,
      );
      assert.ok(h.server.writeBudget().unflushedBytes > 0);
      assert.equal(h.server.statusCalls().unflushed, 2);
      // The two unflushed answers still hold the caller's share: a third call is refused, not queued.
      const third = await within(fetchCall(unread).ended, 'the third call’s status', wait);
      assert.equal(third.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.match(
        third.grpcMessage ?? '',
        /has 2 CSDS calls in flight, limits\.maxStatusCallsPerCaller \(2\)/,
      );
      for (const call of held) {
        const end = await call.end(wait);
        assert.equal(end.rstCode, constants.NGHTTP2_ENHANCE_YOUR_CALM);
      }
      assert.equal(h.server.streamStats().endedByLimit.drainTimeoutMs, 2);
      const ended = logger.warnings.filter((w) => w.message === 'CSDS call ended');
      assert.equal(ended.length, 2);
      assert.match(JSON.stringify(ended[0]!.object), /limits\.drainTimeoutMs \(1000 ms\)/);
      await until(() => h.server.statusCalls().callers === 0, 'the caller’s share back', wait);
      assert.equal(h.server.writeBudget().unflushedWrites, 0);
      assert.equal(h.server.statusCalls().unflushed, 0);
      // The same caller (127.0.0.1), reading this time, is answered.
      assert.deepEqual(
        (await operator.fetch({})).config.map((c) => c.node?.id),
        ['n1'],
      );
    } finally {
      unread.close();
      operator.close();
      await h.close();
    }
  });

  it('S12: a StreamClientStatus stream that does not read holds one unflushed answer, reads no more requests meanwhile, and is reset past limits.drainTimeoutMs', async () => {
    await withUnreadCaller(async (h, unread, logger) => {
      const stream = unread.open(streamStatus);
      for (let i = 0; i < 3; i++) stream.write(everyNode);
      await until(
        () => h.server.writeBudget().unflushedWrites === 1,
        'the first answer in the write budget',
        wait,
      );
      const end = await stream.end(wait);
      assert.equal(end.rstCode, constants.NGHTTP2_ENHANCE_YOUR_CALM);
      // Grpc-js's object-mode stream would have taken all three: only the first was built.
      assert.equal(h.server.statusCalls().built, 1);
      assert.equal(h.server.streamStats().endedByLimit.drainTimeoutMs, 1);
      assert.ok(logger.warnings.some((w) => w.message === 'CSDS call ended'));
      await until(() => h.server.writeBudget().unflushedWrites === 0, 'the answer out of the budget', wait);
    });
  });

  it('S12: a unary Fetch answer counts in the write budget until flushed, and an unread one is reset past limits.drainTimeoutMs', async () => {
    await withUnreadCaller(async (h, unread, logger) => {
      const call = unread.open(fetchClusters);
      call.send({ node: { id: 'n1' } });
      call.stream.end();
      await until(() => h.server.writeBudget().unflushedWrites === 1, 'the answer in the write budget', wait);
      assert.ok(h.server.writeBudget().unflushedBytes > 0);
      const end = await call.end(wait);
      assert.equal(end.rstCode, constants.NGHTTP2_ENHANCE_YOUR_CALM);
      assert.equal(h.server.streamStats().endedByLimit.drainTimeoutMs, 1);
      assert.ok(logger.warnings.some((w) => w.message === 'Fetch call ended'));
      assert.equal(h.server.writeBudget().unflushedWrites, 0);
      // A caller that reads gets its answer, and leaves nothing in the budget.
      const reader = new RawConnection(portOf(h));
      try {
        const read = reader.open(fetchClusters);
        read.send({ node: { id: 'n1' } });
        read.stream.end();
        const readEnd = await read.end(wait);
        assert.equal(readEnd.grpcStatus, status.OK);
        assert.deepEqual(
          read.responses.map((r) => r.resources.length),
          [2],
        );
        await until(() => h.server.writeBudget().unflushedWrites === 0, 'the read answer flushed', wait);
      } finally {
        reader.close();
      }
    });
  });

  it('S12, L2: a normal xDS client’s push arrives while 100 non-reading CSDS callers are held, and their answers leave the budget when they go', async () => {
    const h = await start({ limits: { maxStatusCallsPerCaller: 100 } });
    const client = h.client({ node: 'n1', timeoutMs: wait });
    const unread = new RawConnection(portOf(h), { window: 0 });
    try {
      client.subscribe(TypeUrl.Endpoint, ['c1']);
      await client.next(TypeUrl.Endpoint, { timeoutMs: wait });
      for (let i = 0; i < 100; i++) fetchCall(unread);
      await until(() => h.server.statusCalls().unflushed === 100, '100 answers held unread', wait);
      assert.ok(h.server.writeBudget().unflushedWrites >= 100);
      const pushed = client.next(TypeUrl.Endpoint, { timeoutMs: wait });
      h.cache.setSnapshot('n1', sample(9090));
      const push = await pushed;
      assert.deepEqual(push.names, ['c1']);
      // The held callers took no more than their share: the 101st is refused.
      const extra = await within(fetchCall(unread).ended, 'the 101st call’s status', wait);
      assert.equal(extra.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.equal(h.server.statusCalls().built, 100);
      unread.close();
      await until(
        () => h.server.statusCalls().unflushed === 0 && h.server.writeBudget().unflushedWrites === 0,
        'the gone callers’ answers out of the budget',
        wait,
      );
      assert.equal(h.server.statusCalls().callers, 0);
    } finally {
      unread.close();
      await h.close();
    }
  });
});
