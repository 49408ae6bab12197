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
    // Bytes whose digest matches but whose node differs (as a digest collision would): kept apart, but held and
    // counted (its bytes charged like any node's).
    const b = create(NodeSchema, { id: 'b', cluster: 'x' });
    assert.equal(nodes.take(bytes, b), b);
    assert.equal(nodes.holds(b), true);
    assert.equal(nodes.bytesOf(b), bytes.length);
    assert.equal(nodes.size, 2);
    nodes.release(a);
    assert.equal(nodes.size, 2, 'one stream still holds a');
    nodes.release(a);
    assert.equal(nodes.size, 1);
    assert.equal(nodes.take(bytes, again), again, 'a is gone: the same bytes are held anew');
    nodes.release(b);
    nodes.release(again);
    assert.equal(nodes.size, 0);
  });

  it('L2, L5: a node with a NaN in its metadata is shared like any other (probe7 N1)', () => {
    const nodes = new SharedNodes();
    const init = {
      id: 'nan',
      metadata: { fields: { x: { kind: { case: 'numberValue' as const, value: Number.NaN } } } },
    };
    const first = create(NodeSchema, init);
    const bytes = toBinary(NodeSchema, first);
    assert.equal(nodes.take(bytes, first), first);
    assert.equal(
      nodes.take(bytes, create(NodeSchema, init)),
      first,
      'the second stream shares the first one',
    );
    assert.equal(nodes.size, 1);
  });

  it('L2: streams of a node with a NaN share one decoded node, charged once to maxNodeBytesPerPeer (probe7 N1)', async () => {
    const seen = new Set<Node | undefined>();
    const h = await start({
      limits: { maxNodeBytesPerPeer: 100_000 },
      hooks: { onRequest: (_request, ctx) => void seen.add(ctx.node) },
    });
    const peer = new RawConnection(Number(h.address.split(':')[1]), { localAddress: '127.0.0.2' });
    // About 40 KB on the wire, with a NaN: before, the second and later streams held a copy each, charged to nothing.
    const node = { id: 'n1', metadata: { blob: 'n'.repeat(40_000), nan: Number.NaN } };
    try {
      const streams = [0, 1, 2, 3].map(() => {
        const stream = peer.open();
        stream.send({ node, typeUrl: Cluster });
        return stream;
      });
      await until(() => streams.every((s) => s.responses.length === 1), 'four responses', wait);
      assert.equal(seen.size, 1, 'the four streams hold one decoded node');
      assert.equal(h.server.streamStats().endedByLimit.maxNodeBytesPerPeer ?? 0, 0);
    } finally {
      peer.close();
      await h.close();
    }
  });
});
