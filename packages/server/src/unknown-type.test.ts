// Rule S15: on ADS, a type the server does not serve is a subscription to a type with no resources; the stream and
// its other types go on. A per-type service still refuses a foreign type (rule S1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { discoveryMethods, TypeUrl } from '@xds/api';
import { Snapshot, TypeHash } from '@xds/cache';
import { callAs } from './test-calls.js';
import { assignment, cluster, start } from './test-harness.js';

const { Cluster, Endpoint } = TypeUrl;
const Quota = 'type.googleapis.com/acme.v1.Quota';
const Other = 'type.googleapis.com/acme.v1.Other';

function recordingLogger() {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  return {
    warnings,
    logger: {
      warn: (fields: object, message?: string) =>
        warnings.push({ fields: fields as Record<string, unknown>, message: message ?? '' }),
      error: () => {},
      info: () => {},
      debug: () => {},
    },
  };
}

describe('types the server does not serve (rule S15)', () => {
  it('S15: SotW ADS answers an unknown type with an empty response at the empty version; the stream goes on', async () => {
    const { warnings, logger } = recordingLogger();
    const h = await start({ logger });
    try {
      const client = h.client({ node: 'n1' });
      client.subscribe(Cluster, []);
      await client.next(Cluster);
      client.subscribe(Quota, ['q1', 'q2']);
      const quota = await client.next(Quota);
      assert.equal(quota.resources.length, 0);
      assert.equal(quota.versionInfo, TypeHash.empty().toString());
      assert.notEqual(quota.nonce, '');
      client.subscribe(Other, []);
      assert.equal((await client.next(Other)).resources.length, 0);
      // The other types go on: a new snapshot reaches the stream.
      h.cache.setSnapshot('n1', Snapshot.create([cluster('c9'), assignment('c9', 9000)]));
      assert.deepEqual((await client.next(Cluster)).names, ['c9']);
      const s15 = warnings.filter((w) => /rule S15/.test(w.message));
      assert.equal(s15.length, 1, 'logged once per stream');
      assert.equal(s15[0]?.fields.typeUrl, Quota);
      assert.equal(h.server.streamStats().unknownTypes, 2);
      const types = Object.keys(h.server.clients()[0]?.types ?? {});
      assert.ok(types.includes(Quota), `the unknown type shows in the client's status: ${types}`);
    } finally {
      await h.close();
    }
  });

  it('S15, D3: delta ADS puts the subscribed names of an unknown type in removed_resources', async () => {
    const h = await start();
    try {
      const client = h.client({ node: 'n1', protocol: 'delta' });
      client.subscribe(Quota, ['q1', 'q2']);
      const quota = await client.next(Quota);
      assert.deepEqual([...quota.removed].sort(), ['q1', 'q2']);
      assert.equal(quota.resources.length, 0);
      client.subscribe(Endpoint, ['c1']);
      assert.deepEqual((await client.next(Endpoint)).names, ['c1']);
    } finally {
      await h.close();
    }
  });

  it('S15, S1: a per-type service still refuses a foreign type with INVALID_ARGUMENT', async () => {
    const h = await start();
    try {
      for (const method of discoveryMethods.filter((m) => m.typeUrl === Cluster && m.kind !== 'fetch')) {
        const end = await callAs(h.address, method, 'n1', Quota);
        assert.equal(end.code, status.INVALID_ARGUMENT, method.path);
        assert.match(end.details, /cannot be requested on/);
      }
    } finally {
      await h.close();
    }
  });

  it('S15, L2: an ADS stream holds at most limits.maxUnknownTypesPerStream unknown types, and type URLs must look like one', async () => {
    const h = await start({ limits: { maxUnknownTypesPerStream: 2 } });
    try {
      const client = h.client({ node: 'n1' });
      for (const name of ['A', 'B', 'C']) client.subscribe(`type.googleapis.com/acme.v1.${name}`, []);
      const end = await client.ended();
      assert.equal(end.code, status.RESOURCE_EXHAUSTED);
      assert.match(end.details, /limits\.maxUnknownTypesPerStream \(2\)/);
      const bad = h.client({ node: 'n1' });
      bad.subscribe('not a type url', []);
      const badEnd = await bad.ended();
      assert.equal(badEnd.code, status.INVALID_ARGUMENT);
      assert.match(badEnd.details, /is not a type URL/);
    } finally {
      await h.close();
    }
  });
});
