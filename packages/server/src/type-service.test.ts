// A per-type discovery service the user mounts for a type URL the server serves: the generic
// envoy.service.discovery.v3 messages on a service the user names (rules S1, D1, S15).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { DeltaDiscoveryResponseSchema, DiscoveryResponseSchema, TypeUrl, XdsError } from '@xds/api';
import { callAs } from './test-calls.js';
import { start } from './test-harness.js';
import { typeServiceMethods } from './type-service.js';

const { Cluster, Listener } = TypeUrl;

describe('a per-type service the user mounts', () => {
  it('S1, D1: Stream, Delta and Fetch of a generic service serve its type; a foreign type is InvalidArgument', async () => {
    const options = {
      typeUrl: Cluster,
      service: 'acme.test.v1.MyClusterDiscoveryService',
      name: 'MyClusters',
    };
    const h = await start();
    h.server.addTypeService(options);
    try {
      const [stream, delta, fetch] = typeServiceMethods(options);
      assert.equal(stream?.path, '/acme.test.v1.MyClusterDiscoveryService/StreamMyClusters');
      const sotw = await callAs(h.address, stream!, 'n1', '');
      assert.equal(sotw.code, status.OK, sotw.details);
      const sotwResponse = fromBinary(DiscoveryResponseSchema, sotw.response!);
      assert.equal(sotwResponse.typeUrl, Cluster);
      assert.equal(sotwResponse.resources.length, 2);
      const incremental = await callAs(h.address, delta!, 'n1', Cluster);
      assert.equal(incremental.code, status.OK, incremental.details);
      const deltaResponse = fromBinary(DeltaDiscoveryResponseSchema, incremental.response!);
      assert.deepEqual(deltaResponse.resources.map((r) => r.name).sort(), ['c1', 'c2']);
      const fetched = await callAs(h.address, fetch!, 'n1', Cluster);
      assert.equal(fetched.code, status.OK, fetched.details);
      assert.equal(fromBinary(DiscoveryResponseSchema, fetched.response!).resources.length, 2);
      const foreign = await callAs(h.address, stream!, 'n1', Listener);
      assert.equal(foreign.code, status.INVALID_ARGUMENT);
      assert.match(
        foreign.details,
        /cannot be requested on \/acme\.test\.v1\.MyClusterDiscoveryService\/StreamMyClusters/,
      );
    } finally {
      await h.close();
    }
  });

  it('S15: a type the server does not serve, or a malformed name, cannot be mounted', async () => {
    const h = await start();
    try {
      const unknown = {
        typeUrl: 'type.googleapis.com/acme.v1.Quota',
        service: 'acme.v1.QuotaService',
        name: 'Quotas',
      };
      assert.throws(
        () => h.server.addTypeService(unknown),
        (e: unknown) =>
          e instanceof XdsError && /does not serve type\.googleapis\.com\/acme\.v1\.Quota/.test(e.message),
      );
      assert.throws(
        () => h.server.addTypeService({ ...unknown, typeUrl: Cluster, service: 'not a name' }),
        /gRPC service name/,
      );
      assert.throws(
        () => h.server.addTypeService({ ...unknown, typeUrl: Cluster, name: 'lower' }),
        /method suffix/,
      );
    } finally {
      await h.close();
    }
  });
});
