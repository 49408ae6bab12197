import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ResourceSchema, TypeUrl } from '@xds/api';
import { Snapshot } from '@xds/cache';
import type { SotwReceivedResponse } from '@xds/testing';
import { assignment, start } from './test-harness.js';

const { Endpoint } = TypeUrl;
const ttlFeature = 'xds.config.supports-resource-ttl';

describe('TTL (R4)', () => {
  it('R4: wraps TTL resources in Resource for clients that support TTLs, never for others, and heartbeats them', async () => {
    const snapshot = Snapshot.create([{ resource: assignment('c1', 80), ttlMs: 2500 }, assignment('c2', 81)]);
    const h = await start({}, {}, snapshot);
    try {
      const plain = h.client();
      plain.subscribe(Endpoint, ['c1', 'c2']);
      const plainResponse = (await plain.next(Endpoint)) as SotwReceivedResponse;
      assert.deepEqual(
        plainResponse.raw.resources.map((a) => a.typeUrl),
        [Endpoint, Endpoint],
      );

      const ttl = h.client({ node: { id: 'n1', clientFeatures: [ttlFeature] } });
      ttl.subscribe(Endpoint, ['c1', 'c2']);
      const response = (await ttl.next(Endpoint)) as SotwReceivedResponse;
      const byType = new Map(response.raw.resources.map((a) => [a.typeUrl, a]));
      const wrapped = byType.get('type.googleapis.com/envoy.service.discovery.v3.Resource');
      assert.ok(wrapped, 'c1 travels in a Resource wrapper');
      const resource = anyUnpack(wrapped, ResourceSchema)!;
      assert.equal(resource.name, 'c1');
      assert.equal(resource.ttl?.seconds, 2n);
      assert.equal(resource.ttl?.nanos, 500_000_000);
      assert.equal(resource.resource?.typeUrl, Endpoint);
      assert.ok(byType.has(Endpoint), 'c2 has no TTL and travels bare');
      assert.deepEqual([...response.names].sort(), ['c1', 'c2']);

      h.cache.heartbeat();
      const beat = (await ttl.next(Endpoint)) as SotwReceivedResponse;
      assert.equal(beat.raw.resources.length, 1);
      const heartbeat = anyUnpack(beat.raw.resources[0]!, ResourceSchema)!;
      assert.equal(heartbeat.name, 'c1');
      assert.equal(heartbeat.resource, undefined, 'a heartbeat carries no body');
      assert.equal(heartbeat.version, snapshot.entries(Endpoint).get('c1')?.version);
      // The plain client got nothing from the heartbeat: its next response is the one a new name brings.
      plain.subscribe(TypeUrl.Cluster, ['c1']);
      await plain.next(TypeUrl.Cluster);
      assert.equal(plain.responses(Endpoint).length, 1);
    } finally {
      await h.close();
    }
  });
});
