// Rules S2 and L2: a stream's node is decoded from its first request only (request-node.ts). A later request's node
// is skipped on the wire: its bytes are held to limits.maxNodeBytes and its id is read (a changed id still ends the
// stream), nothing else of it is decoded. Over a real grpc-js server, with raw SotW and delta requests.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  type Node,
  type NodeSchema,
  TypeUrl,
} from '@xds/api';
import { type Harness, nextEvent, start } from './test-harness.js';
import { nestedMetadata } from './test-nodes.js';
import { grpcFrame, methodPathOf, RawConnection } from './test-raw-client.js';

type NodeInit = MessageInitShape<typeof NodeSchema>;

function request(kind: 'sotw' | 'delta', node: NodeInit, typeUrl: string): Uint8Array {
  return kind === 'sotw'
    ? toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node, typeUrl }))
    : toBinary(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, { node, typeUrl }));
}

/** A node past every node limit but its bytes: 30 levels of metadata and 20,000 client features. */
const hugeNode = (id: string): NodeInit => ({
  id,
  metadata: nestedMetadata(30, 'struct'),
  clientFeatures: Array.from({ length: 20_000 }, (_, i) => `f${i}`),
});

describe('S2, L2: a later request node is skipped on the wire', () => {
  const harnesses: Harness[] = [];
  const connections: RawConnection[] = [];
  after(async () => {
    for (const connection of connections) connection.close();
    await Promise.all(harnesses.map((h) => h.close()));
  });

  /** A server whose onRequest hook records the node of every request and the stream's node. */
  async function server(): Promise<{ h: Harness; connection: RawConnection; seen: (Node | undefined)[][] }> {
    const seen: (Node | undefined)[][] = [];
    const h = await start({
      hooks: {
        onRequest(request: DiscoveryRequest | DeltaDiscoveryRequest, ctx) {
          seen.push([request.node, ctx.node]);
        },
      },
    });
    harnesses.push(h);
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    connections.push(connection);
    return { h, connection, seen };
  }

  it('S2, L2: a later request node past the node limits is not decoded: the stream goes on and sees only its id (SotW, delta)', async () => {
    const { h, connection, seen } = await server();
    for (const kind of ['sotw', 'delta'] as const) {
      seen.length = 0;
      const stream = connection.open(methodPathOf(kind));
      const first = nextEvent(h.server, 'request', (e) => e.typeUrl === TypeUrl.Cluster, 30_000);
      stream.write(
        grpcFrame(request(kind, { id: 'n1', cluster: 'c', clientFeatures: ['x'] }, TypeUrl.Cluster)),
      );
      await first;
      // Decoded whole, this node ends the stream (maxNodeMetadataDepth, maxNodeListEntries): it is never decoded.
      const later = nextEvent(h.server, 'request', (e) => e.typeUrl === TypeUrl.Endpoint, 30_000);
      stream.write(grpcFrame(request(kind, hugeNode('n1'), TypeUrl.Endpoint)));
      await later;
      assert.equal(seen.length, 2, kind);
      const [[firstNode, streamNode], [laterNode, laterStreamNode]] = seen as [[Node, Node], [Node, Node]];
      assert.equal(firstNode.cluster, 'c', `${kind}: the first request's node is decoded whole`);
      assert.deepEqual(firstNode.clientFeatures, ['x'], kind);
      assert.equal(streamNode, firstNode, `${kind}: the stream's node is the first request's`);
      assert.equal(laterNode.id, 'n1', `${kind}: a later request's node carries its id`);
      assert.equal(laterNode.metadata, undefined, `${kind}: and nothing else`);
      assert.equal(laterNode.clientFeatures.length, 0, kind);
      assert.equal(laterStreamNode, firstNode, `${kind}: the stream keeps its first node`);
      stream.cancel();
    }
  });

  it('S2: a later request naming another node id still ends the stream with INVALID_ARGUMENT, its node otherwise unread', async () => {
    const { h, connection } = await server();
    for (const kind of ['sotw', 'delta'] as const) {
      const stream = connection.open(methodPathOf(kind));
      const first = nextEvent(h.server, 'request', (e) => e.typeUrl === TypeUrl.Cluster, 30_000);
      stream.write(grpcFrame(request(kind, { id: 'n1' }, TypeUrl.Cluster)));
      await first;
      stream.write(grpcFrame(request(kind, hugeNode('someone-else'), TypeUrl.Endpoint)));
      const end = await stream.end(30_000);
      assert.equal(end.grpcStatus, status.INVALID_ARGUMENT, kind);
      assert.match(end.grpcMessage ?? '', /node\.id changed on the stream from "n1" to "someone-else"/, kind);
    }
  });

  it('S2, L2: the first request node is still decoded whole and held to the node limits', async () => {
    const { connection } = await server();
    for (const kind of ['sotw', 'delta'] as const) {
      const stream = connection.open(methodPathOf(kind));
      stream.write(grpcFrame(request(kind, hugeNode('n1'), TypeUrl.Cluster)));
      const end = await stream.end(30_000);
      assert.ok(
        end.grpcStatus === status.INVALID_ARGUMENT || end.grpcStatus === status.RESOURCE_EXHAUSTED,
        `${kind}: ${end.grpcStatus}`,
      );
      assert.match(end.grpcMessage ?? '', /limits\.maxNode(MetadataDepth|ListEntries)/, kind);
    }
  });
});
