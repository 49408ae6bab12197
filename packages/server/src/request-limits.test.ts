// Rule L2 over gRPC: what a client sends is bounded by `limits`, not by the client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { type Harness, nextEvent, start } from './test-harness.js';

const { Cluster } = TypeUrl;
const mib = 1024 * 1024;

describe('request limits', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(async () => {
    await h.close();
  });

  for (const protocol of ['sotw', 'delta'] as const) {
    it(`L2: a ${protocol} NACK of 1 MiB is kept cut to maxErrorDetailBytes, in clients() and the nack event`, async () => {
      const node = `nack-${protocol}`;
      h.cache.setSnapshot(node, h.cache.getSnapshot('n1')!);
      const huge = `${'é'.repeat(10)}${'x'.repeat(mib - 20)}`;
      const nacked = nextEvent(h.server, 'nack', (e) => e.nodeId === node);
      const client = h.client({ node, protocol, nack: () => huge });
      client.subscribe(Cluster, []);
      const event = await nacked;
      const limit = 4 * 1024;
      assert.ok(event.message.startsWith('é'.repeat(10)));
      assert.ok(event.message.endsWith(`… [cut: ${mib} bytes, kept ${limit}]`), event.message.slice(-60));
      assert.ok(Buffer.byteLength(event.message) < limit + 64, `${Buffer.byteLength(event.message)} bytes`);
      const info = h.server.clients().find((c) => c.nodeId === node);
      assert.equal(info?.types[Cluster]?.nack?.message, event.message);
    });
  }
});
