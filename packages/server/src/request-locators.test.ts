// Rule L2: the dynamic parameters of a request's resource locators (a map per locator, which the server never
// reads) are counted on the wire against limits.maxLocatorParameters before protobuf-es decodes any, over a real
// grpc-js server: SotW, delta and Fetch; the server serves on.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema, discoveryMethods, TypeUrl } from '@xds/api';
import { limitServers, onlyRequest as refused } from './test-limit-servers.js';
import { methodPathOf } from './test-raw-client.js';

const fetchClusters = discoveryMethods.find((m) => m.typeUrl === TypeUrl.Cluster && m.kind === 'fetch')!;

/** `count` parameters spread over 3 locators (each under the limit alone, over it together). */
function locators(count: number) {
  return Array.from({ length: 3 }, (_, l) => ({
    name: `r${l}`,
    dynamicParameters: Object.fromEntries(
      Array.from({ length: Math.ceil(count / 3) }, (_, i) => [`k${l}-${i}`, 'v']),
    ),
  }));
}

describe('L2: resource locator parameters on the wire', () => {
  const servers = limitServers();
  after(() => servers.close());

  it('L2: dynamic parameters past limits.maxLocatorParameters, counted across locators, end SotW, delta and Fetch with RESOURCE_EXHAUSTED naming it', async () => {
    const [h, connection] = await servers.start({ maxLocatorParameters: 100 });
    const node = { id: 'n1' };
    const sotw = toBinary(
      DiscoveryRequestSchema,
      create(DiscoveryRequestSchema, { node, typeUrl: TypeUrl.Cluster, resourceLocators: locators(120) }),
    );
    const delta = toBinary(
      DeltaDiscoveryRequestSchema,
      create(DeltaDiscoveryRequestSchema, {
        node,
        typeUrl: TypeUrl.Cluster,
        resourceLocatorsSubscribe: locators(60),
        resourceLocatorsUnsubscribe: locators(60),
      }),
    );
    for (const [path, bytes] of [
      [methodPathOf('sotw'), sotw],
      [methodPathOf('delta'), delta],
      [fetchClusters.path, sotw],
    ] as const) {
      const end = await refused(connection, path, bytes);
      assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED, path);
      assert.match(
        end.grpcMessage ?? '',
        /resource locators has more than limits\.maxLocatorParameters \(100\) entries of envoy\.service\.discovery\.v3\.ResourceLocator\.dynamic_parameters/,
        path,
      );
    }
    // Within the limit, the request is served.
    const client = h.client({ timeoutMs: 30_000 });
    client.subscribe(TypeUrl.Cluster, []);
    assert.deepEqual((await client.next(TypeUrl.Cluster)).names, ['c1', 'c2']);
    const within = toBinary(
      DiscoveryRequestSchema,
      create(DiscoveryRequestSchema, { node, typeUrl: TypeUrl.Cluster, resourceLocators: locators(90) }),
    );
    const end = await refused(connection, fetchClusters.path, within);
    assert.equal(end.grpcStatus, status.OK);
  });
});
