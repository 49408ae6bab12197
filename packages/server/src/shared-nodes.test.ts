// Rule L2, finding Q11: streams whose first requests carry the same node bytes keep one decoded node between them,
// and let it go when the last of them ends; a node is never taken for another (rule L5); the nodes one peer's streams
// keep are bounded (limits.maxNodeBytesPerPeer).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { type Node, NodeSchema, TypeUrl } from '@xds/api';
import { SharedNodes } from './shared-nodes.js';
import { start } from './test-harness.js';
import { envoyNode } from './test-nodes.js';
import { RawConnection, type RawStream, until } from './test-raw-client.js';

const { Cluster } = TypeUrl;
const wait = 30_000;

describe('L2: streams of the same node share its decoded node (finding Q11)', () => {
  it('L2: streams whose first requests carry the same node bytes hold one Node; other bytes hold their own; the last to end lets it go', async () => {
    const seen: (Node | undefined)[] = [];
    const h = await start({ hooks: { onRequest: (_request, ctx) => void seen.push(ctx.node) } });
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    const open = (node: ReturnType<typeof envoyNode>): RawStream => {
      const stream = connection.open();
      stream.send({ node, typeUrl: Cluster });
      return stream;
    };
    try {
      // An Envoy's node (600 extensions, about 60 KB on the wire), on three streams.
      const streams = [open(envoyNode('n1')), open(envoyNode('n1')), open(envoyNode('n1'))];
      await until(() => streams.every((s) => s.responses.length === 1), 'three responses', wait);
      assert.equal(seen.length, 3);
      assert.ok(seen[0] !== undefined && seen[0].extensions.length === 600);
      assert.equal(seen[1], seen[0], 'the second stream holds the first stream’s node');
      assert.equal(seen[2], seen[0]);
      // Other bytes (one extension fewer) are another node.
      const other = open(envoyNode('n1', 599));
      await until(() => other.responses.length === 1, 'the fourth response', wait);
      assert.notEqual(seen[3], seen[0]);
      assert.equal(seen[3]?.extensions.length, 599);
      // While one stream holds the node, a new stream shares it; once none does, a new stream decodes its own.
      for (const stream of streams.slice(1)) stream.cancel();
      await until(() => h.server.streamCount === 2, 'two streams left', wait);
      const again = open(envoyNode('n1'));
      await until(() => again.responses.length === 1, 'the fifth response', wait);
      assert.equal(seen[4], seen[0]);
      for (const stream of [streams[0]!, again]) stream.cancel();
      await until(() => h.server.streamCount === 1, 'one stream left', wait);
      const last = open(envoyNode('n1'));
      await until(() => last.responses.length === 1, 'the last response', wait);
      assert.notEqual(seen[5], seen[0], 'a node no stream holds is let go');
      assert.deepEqual(toBinary(NodeSchema, seen[5]!), toBinary(NodeSchema, seen[0]!));
    } finally {
      connection.close();
      await h.close();
    }
  });

  it("L2: the nodes one peer's streams keep are bounded by limits.maxNodeBytesPerPeer, a shared node counted once; other peers go on", async () => {
    const h = await start({ limits: { maxNodeBytesPerPeer: 100_000 } });
    const port = Number(h.address.split(':')[1]);
    const peer = new RawConnection(port, { localAddress: '127.0.0.2' });
    const other = new RawConnection(port, { localAddress: '127.0.0.3' });
    // About 40 KB on the wire each.
    const node = (blob: string) => ({ id: 'n1', metadata: { blob: blob.repeat(40_000) } });
    const open = (connection: RawConnection, blob: string): RawStream => {
      const stream = connection.open();
      stream.send({ node: node(blob), typeUrl: Cluster });
      return stream;
    };
    try {
      const a = [open(peer, 'a'), open(peer, 'a'), open(peer, 'b')];
      await until(() => a.every((s) => s.responses.length === 1), 'three responses (80 KB of nodes)', wait);
      const end = await open(peer, 'c').end(wait);
      assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.match(
        end.grpcMessage ?? '',
        /the nodes of peer 127\.0\.0\.2's streams would hold 1200\d\d bytes with this stream's \(400\d\d\), more than limits\.maxNodeBytesPerPeer \(100000\)/,
      );
      assert.equal(h.server.streamStats().endedByLimit.maxNodeBytesPerPeer, 1);
      const elsewhere = open(other, 'c');
      await until(() => elsewhere.responses.length === 1, "the other peer's response", wait);
      // Once the streams sharing node a end, its bytes are given back.
      a[0]!.cancel();
      a[1]!.cancel();
      await until(() => h.server.streamCount === 2, 'two streams left', wait);
      const again = open(peer, 'c');
      await until(() => again.responses.length === 1, 'the peer’s stream with node c', wait);
    } finally {
      peer.close();
      other.close();
      await h.close();
    }
  });

  it('L5: a node is shared only when its bytes and its decoded value agree', () => {
    const nodes = new SharedNodes();
    const a = create(NodeSchema, { id: 'a', cluster: 'x' });
    const bytes = toBinary(NodeSchema, a);
    assert.equal(nodes.take(bytes, a), a);
    // The same bytes decoded again: shared.
    const again = create(NodeSchema, { id: 'a', cluster: 'x' });
    assert.equal(nodes.take(bytes, again), a);
    // Bytes whose digest matches but whose node differs (as a digest collision would): kept apart, not held.
    const b = create(NodeSchema, { id: 'b', cluster: 'x' });
    assert.equal(nodes.take(bytes, b), b);
    assert.equal(nodes.holds(b), false);
    assert.equal(nodes.size, 1);
    nodes.release(a);
    assert.equal(nodes.size, 1, 'one stream still holds it');
    nodes.release(a);
    assert.equal(nodes.size, 0);
    nodes.release(b);
    assert.equal(nodes.size, 0);
  });
});
