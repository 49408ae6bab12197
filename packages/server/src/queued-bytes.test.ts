// Rule L2: the requests a stream sends while authorization or a hook is pending are bounded in bytes, per stream
// (limits.maxQueuedRequestBytes) and across the server (limits.maxQueuedRequestBytesTotal), not only in count.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import type { XdsTestClient } from '@xds/testing';
import { estimateRequestBytes } from './queued-bytes.js';
import { sample, start } from './test-harness.js';

const { Cluster, Endpoint } = TypeUrl;

/** A promise the test settles when it chooses. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/** 1,000 names of 40 characters: a request of about 42 KB. */
function bigNames(tag: string): string[] {
  return Array.from({ length: 1000 }, (_, i) => `${tag}-${String(i).padStart(6, '0')}`.padEnd(40, 'x'));
}

/** The stream's end, or a failure naming what did not happen within the deadline. */
function endOf(client: XdsTestClient, what: string) {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: the stream did not end within 15 s`)), 15_000);
  });
  return Promise.race([client.ended(), deadline]).finally(() => clearTimeout(timer));
}

/** An onRequest hook that holds each node's requests until its gate opens. */
function gatedNodes(...nodes: string[]) {
  const gates = new Map(nodes.map((node) => [node, gate()]));
  return {
    gates,
    onRequest: (_request: unknown, ctx: { readonly nodeId: string }) => gates.get(ctx.nodeId)?.opened,
  };
}

describe('queued request bytes (rule L2)', () => {
  it('L2: the estimate counts names, and stops past its bound', () => {
    const request = { $typeName: 'x', typeUrl: Endpoint, resourceNames: bigNames('e') };
    const bytes = estimateRequestBytes(request, Number.MAX_SAFE_INTEGER);
    assert.ok(bytes >= 40_000 && bytes < 50_000, `about 42 KB, got ${bytes}`);
    assert.ok(estimateRequestBytes(request, 1000) < 2000, 'a bounded walk stops soon after its bound');
  });

  it('L2: requests queued behind a pending hook past limits.maxQueuedRequestBytes end the stream with RESOURCE_EXHAUSTED', async () => {
    const held = gatedNodes('n1');
    const h = await start({
      limits: { maxQueuedRequestBytes: 64 * 1024 },
      hooks: { onRequest: held.onRequest },
    });
    try {
      const client = h.client({ node: 'n1' });
      client.subscribe(Cluster, []);
      // Two requests of ~42 KB wait behind the first one's hook: 84 KB passes the 64 KiB limit (2 < maxQueuedRequests).
      client.subscribe(Endpoint, bigNames('a'));
      client.setSubscription(Endpoint, bigNames('b'));
      const end = await endOf(client, 'maxQueuedRequestBytes');
      assert.equal(end.code, status.RESOURCE_EXHAUSTED);
      assert.match(end.details, /limits\.maxQueuedRequestBytes \(65536 bytes\)/);
      assert.equal(h.server.streamStats().endedByLimit.maxQueuedRequestBytes, 1);
    } finally {
      for (const g of held.gates.values()) g.open();
      await h.close();
    }
  });

  it('L2: past limits.maxQueuedRequestBytesTotal only the stream that passes it ends; handled and dropped requests give their bytes back', async () => {
    const held = gatedNodes('a', 'b', 'c', 'd');
    const h = await start({
      limits: { maxQueuedRequestBytes: 96 * 1024, maxQueuedRequestBytesTotal: 128 * 1024 },
      hooks: { onRequest: held.onRequest },
    });
    try {
      for (const node of held.gates.keys()) h.cache.setSnapshot(node, sample());
      // Streams a and b each queue ~84 KB (within the 96 KiB per stream); together they pass the 128 KiB total.
      const [a, b] = ['a', 'b'].map((node) => {
        const client = h.client({ node });
        client.subscribe(Cluster, []);
        client.subscribe(Endpoint, bigNames(`${node}1`));
        client.setSubscription(Endpoint, ['c1', ...bigNames(`${node}2`)]);
        return client;
      }) as [XdsTestClient, XdsTestClient];
      const first = await Promise.race([
        endOf(a, 'total').then((end) => ({ end, ended: a, other: b, node: 'b' })),
        endOf(b, 'total').then((end) => ({ end, ended: b, other: a, node: 'a' })),
      ]);
      assert.equal(first.end.code, status.RESOURCE_EXHAUSTED);
      assert.match(first.end.details, /limits\.maxQueuedRequestBytesTotal \(131072 bytes\)/);
      assert.equal(h.server.streamStats().endedByLimit.maxQueuedRequestBytesTotal, 1);
      // The other stream is untouched: once its hook settles, its queued requests are handled in order.
      held.gates.get(first.node)?.open();
      const eds = await first.other.waitFor(Endpoint, (r) => r.names.includes('c1'));
      assert.deepEqual(eds.names, ['c1']);
      // Every queued byte was given back: c (~84 KB) and d (~42 KB) now fit in the 128 KiB total together.
      const c = h.client({ node: 'c' });
      c.subscribe(Cluster, []);
      c.subscribe(Endpoint, bigNames('c1'));
      c.setSubscription(Endpoint, ['c1', ...bigNames('c2')]);
      const d = h.client({ node: 'd' });
      d.subscribe(Cluster, []);
      d.subscribe(Endpoint, ['c1', ...bigNames('d1')]);
      held.gates.get('c')?.open();
      held.gates.get('d')?.open();
      for (const client of [c, d]) {
        const response = await client.waitFor(Endpoint, (r) => r.names.includes('c1'));
        assert.deepEqual(response.names, ['c1']);
      }
      assert.equal(h.server.streamStats().endedByLimit.maxQueuedRequestBytesTotal, 1);
    } finally {
      for (const g of held.gates.values()) g.open();
      await h.close();
    }
  });
});
