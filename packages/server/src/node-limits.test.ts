// Rule L2: a request's `node` is held to its limits on the wire, before protobuf-es decodes any of it (its bytes,
// the entries of its repeated fields and maps, the nesting of its metadata), over a real grpc-js server; a later
// request of a stream is held to its bytes (its node is not decoded: request-node.test.ts); real nodes (an
// Envoy's, an Istio sidecar's, a gRPC client's) pass.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  discoveryMethods,
  NodeSchema,
  TypeUrl,
} from '@xds/api';
import { type Harness, nextEvent } from './test-harness.js';
import { limitServers, onlyRequest as refused } from './test-limit-servers.js';
import { nodeWithFeatures, twoLevelMetadata } from './test-node-cases.js';
import { envoyNode, grpcNode, istioNode, nestedMetadata } from './test-nodes.js';
import { grpcFrame, methodPathOf, type RawConnection } from './test-raw-client.js';

type NodeInit = MessageInitShape<typeof NodeSchema>;

const sotw = (node: NodeInit, typeUrl: string = TypeUrl.Cluster) =>
  toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node, typeUrl }));
const delta = (node: NodeInit) =>
  toBinary(
    DeltaDiscoveryRequestSchema,
    create(DeltaDiscoveryRequestSchema, { node, typeUrl: TypeUrl.Cluster }),
  );
const fetchClusters = discoveryMethods.find((m) => m.typeUrl === TypeUrl.Cluster && m.kind === 'fetch')!;

/** Sends `bytes` as the first request of a stream and waits for the server to take it; then cancels the stream. */
async function accepted(h: Harness, connection: RawConnection, bytes: Uint8Array): Promise<void> {
  const seen = nextEvent(h.server, 'request', (e) => e.nodeId === 'n1', 30_000);
  const stream = connection.open(methodPathOf('sotw'));
  stream.write(grpcFrame(bytes));
  await seen;
  stream.cancel();
}

describe('L2: node limits on the wire', () => {
  const servers = limitServers();
  after(() => servers.close());
  const server = servers.start;

  /** A bystander on the same server is served. */
  async function bystanderServed(h: Harness): Promise<void> {
    const other = h.client({ timeoutMs: 30_000 });
    other.subscribe(TypeUrl.Cluster, []);
    assert.deepEqual((await other.next(TypeUrl.Cluster)).names, ['c1', 'c2']);
  }

  it('L2: real nodes pass the default limits: an Envoy with 600 extensions, an Istio sidecar, a gRPC client', async () => {
    const [h, connection] = await server();
    for (const node of [envoyNode('n1'), istioNode('n1'), grpcNode('n1')])
      await accepted(h, connection, sotw(node));
    assert.ok(
      toBinary(NodeSchema, create(NodeSchema, envoyNode('n1'))).length > 50_000,
      'the Envoy node is large',
    );
  });

  it('L2: a node over limits.maxNodeBytes (default 1 MiB) ends SotW, delta and Fetch with RESOURCE_EXHAUSTED naming it', async () => {
    const [h, connection] = await server();
    // 2 MiB of client features: before the wire pass held the node, protobuf-es decoded all of it.
    const node = {
      id: 'n1',
      clientFeatures: Array.from({ length: 8_000 }, (_, i) => `${i}`.padEnd(256, 'f')),
    };
    for (const [path, bytes] of [
      [methodPathOf('sotw'), sotw(node)],
      [methodPathOf('delta'), delta(node)],
      [fetchClusters.path, sotw(node)],
    ] as const) {
      const end = await refused(connection, path, bytes);
      assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED, path);
      assert.match(
        end.grpcMessage ?? '',
        /node is \d+ bytes, more than limits\.maxNodeBytes \(1048576\)/,
        path,
      );
    }
    await bystanderServed(h);
  });

  it('L2: entries of a node field past limits.maxNodeListEntries end the stream, named, counted across nested Structs', async () => {
    const [h, connection] = await server({ maxNodeListEntries: 100 });
    const features = nodeWithFeatures(101);
    let end = await refused(connection, methodPathOf('sotw'), sotw(features));
    assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.match(
      end.grpcMessage ?? '',
      /node has more than limits\.maxNodeListEntries \(100\) entries of envoy\.config\.core\.v3\.Node\.client_features/,
    );
    // 60 keys at the top of the metadata and 60 one level down: 120 Struct entries in all.
    const metadata = twoLevelMetadata(60);
    end = await refused(connection, methodPathOf('delta'), delta({ id: 'n1', metadata }));
    assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.match(end.grpcMessage ?? '', /\(100\) entries of google\.protobuf\.Struct\.fields/);
    await bystanderServed(h);
  });

  it('L2: metadata nested past limits.maxNodeMetadataDepth (default 16) ends the stream with INVALID_ARGUMENT', async () => {
    const [h, connection] = await server();
    // 30 levels: protobuf-es (recursion limit 100) and the wire pass's nesting bound (100, map entries counted)
    // read it before the node had a limit of its own.
    for (const metadata of [nestedMetadata(30, 'struct'), nestedMetadata(17, 'list')]) {
      const end = await refused(connection, methodPathOf('sotw'), sotw({ id: 'n1', metadata }));
      assert.equal(end.grpcStatus, status.INVALID_ARGUMENT);
      assert.match(
        end.grpcMessage ?? '',
        /node nests Struct and ListValue values deeper than limits\.maxNodeMetadataDepth \(16\)/,
      );
    }
    // 16 levels pass.
    await accepted(h, connection, sotw({ id: 'n1', metadata: nestedMetadata(16, 'struct') }));
    await bystanderServed(h);
  });

  it('L2: a later request of a stream is held to limits.maxNodeBytes too (an Envoy sends its node in every request)', async () => {
    const [h, connection] = await server({ maxNodeBytes: 4096 });
    const stream = connection.open(methodPathOf('sotw'));
    const first = nextEvent(h.server, 'request', (e) => e.nodeId === 'n1', 30_000);
    stream.write(grpcFrame(sotw({ id: 'n1' })));
    await first;
    stream.write(grpcFrame(sotw({ id: 'n1', clientFeatures: ['x'.repeat(5000)] }, TypeUrl.Endpoint)));
    const end = await stream.end(30_000);
    assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.match(end.grpcMessage ?? '', /node is 50\d\d bytes, more than limits\.maxNodeBytes \(4096\)/);
    await bystanderServed(h);
  });
});
