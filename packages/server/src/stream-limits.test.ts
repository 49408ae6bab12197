// Rule L2 across streams: header-only (pending) streams, streams per connection, streams per node, node id size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { extraStreamsPerConnection } from './options.js';
import { sample, start } from './test-harness.js';
import { methodPathOf, RawConnection, type RawStream, until, within } from './test-raw-client.js';

const { Cluster } = TypeUrl;

/** Resolves once the HTTP/2 connection's settings went both ways (every stream opened before reached the server). */
async function settled(connection: RawConnection): Promise<void> {
  await connection.ping();
}

describe('limits across streams (rule L2)', () => {
  it('L2: header-only streams show as pending, not as clients, until their first request', async () => {
    const h = await start({ limits: { firstRequestTimeoutMs: 60_000 } });
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      const idle = Array.from({ length: 5 }, () => connection.open(methodPathOf('sotw')));
      await settled(connection);
      await until(() => h.server.pendingStreams === 5, 'five pending streams');
      assert.equal(h.server.streamStats().pending, 5);
      assert.equal(h.server.streamCount, 0);
      assert.deepEqual(h.server.clients(), []);
      // A client that sends its first request is open, not pending.
      const client = h.client();
      client.subscribe(Cluster, []);
      await client.next(Cluster);
      assert.deepEqual([h.server.streamStats().open, h.server.pendingStreams], [1, 5]);
      // So is a pending stream once its first request comes.
      idle[0]!.send({ node: { id: 'n1' }, typeUrl: Cluster });
      await until(() => idle[0]!.responses.length === 1, 'a response to the late first request');
      assert.deepEqual([h.server.streamStats().open, h.server.pendingStreams], [2, 4]);
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('L2: a stream with no first request within limits.firstRequestTimeoutMs ends with DEADLINE_EXCEEDED naming it', async () => {
    const h = await start({ limits: { firstRequestTimeoutMs: 300 } });
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      const idle = Array.from({ length: 5 }, () => connection.open(methodPathOf('sotw')));
      for (const stream of idle) {
        const end = await stream.end();
        assert.equal(end.grpcStatus, status.DEADLINE_EXCEEDED);
        assert.match(end.grpcMessage ?? '', /limits\.firstRequestTimeoutMs \(300 ms\)/);
      }
      await until(() => h.server.pendingStreams === 0, 'no pending stream');
      assert.equal(h.server.streamStats().endedByLimit.firstRequestTimeoutMs, 5);
      // A client that asks is served as usual.
      const client = h.client();
      client.subscribe(Cluster, []);
      assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c2']);
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('L2: streams past limits.maxStreamsPerConnection end with RESOURCE_EXHAUSTED naming it; other connections go on', async () => {
    const h = await start({ limits: { maxStreamsPerConnection: 3 } });
    const port = Number(h.address.split(':')[1]);
    const connection = new RawConnection(port);
    try {
      await settled(connection);
      // HTTP/2 lets a client open the limit plus room for other calls; the xDS limit refuses the rest clearly.
      assert.equal(connection.session.remoteSettings.maxConcurrentStreams, 3 + extraStreamsPerConnection);
      const streams: RawStream[] = Array.from({ length: 5 }, () => connection.open(methodPathOf('sotw')));
      for (const refused of streams.slice(3)) {
        const end = await refused.end();
        assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
        assert.match(end.grpcMessage ?? '', /limits\.maxStreamsPerConnection \(3\)/);
      }
      await until(() => h.server.pendingStreams === 3, 'three streams held');
      assert.equal(h.server.streamStats().endedByLimit.maxStreamsPerConnection, 2);
      // Another connection is not affected.
      const client = h.client();
      client.subscribe(Cluster, []);
      await client.next(Cluster);
      // A stream that ends makes room on its connection.
      streams[0]!.cancel();
      await until(() => h.server.pendingStreams === 2, 'the cancelled stream to leave');
      const again = connection.open(methodPathOf('sotw'));
      again.send({ node: { id: 'n1' }, typeUrl: Cluster });
      await until(() => again.responses.length === 1, 'a response on the new stream');
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('L2: streams of a node past limits.maxStreamsPerNode end with RESOURCE_EXHAUSTED naming it; other nodes go on', async () => {
    const h = await start({ limits: { maxStreamsPerNode: 2 } });
    try {
      const first = [h.client(), h.client()];
      for (const client of first) client.subscribe(Cluster, []);
      await Promise.all(first.map((c) => c.next(Cluster)));
      const third = h.client();
      third.subscribe(Cluster, []);
      const end = await within(third.ended(), 'the third stream of n1 to end');
      assert.equal(end.code, status.RESOURCE_EXHAUSTED);
      assert.match(end.details, /node "n1" already has limits\.maxStreamsPerNode \(2\)/);
      assert.equal(h.server.streamStats().endedByLimit.maxStreamsPerNode, 1);
      h.cache.setSnapshot('n2', sample());
      const other = h.client({ node: 'n2' });
      other.subscribe(Cluster, []);
      await other.next(Cluster);
      // A stream of n1 that ends makes room for another.
      await first[0]!.close();
      await until(() => h.server.clients().find((c) => c.nodeId === 'n1')?.streams === 1, 'one stream of n1');
      const fourth = h.client();
      fourth.subscribe(Cluster, []);
      assert.deepEqual((await fourth.next(Cluster)).names, ['c1', 'c2']);
    } finally {
      await h.close();
    }
  });

  it('L2: a node id longer than limits.maxNodeIdBytes (in UTF-8 bytes) is refused with INVALID_ARGUMENT naming it', async () => {
    const h = await start({ limits: { maxNodeIdBytes: 64 } });
    try {
      // 33 two-byte characters: 66 bytes.
      const long = h.client({ node: 'é'.repeat(33) });
      long.subscribe(Cluster, []);
      const end = await within(long.ended(), 'the stream of the long node id to end');
      assert.equal(end.code, status.INVALID_ARGUMENT);
      assert.match(end.details, /node\.id is 66 bytes, over limits\.maxNodeIdBytes \(64\)/);
      assert.equal(h.server.streamStats().endedByLimit.maxNodeIdBytes, 1);
      h.cache.setSnapshot('x'.repeat(64), sample());
      const fits = h.client({ node: 'x'.repeat(64) });
      fits.subscribe(Cluster, []);
      await fits.next(Cluster);
      assert.deepEqual(
        h.server.clients().map((c) => c.nodeId.length),
        [64],
      );
    } finally {
      await h.close();
    }
  });
});
