// Hooks that can act (go-control-plane's stream callbacks): onStreamOpen, onRequest and onResponse may refuse a
// stream, may be async, are bounded by limits.hookTimeoutMs, and a slow one holds up only its own stream (rules
// L2, L4).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Code, type DeltaDiscoveryRequest, type DiscoveryRequest, TypeUrl, XdsError } from '@xds/api';
import type { HookContext, HookResponse } from './hooks.js';
import { start } from './test-harness.js';

const { Cluster, Endpoint, Listener } = TypeUrl;

/** Polls `check` until it holds, or fails after a deadline. */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A promise the test settles when it chooses. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe('hooks that can act', () => {
  it('L4: onStreamOpen runs before the first request and may refuse the stream with its own status', async () => {
    const seen: HookContext[] = [];
    const h = await start({
      hooks: {
        onStreamOpen: (ctx) => {
          seen.push(ctx);
          if (seen.length === 1) throw new XdsError(Code.FailedPrecondition, 'not today');
        },
      },
    });
    try {
      const refused = h.client({ node: 'n1' });
      refused.subscribe(Cluster, []);
      const end = await refused.ended();
      assert.deepEqual([end.code, end.details], [status.FAILED_PRECONDITION, 'not today']);
      assert.equal(seen[0]?.nodeId, '', 'no node is known before the first request');
      assert.equal(seen[0]?.kind, 'sotw');
      const served = h.client({ node: 'n1' });
      served.subscribe(Cluster, []);
      assert.deepEqual((await served.next(Cluster)).names, ['c1', 'c2']);
    } finally {
      await h.close();
    }
  });

  it('S1, S2: onRequest sees every request in order, ACKs included, on SotW and delta, with the node', async () => {
    const seen: string[] = [];
    const h = await start({
      hooks: {
        onRequest: async (request, ctx) => {
          const sotw = request.$typeName === 'envoy.service.discovery.v3.DiscoveryRequest';
          const names = sotw
            ? (request as DiscoveryRequest).resourceNames
            : (request as DeltaDiscoveryRequest).resourceNamesSubscribe;
          seen.push(
            `${ctx.kind} ${ctx.nodeId} ${request.typeUrl.split('.').pop()} [${names}] ${request.responseNonce}`,
          );
        },
      },
    });
    try {
      const sotw = h.client({ node: 'n1' });
      sotw.subscribe(Cluster, []);
      sotw.subscribe(Endpoint, ['c1']);
      await sotw.next(Cluster);
      const eds = await sotw.next(Endpoint);
      // The ACK of the Endpoint response goes through the hook too.
      await until(() => seen.includes(`sotw n1 ClusterLoadAssignment [c1] ${eds.nonce}`), 'the ACK');
      assert.deepEqual(seen.slice(0, 2), ['sotw n1 Cluster [] ', 'sotw n1 ClusterLoadAssignment [c1] ']);
      const delta = h.client({ node: 'n1', protocol: 'delta' });
      delta.subscribe(Listener, ['l1']);
      await delta.next(Listener);
      assert.ok(seen.includes('delta n1 Listener [l1] '), seen.join('\n'));
    } finally {
      await h.close();
    }
  });

  it('L4: onRequest refuses a stream with the status it throws; a plain Error is INTERNAL, logged', async () => {
    const logged: string[] = [];
    const h = await start({
      logger: { error: (_f, m) => logged.push(m ?? ''), warn: () => {}, info: () => {}, debug: () => {} },
      hooks: {
        onRequest: (request) => {
          if (request.typeUrl === Endpoint) throw new XdsError(Code.PermissionDenied, 'no endpoints for you');
          if (request.typeUrl === Listener) throw new Error('bug in the hook');
        },
      },
    });
    try {
      const a = h.client({ node: 'n1' });
      a.subscribe(Cluster, []);
      await a.next(Cluster);
      a.subscribe(Endpoint, ['c1']);
      const end = await a.ended();
      assert.deepEqual([end.code, end.details], [status.PERMISSION_DENIED, 'no endpoints for you']);
      const b = h.client({ node: 'n1', protocol: 'delta' });
      b.subscribe(Listener, ['l1']);
      const bEnd = await b.ended();
      assert.deepEqual([bEnd.code, bEnd.details], [status.INTERNAL, 'the onRequest hook failed']);
      assert.ok(logged.includes('the onRequest hook failed'), logged.join(', '));
    } finally {
      await h.close();
    }
  });

  it('L2: a slow onRequest holds up only its own stream, whose requests then go on in order', async () => {
    const slow = gate();
    const order: string[] = [];
    const h = await start({
      hooks: {
        onRequest: (request, ctx) => {
          if (ctx.nodeId !== 'slow') return undefined;
          order.push(request.typeUrl);
          return order.length === 1 ? slow.opened : undefined;
        },
      },
    });
    h.cache.setSnapshot('slow', h.cache.getSnapshot('n1')!);
    try {
      const stalled = h.client({ node: 'slow' });
      stalled.subscribe(Cluster, []);
      stalled.subscribe(Endpoint, ['c1']);
      stalled.subscribe(Listener, []);
      // Another stream is served while the slow hook is pending.
      const other = h.client({ node: 'n1' });
      other.subscribe(Cluster, []);
      assert.deepEqual((await other.next(Cluster)).names, ['c1', 'c2']);
      assert.deepEqual(order, [Cluster], 'later requests of the slow stream wait');
      assert.equal(stalled.responses().length, 0);
      slow.open();
      await Promise.all([stalled.next(Cluster), stalled.next(Endpoint), stalled.next(Listener)]);
      assert.deepEqual(order.slice(0, 3), [Cluster, Endpoint, Listener]);
    } finally {
      slow.open();
      await h.close();
    }
  });

  it('L2: a hook that never settles ends its stream after limits.hookTimeoutMs, INTERNAL naming the limit', async () => {
    const h = await start({
      limits: { hookTimeoutMs: 200 },
      hooks: { onStreamOpen: () => new Promise<void>(() => {}) },
    });
    try {
      const client = h.client({ node: 'n1' });
      client.subscribe(Cluster, []);
      const end = await client.ended();
      assert.equal(end.code, status.INTERNAL);
      assert.match(end.details, /onStreamOpen hook did not settle within limits\.hookTimeoutMs \(200 ms\)/);
      assert.equal(h.server.streamStats().endedByLimit.hookTimeoutMs, 1);
    } finally {
      await h.close();
    }
  });

  it('L2: a client that floods requests while a hook is pending ends with RESOURCE_EXHAUSTED naming limits.maxQueuedRequests', async () => {
    const never = gate();
    const h = await start({
      limits: { maxQueuedRequests: 5 },
      hooks: { onRequest: () => never.opened },
    });
    try {
      const client = h.client({ node: 'n1' });
      for (let i = 0; i < 10; i++) client.subscribe(Endpoint, [`e${i}`]);
      const end = await client.ended();
      assert.equal(end.code, status.RESOURCE_EXHAUSTED);
      assert.match(end.details, /limits\.maxQueuedRequests \(5\)/);
      assert.equal(h.server.streamStats().endedByLimit.maxQueuedRequests, 1);
    } finally {
      never.open();
      await h.close();
    }
  });

  it('S3: onResponse sees names, version and nonce; one that rejects ends the stream with its status', async () => {
    const seen: HookResponse[] = [];
    const h = await start({
      hooks: {
        onResponse: async (response, ctx) => {
          seen.push(response);
          if (ctx.kind === 'delta') throw new XdsError(Code.Aborted, 'response refused');
        },
      },
    });
    try {
      const client = h.client({ node: 'n1' });
      client.subscribe(Cluster, []);
      const cds = await client.next(Cluster);
      assert.equal(seen[0]?.nonce, cds.nonce);
      assert.equal(seen[0]?.version, cds.versionInfo);
      assert.deepEqual([...(seen[0]?.resources ?? [])].sort(), ['c1', 'c2']);
      const delta = h.client({ node: 'n1', protocol: 'delta' });
      delta.subscribe(Listener, ['l1']);
      const end = await delta.ended();
      assert.deepEqual([end.code, end.details], [status.ABORTED, 'response refused']);
    } finally {
      await h.close();
    }
  });
});
