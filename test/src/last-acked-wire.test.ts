// SnapshotCache.lastAcked over the wire (go-control-plane #564): a real server tells the cache of each ACK and
// NACK (rule S5), so an application can roll a NACKed snapshot back to the last one its node ACKed in full.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster, makeClusterLoadAssignment } from '@xds/generator';
import { XdsServer } from '@xds/server';
import { XdsTestClient } from '@xds/testing';

const nodeId = 'rollback';
const cla = (port: number) =>
  makeClusterLoadAssignment('app', [
    { locality: { region: 'r1' }, weight: 1, endpoints: [{ address: '127.0.0.1', port }] },
  ]);

/** Polls `check` until it holds or the deadline passes (no sleep as synchronisation). */
async function eventually(check: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${deadlineMs} ms: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('SnapshotCache.lastAcked over the wire', () => {
  const cache = new SnapshotCache();
  let server: XdsServer;
  let address: string;

  before(async () => {
    server = new XdsServer({ cache });
    address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  });
  after(() => server.close());

  for (const protocol of ['sotw', 'delta'] as const) {
    it(`S5: ${protocol}: ACKs of every type make a snapshot lastAcked; a NACK leaves the one to roll back to`, async () => {
      const key = `${nodeId}-${protocol}`;
      const v1 = Snapshot.create([makeCluster({ name: 'app' }), cla(8080)]);
      const v2 = v1.update((draft) => {
        draft[TypeUrl.Endpoint]['app'] = cla(9090);
      });
      cache.setSnapshot(key, v1);
      const client = new XdsTestClient({
        address,
        node: key,
        protocol,
        ads: true,
        timeoutMs: 10_000,
        autoAck: false,
      });
      try {
        client.subscribe(TypeUrl.Cluster, ['app']);
        client.subscribe(TypeUrl.Endpoint, ['app']);
        await client.next(TypeUrl.Cluster);
        await client.next(TypeUrl.Endpoint);
        client.ack(TypeUrl.Cluster);
        // One type ACKed of two: not in full.
        await eventually(() => cache.status(key)?.lastRequestAt !== undefined, 'a request was seen');
        assert.equal(cache.lastAcked(key), undefined);
        client.ack(TypeUrl.Endpoint);
        await eventually(() => cache.lastAcked(key) === v1, 'v1 ACKed in full');
        cache.setSnapshot(key, v2);
        await client.next(TypeUrl.Endpoint);
        client.nack(TypeUrl.Endpoint, 'rejected by the test');
        await eventually(
          () => server.clients().some((c) => c.types[TypeUrl.Endpoint]?.status === 'NACKED'),
          'the NACK was seen',
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
      } finally {
        await client.close();
      }
    });
  }
});
