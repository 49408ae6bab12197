// Rule L2 upstream: the origin controls the version of its responses, which a relay keeps, presents again on
// reconnect and forwards to every client of the group (rule X1). A version past the upstream client's
// `maxVersionBytes` (1 KiB by default) is NACKed upstream naming the limit; the group keeps serving what it held and
// no downstream client ever sees that version. A real origin (it serves a given version as is), the real relay, real
// downstream clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot } from '@xds/cache';
import { makeCluster } from '@xds/generator';
import {
  closeAfterAll,
  downstream,
  nextEvent,
  oddlyEncodedCluster,
  originKey,
  startOriginAndRelay,
  until,
} from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

for (const upstream of ['sotw', 'delta'] as const) {
  describe(`relay: the origin's versions are bounded (${upstream} upstream)`, () => {
    it('L2, X1: a version past maxVersionBytes is NACKed upstream; downstream clients keep what they had and never see it', async () => {
      const { origin, relay, address } = await startOriginAndRelay(closers, { upstreamProtocol: upstream });
      const clients = [
        track(downstream(address, 'a')),
        track(downstream(address, 'b', { protocol: 'delta' })),
      ];
      for (const client of clients) client.subscribe(TypeUrl.Cluster, ['*']);
      for (const client of clients) await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
      const held = relay.cache.getSnapshot('web')?.version(TypeUrl.Cluster);

      const nack = nextEvent(relay, 'upstreamNack', (e) => e.typeUrl === TypeUrl.Cluster);
      const huge = 'x'.repeat(1_000_000);
      origin.cache.setSnapshot(
        originKey,
        Snapshot.create(
          [oddlyEncodedCluster().message, makeCluster({ name: 'c2' }), makeCluster({ name: 'c3' })],
          {
            version: huge,
          },
        ),
      );
      const event = await nack;
      assert.match(event.message, /version is 1000000 bytes, over limits\.maxVersionBytes=1024/);
      await until('the origin to record the NACK of relay~web', () => {
        const types = origin.server.clients().find((c) => c.nodeId === 'relay~web')?.types;
        return types?.[TypeUrl.Cluster]?.status === 'NACKED';
      });
      assert.equal(
        relay.cache.getSnapshot('web')?.version(TypeUrl.Cluster),
        held,
        'the group keeps its version',
      );
      assert.equal(relay.groups()[0]?.versions[TypeUrl.Cluster], held);

      // The next sane version flows again, and no downstream response ever carried the long one.
      origin.cache.setSnapshot(
        originKey,
        Snapshot.create([oddlyEncodedCluster().message, makeCluster({ name: 'c4' })], { version: 'v-sane' }),
      );
      for (const client of clients) await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c4'));
      for (const client of clients)
        for (const response of client.responses(TypeUrl.Cluster)) {
          const version =
            response.protocol === 'sotw' ? response.versionInfo : response.raw.systemVersionInfo;
          assert.ok(
            version.length <= 1024,
            `a downstream response carried a version of ${version.length} characters`,
          );
        }
    });
  });
}
