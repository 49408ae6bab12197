// A type registered with the cache at run time (go-control-plane #418) is served like a built-in one: on ADS, SotW
// and delta, and by a per-type service the user mounts (rules S1, D1, S11, S15).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor, status } from '@grpc/grpc-js';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  discoveryMethods,
  ResourceTypes,
  stringField,
  TypeUrl,
} from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { callAs } from './test-calls.js';
import { cluster } from './test-harness.js';
import { typeServiceMethods } from './type-service.js';
import { XdsServer } from './xds-server.js';

const quotaUrl = 'type.googleapis.com/acme.quota.v1.Quota';
/** An opaque type (no schema): its name is field 1 of the encoded message; it is pushed before every other type. */
const types = ResourceTypes.builtIn.with({
  typeUrl: quotaUrl,
  wildcard: true,
  pushOrder: -1,
  nameOfBytes: stringField(1),
});
/** An encoded "Quota": field 1 is its name, field 2 its limit. */
const quota = (name: string, limit: number) =>
  new Uint8Array([0x0a, name.length, ...Buffer.from(name), 0x10, limit]);
const ads = (kind: 'sotw' | 'delta') =>
  discoveryMethods.find((m) => m.kind === kind && m.typeUrl === undefined)!;

async function serve() {
  const cache = new SnapshotCache({ types });
  cache.setSnapshot(
    'n1',
    Snapshot.create([cluster('c1'), { typeUrl: quotaUrl, bytes: quota('q1', 5) }], { types }),
  );
  const server = new XdsServer({ cache });
  server.addTypeService({
    typeUrl: quotaUrl,
    service: 'acme.quota.v1.QuotaDiscoveryService',
    name: 'Quotas',
  });
  const port = await server.listen('127.0.0.1:0');
  return { cache, server, address: `127.0.0.1:${port}` };
}

describe('a registered resource type over the wire', () => {
  it('S15, S1: a registered type is served on SotW and delta ADS with its bytes, not as an unknown type', async () => {
    const { cache, server, address } = await serve();
    try {
      const sotw = await callAs(address, ads('sotw'), 'n1', quotaUrl);
      assert.equal(sotw.code, status.OK, sotw.details);
      const response = fromBinary(DiscoveryResponseSchema, sotw.response!);
      assert.equal(response.typeUrl, quotaUrl);
      assert.equal(response.versionInfo, cache.getSnapshot('n1')!.version(quotaUrl));
      assert.deepEqual(
        response.resources.map((r) => [r.typeUrl, [...r.value]]),
        [[quotaUrl, [...quota('q1', 5)]]],
      );
      const delta = await callAs(address, ads('delta'), 'n1', quotaUrl);
      assert.equal(delta.code, status.OK, delta.details);
      const deltaResponse = fromBinary(DeltaDiscoveryResponseSchema, delta.response!);
      assert.deepEqual(
        deltaResponse.resources.map((r) => [r.name, [...(r.resource?.value ?? [])]]),
        [['q1', [...quota('q1', 5)]]],
      );
      assert.equal(server.streamStats().unknownTypes, 0);
    } finally {
      await server.close();
      cache.close();
    }
  });

  it('S1, D1: the per-type service mounted for it serves Stream, Delta and Fetch; a built-in type is foreign there', async () => {
    const { cache, server, address } = await serve();
    try {
      const [stream, delta, fetch] = typeServiceMethods({
        typeUrl: quotaUrl,
        service: 'acme.quota.v1.QuotaDiscoveryService',
        name: 'Quotas',
      });
      for (const method of [stream!, fetch!]) {
        const end = await callAs(address, method, 'n1', '');
        assert.equal(end.code, status.OK, `${method.path}: ${end.details}`);
        const response = fromBinary(DiscoveryResponseSchema, end.response!);
        assert.deepEqual(
          response.resources.map((r) => [...r.value]),
          [[...quota('q1', 5)]],
        );
      }
      const incremental = await callAs(address, delta!, 'n1', quotaUrl);
      assert.equal(incremental.code, status.OK, incremental.details);
      assert.deepEqual(
        fromBinary(DeltaDiscoveryResponseSchema, incremental.response!).resources.map((r) => r.name),
        ['q1'],
      );
      const foreign = await callAs(address, stream!, 'n1', TypeUrl.Cluster);
      assert.equal(foreign.code, status.INVALID_ARGUMENT);
    } finally {
      await server.close();
      cache.close();
    }
  });

  it('S11: a registered type goes out in its push order (pushOrder -1: before Clusters) when a snapshot changes both', async () => {
    const { cache, server, address } = await serve();
    const Client = makeGenericClientConstructor({}, 'Raw');
    const client = new Client(address, credentials.createInsecure());
    const call = client.makeBidiStreamRequest(
      ads('sotw').path,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      { deadline: Date.now() + 30_000 },
    );
    const seen: string[] = [];
    const pushed = new Promise<void>((resolve, reject) => {
      call.on('data', (bytes: Buffer) => {
        seen.push(fromBinary(DiscoveryResponseSchema, bytes).typeUrl);
        if (seen.length === 2)
          cache.setSnapshot(
            'n1',
            Snapshot.create([cluster('c2'), { typeUrl: quotaUrl, bytes: quota('q2', 7) }], { types }),
          );
        if (seen.length === 4) resolve();
      });
      call.on('error', reject);
    });
    try {
      for (const typeUrl of [TypeUrl.Cluster, quotaUrl])
        call.write(
          toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node: { id: 'n1' }, typeUrl })),
        );
      await pushed;
      assert.deepEqual(seen.slice(2), [quotaUrl, TypeUrl.Cluster]);
    } finally {
      call.cancel();
      client.close();
      await server.close();
      cache.close();
    }
  });
});
