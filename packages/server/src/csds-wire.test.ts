// Rule L2: CSDS requests take the request wire pass before protobuf-es decodes them: node matchers are counted
// against limits.maxStatusMatchers and each held to limits.maxStatusMatcherBytes before one is decoded, and the
// request's node is held to the node limits, over a real grpc-js server (FetchClientStatus and StreamClientStatus).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { ClientStatusDiscoveryService, ClientStatusRequestSchema, methodPath, TypeUrl } from '@xds/api';
import { forNodes } from './test-csds-client.js';
import { onlyRequest as call, limitServers } from './test-limit-servers.js';

const paths = ClientStatusDiscoveryService.methods.map((m) => methodPath(m));

describe('L2: CSDS requests on the wire', () => {
  const servers = limitServers();
  after(() => servers.close());
  const server = servers.start;

  it('L2: node matchers past limits.maxStatusMatchers are refused by count, before any is decoded', async () => {
    const [h, connection] = await server();
    // 101 empty matchers and a 102nd whose node id is not UTF-8: protobuf-es would refuse the request as not
    // parsing, after decoding 101 matchers; the count comes first.
    const bad = [0x0a, 0x06, 0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28];
    const bytes = Buffer.from([...Array.from({ length: 101 }, () => [0x0a, 0x00]).flat(), ...bad]);
    for (const path of paths) {
      const end = await call(connection, path, bytes);
      assert.equal(end.grpcStatus, status.INVALID_ARGUMENT, path);
      assert.match(
        end.grpcMessage ?? '',
        /node_matchers has 102 node matchers, more than limits\.maxStatusMatchers \(100\)/,
        path,
      );
    }
    const other = h.client({ timeoutMs: 30_000 });
    other.subscribe(TypeUrl.Cluster, []);
    assert.deepEqual((await other.next(TypeUrl.Cluster)).names, ['c1', 'c2']);
  });

  it('L2: a node matcher past limits.maxStatusMatcherBytes (default 16 KiB) is refused before it is decoded', async () => {
    const [, connection] = await server();
    const big = toBinary(
      ClientStatusRequestSchema,
      create(ClientStatusRequestSchema, forNodes('n1', 'x'.repeat(20_000))),
    );
    for (const path of paths) {
      const end = await call(connection, path, big);
      assert.equal(end.grpcStatus, status.INVALID_ARGUMENT, path);
      assert.match(
        end.grpcMessage ?? '',
        /node_matchers\[1\] is 2000\d bytes, more than limits\.maxStatusMatcherBytes \(16384\)/,
        path,
      );
    }
    // A matcher within the limit is answered.
    const fine = toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, forNodes('n1')));
    const end = await call(connection, paths[0]!, fine);
    assert.equal(end.grpcStatus, status.OK);
  });

  it('L3: a short regex that compiles to a huge program is refused before it is compiled', async () => {
    const [, connection] = await server();
    // 808 bytes, under limits.maxRegexBytes: re2js compiled it to 802,002 instructions in 803 ms and 103 MB.
    const regex = `(${'ab'.repeat(400)}){1000}`;
    const bytes = toBinary(
      ClientStatusRequestSchema,
      create(ClientStatusRequestSchema, {
        nodeMatchers: [{ nodeId: { matchPattern: { case: 'safeRegex', value: { regex } } } }],
      }),
    );
    for (const path of paths) {
      const end = await call(connection, path, bytes);
      assert.equal(end.grpcStatus, status.INVALID_ARGUMENT, path);
      assert.match(
        end.grpcMessage ?? '',
        /node_matchers\[0\]\.node_id\.safe_regex: the regex may compile to \d+ instructions, more than limits\.maxRegexProgramSize \(200\)/,
      );
    }
  });

  it("L2: a CSDS request's node is held to the node limits", async () => {
    const [, connection] = await server({ maxNodeListEntries: 10 });
    const bytes = toBinary(
      ClientStatusRequestSchema,
      create(ClientStatusRequestSchema, {
        node: { id: 'operator', clientFeatures: Array.from({ length: 11 }, (_, i) => `f${i}`) },
      }),
    );
    const end = await call(connection, paths[0]!, bytes);
    assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.match(
      end.grpcMessage ?? '',
      /node has more than limits\.maxNodeListEntries \(10\) entries of envoy\.config\.core\.v3\.Node\.client_features/,
    );
  });
});
