// The Kubernetes adapter's lists are read in pages (rule L2; probe4 F4: a 40 MiB list of `{}` under the 64 MiB body
// bound was parsed whole on the event loop, 30+ s of /healthz timeouts and a gigabyte, on every relist): every
// object of a list longer than a page arrives, the requests carry `limit` and `continue`, the watch starts from the
// last page's version; a page past maxPageBytes is asked again with fewer objects, and one that cannot fit is a
// registry error naming the limit, refused before it is parsed; an expired continue token (410 Gone) starts the
// list again, a bounded number of times. A real kube-apiserver answers, through a loopback proxy that logs the
// requests and can rewrite answers (a server that ignores `limit`, a page repeating one object: objects are counted
// as they come) or expire continue tokens.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxListRestarts } from './kube-list.js';
import type { SilentProxy } from './kube-proxy.js';
import { bigService, createService, proxiedRegistry, ready, useKubeApiserver } from './kube-test-support.js';
import type { KubernetesRegistry } from './kubernetes.js';
import { assertTurnsPerChunk, loopTurns, pollUntil, until, untilError } from './test-support.js';

/** The list requests (not watches) of `path` the proxy saw. */
function lists(proxy: SilentProxy, path: string): URL[] {
  return proxy.requests
    .map((r) => r.url)
    .filter((url) => url.pathname === path && url.searchParams.get('watch') !== 'true');
}

function hasAll(registry: KubernetesRegistry, names: readonly string[]): boolean {
  const held = new Set(registry.services().map((s) => s.name));
  return names.every((name) => held.has(name));
}

