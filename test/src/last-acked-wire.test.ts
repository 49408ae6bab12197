// SnapshotCache.lastAcked over the wire (go-control-plane #564): a real server tells the cache of each ACK and
// NACK (rule S5), so an application can roll a NACKed snapshot back to the last one its node ACKed in full.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster } from '@xds/generator';
import { until } from '@xds/testing';
import { loopbackAssignment as cla, serveCacheForSuite, withClient } from './support/wire.js';

const nodeId = 'rollback';
const deadlineMs = 30_000;

describe('SnapshotCache.lastAcked over the wire', () => {
  const cache = new SnapshotCache();
  const suite = serveCacheForSuite(cache);

  for (const protocol of ['sotw', 'delta'] as const) {
    it(`S5: ${protocol}: ACKs of every type make a snapshot lastAcked; a NACK leaves the one to roll back to`, async () => {
      const key = `${nodeId}-${protocol}`;
      const v1 = Snapshot.create([makeCluster({ name: 'app' }), cla('app', 8080)]);
      const v2 = v1.update((draft) => {
        draft[TypeUrl.Endpoint]['app'] = cla('app', 9090);
      });
      cache.setSnapshot(key, v1);
      const options = { node: key, protocol, ads: true, timeoutMs: 30_000, autoAck: false };
      await withClient({ address: suite.address, ...options }, async (client) => {
        client.subscribe(TypeUrl.Cluster, ['app']);
        client.subscribe(TypeUrl.Endpoint, ['app']);
        await client.next(TypeUrl.Cluster);
        await client.next(TypeUrl.Endpoint);
        client.ack(TypeUrl.Cluster);
        // One type ACKed of two: not in full.
        await until('a request was seen', () => cache.status(key)?.lastRequestAt !== undefined, deadlineMs);
        assert.equal(cache.lastAcked(key), undefined);
        client.ack(TypeUrl.Endpoint);
        await until('v1 ACKed in full', () => cache.lastAcked(key) === v1, deadlineMs);
        cache.setSnapshot(key, v2);
        await client.next(TypeUrl.Endpoint);
        client.nack(TypeUrl.Endpoint, 'rejected by the test');
        await until(
          'the NACK was seen',
          () => suite.server.clients().some((c) => c.types[TypeUrl.Endpoint]?.status === 'NACKED'),
          deadlineMs,
        );
        assert.equal(cache.lastAcked(key), v1);
        assert.equal(cache.status(key)?.ackedInFull, false);
        // Roll back: the client already holds v1, so it is ACKed in full at once.
        cache.setSnapshot(key, cache.lastAcked(key)!);
        assert.equal(cache.status(key)?.ackedInFull, true);
        assert.equal(cache.status(key)?.node?.id, key);
        assert.equal(
          protocol === 'sotw' ? cache.status(key)?.sotwWatches : cache.status(key)?.deltaWatches,
          2,
        );
      });
    });
  }
});