describe('KubernetesRegistry paged lists (real kube-apiserver)', () => {
  const k8s = useKubeApiserver();

  it("L2: a list longer than listPageSize comes in pages (limit, continue), every object arrives, the watch starts at the last page's version", async () => {
    const names = Array.from({ length: 7 }, (_, i) => `paged-${i}`);
    for (const name of names) await createService(k8s, name, ready(['192.0.2.1']));
    const answers: { path: string; body: string }[] = [];
    const { proxy, registry, stop } = await proxiedRegistry(
      k8s,
      { listPageSize: 2, maxBackoffMs: 300 },
      (path, body) => {
        answers.push({ path, body: body.toString('utf8') });
        return body;
      },
    );
    try {
      await until(registry, () => hasAll(registry, names), 'the 7 services', 60_000);
      const pages = lists(proxy, '/api/v1/services');
      // 7 services and `kubernetes`: at least 4 pages of 2
      assert.ok(pages.length >= 4, `${pages.length} list requests of services`);
      for (const url of pages) assert.equal(url.searchParams.get('limit'), '2', url.search);
      assert.equal(pages.filter((url) => url.searchParams.has('continue')).length, pages.length - 1);
      const last = answers.filter((a) => a.path.startsWith('/api/v1/services?')).at(-1);
      const { metadata } = JSON.parse(last?.body ?? '{}') as {
        metadata?: { resourceVersion?: string; continue?: string };
      };
      assert.equal(metadata?.continue ?? '', '', 'the last page ends the list');
      const watchOf = () =>
        proxy.requests.find(
          (r) => r.url.pathname === '/api/v1/services' && r.url.searchParams.get('watch') === 'true',
        );
      // the watch is asked once the list is applied: it may reach the proxy after the services are out
      await pollUntil(() => watchOf() !== undefined, 'the watch of services', 60_000);
      const watch = watchOf();
      assert.ok(metadata?.resourceVersion, 'the last page has a version');
      assert.equal(watch?.url.searchParams.get('resourceVersion'), metadata.resourceVersion);
    } finally {
      await stop();
    }
  });

  it('L2: a page past maxPageBytes is asked again with fewer objects; one that cannot fit is named and never parsed', async () => {
    const big = ['big-0', 'big-1', 'big-2'];
    for (const name of big)
      await k8s.core.createNamespacedService({ namespace: 'default', body: bigService(name) });
    // 3 services of 150 KB do not fit in one page of 400,000 bytes; 2 do
    const {
      proxy,
      registry: fat,
      stop,
    } = await proxiedRegistry(k8s, {
      listPageSize: 20,
      maxPageBytes: 400_000,
      maxBackoffMs: 300,
    });
    try {
      await until(fat, () => hasAll(fat, big), 'the 3 big services', 60_000);
      const limits = lists(proxy, '/api/v1/services').map((url) => url.searchParams.get('limit'));
      assert.deepEqual(
        limits.slice(0, 4),
        ['20', '10', '5', '2'],
        'the same page asked with half the objects',
      );
    } finally {
      await stop();
    }

    // a server that ignores `limit` and answers every Pod list with 8 MiB of `{}` (2.8 million objects, well
    // under the 64 MiB maxRegistryResponseBytes): refused at its length, never parsed
    const flood = Buffer.from(`{"kind":"PodList","metadata":{},"items":[${'{},'.repeat(2_796_202)}{}]}`);
    const hostile = await proxiedRegistry(k8s, { maxBackoffMs: 300 }, (path, body) =>
      path.startsWith('/api/v1/pods?') ? flood : body,
    );
    try {
      const status = await untilError(
        hostile.registry,
        /maxPageBytes/,
        'the page limit error',
        /GET \/api\/v1\/pods: a page of 1 object is (more than )?\d+ bytes, over the limit of 4194304 \(maxPageBytes\)/,
      );
      assert.equal(status.lastError?.kind, 'limit');
      assert.equal(status.synced, false);
      const limits = () => lists(hostile.proxy, '/api/v1/pods').map((url) => url.searchParams.get('limit'));
      await pollUntil(() => limits().length >= 10, 'the list after the backoff', 60_000);
      assert.deepEqual(
        limits().slice(0, 10),
        ['500', '250', '125', '62', '31', '15', '7', '3', '1', '500'],
        'halved down to one object, then the list starts again after a backoff',
      );
    } finally {
      await hostile.stop();
    }
  });

  it('L2: an expired continue token (410 Gone) starts the list again from its first page; past maxListRestarts it is an error, retried', async () => {
    const names = ['again-0', 'again-1', 'again-2'];
    for (const name of names) await createService(k8s, name, ready(['192.0.2.2']));
    // (kube-apiserver serves a list's later pages from its cache's snapshot, so a compaction in etcd does not
    // expire a token there at once: the proxy answers for it, as an apiserver reading etcd does)
    const { proxy, registry, stop } = await proxiedRegistry(
      k8s,
      { listPageSize: 2, maxBackoffMs: 300 },
      undefined,
      (proxy) => proxy.expireContinues(1),
    );
    try {
      await until(registry, () => hasAll(registry, names), 'every service', 60_000);
      const expired = proxy.requests.find((r) => r.url.searchParams.has('continue'))?.url.pathname;
      assert.ok(expired !== undefined, 'a continue request');
      const firstPages = lists(proxy, expired).filter((url) => !url.searchParams.has('continue'));
      assert.equal(firstPages.length, 2, `the list of ${expired} started again once`);
      assert.equal(registry.status().lastError, undefined, 'one expired token is no error');
    } finally {
      await stop();
    }

    // every continue token expires: the list gives up after maxListRestarts, says so, and lists again later
    const expiring = await proxiedRegistry(k8s, { listPageSize: 2, maxBackoffMs: 300 }, undefined, (proxy) =>
      proxy.expireContinues(1_000_000),
    );
    const limited = expiring.registry;
    try {
      await untilError(
        limited,
        /continue token expired/,
        'the restart bound error',
        new RegExp(`continue token expired ${maxListRestarts + 1} times in a row \\(410 Gone\\)`),
      );
      expiring.proxy.expireContinues(0);
      await until(
        limited,
        () => hasAll(limited, names) && limited.status().lastError === undefined,
        'the list after the backoff',
        60_000,
      );
    } finally {
      await expiring.stop();
    }
  });

  it('L2: objects are counted as they come, not by distinct name: 41 copies of one Service pass maxRegistryObjects 40', async () => {
    const { registry, stop } = await proxiedRegistry(
      k8s,
      { listPageSize: 100, maxBackoffMs: 300, limits: { maxRegistryObjects: 40 } },
      (path, body) => {
        if (!path.startsWith('/api/v1/services?')) return body;
        const list = JSON.parse(body.toString('utf8')) as { items: unknown[] };
        return Buffer.from(
          JSON.stringify({ ...list, items: Array.from({ length: 41 }, () => list.items[0]) }),
        );
      },
    );
    try {
      const status = await untilError(
        registry,
        /maxRegistryObjects/,
        'the object limit error',
        /GET \/api\/v1\/services: more than 40 objects, over the limit of 40 \(maxRegistryObjects\)/,
      );
      assert.equal(status.synced, false);
    } finally {
      await stop();
    }
  });

  it('L4: a page of 20,000 Pods is parsed off the event loop: the loop turns at least once per chunk of 10 until it is applied', async () => {
    const count = 20_000;
    // the real first page of Pods, its objects replaced by 20,000 valid ones (about 3 MB), and no continue token
    const rewrite = (path: string, body: Buffer): Buffer => {
      if (!path.startsWith('/api/v1/pods?')) return body;
      const list = JSON.parse(body.toString('utf8')) as { metadata: Record<string, unknown> };
      const items = Array.from({ length: count }, (_, i) => ({
        metadata: { name: `pod-${i}`, namespace: 'parse', labels: { app: 'parse', index: String(i) } },
        spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
        status: { phase: 'Running', podIP: '192.0.2.1' },
      }));
      return Buffer.from(JSON.stringify({ ...list, metadata: { ...list.metadata, continue: '' }, items }));
    };
    // from the moment the page was written to the moment the Pods' watch is asked (right after the list is applied)
    const loop = loopTurns();
    const { proxy, registry, stop } = await proxiedRegistry(
      k8s,
      { maxBackoffMs: 300, maxPageBytes: 16 * 1024 * 1024, parse: { chunkItems: 10 } },
      rewrite,
      (proxy) => {
        proxy.onRewritten((path) => {
          if (path.startsWith('/api/v1/pods?')) loop.start();
        });
        proxy.onRequest((path) => {
          if (path.startsWith('/api/v1/pods?') && path.includes('watch=true')) loop.stop();
        });
      },
    );
    try {
      await until(registry, () => registry.status().synced, 'the registry synced', 60_000);
      await pollUntil(
        () =>
          proxy.requests.some(
            (r) => r.url.pathname === '/api/v1/pods' && r.url.search.includes('watch=true'),
          ),
        'the watch of Pods',
      );
      assert.equal(registry.status().lastError, undefined);
      // parsed on the event loop, the page took one turn: the count was the few reads of its last bytes
      assertTurnsPerChunk(loop, count, 10, 'the page written and applied');
      assert.ok((registry.parseCounts()?.worker ?? 0) >= 1, 'the page went to the parse worker');
    } finally {
      loop.stop();
      await stop();
    }
  });
});
