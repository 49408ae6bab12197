// The Kubernetes adapter's client-side time bounds (rules L2 and L4): a watch or a list on a connection that went
// silent (a NAT or load balancer that dropped the flow, a partition without RST, an apiserver host that died) is
// abandoned, the registry says stale meanwhile, and it watches again. A real kube-apiserver always answers, so a
// plain-HTTP loopback proxy in front of it (the kubeconfig's token passed through) holds the first watch of each
// kind open with nothing after its headers, and can hold a list mid-body. Before: such a watch was never abandoned
// and the registry reported itself synced and not stale forever (probe4 F5). A watch that the server (or a proxy)
// ends at once, without an event, is opened again only after a backoff, and the registry says so (probe4 F10: it
// was opened again at once, about 120 times a second).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createService,
  proxiedRegistry,
  ready,
  setSliceEndpoints,
  useKubeApiserver,
} from './kube-test-support.js';
import type { KubernetesRegistry } from './kubernetes.js';
import { statusHistory, until, untilError } from './test-support.js';

function addressOf(registry: KubernetesRegistry, name: string): string | undefined {
  return registry.services().find((s) => s.name === name)?.instances[0]?.address;
}

describe('KubernetesRegistry time bounds (real kube-apiserver behind a silent proxy)', () => {
  const k8s = useKubeApiserver();

  it('L2: a watch silent after its headers is abandoned after watchIdleMs (stale meanwhile) and resumed', async () => {
    await createService(k8s, 'quiet', ready(['192.0.2.1']));
    const { registry, stop } = await proxiedRegistry(
      k8s,
      { maxBackoffMs: 300, watchIdleMs: 2000 },
      undefined,
      (proxy) => proxy.silenceWatches(3),
    );
    try {
      await until(registry, () => addressOf(registry, 'quiet') === '192.0.2.1', 'the first sync', 60_000);
      // a change made while every watch is silent
      await setSliceEndpoints(k8s.discovery, 'quiet-1', ready(['192.0.2.3']));
      await until(
        registry,
        () => registry.status().stale && /watchIdleMs/.test(registry.status().lastError?.message ?? ''),
        'the registry to say stale, naming watchIdleMs',
        60_000,
      );
      // (a healthy watch with no event for watchIdleMs is abandoned too: 2 s is far under the minute between
      // kube-apiserver's bookmarks, so staleness is not asserted again here; the default is 120 s)
      await until(registry, () => addressOf(registry, 'quiet') === '192.0.2.3', 'the change', 60_000);
    } finally {
      await stop();
    }
  });

  it('L2: a list that stops mid-body is abandoned after listTimeoutMs, named, and listed again', async () => {
    await createService(k8s, 'stalled', ready(['192.0.2.5']));
    const { registry, stop } = await proxiedRegistry(
      k8s,
      { maxBackoffMs: 300, listTimeoutMs: 2000 },
      undefined,
      (proxy) => proxy.stallLists(1),
    );
    try {
      await untilError(registry, /listTimeoutMs/, 'the stalled list to be named');
      await until(
        registry,
        () => addressOf(registry, 'stalled') === '192.0.2.5',
        'the sync after it',
        60_000,
      );
    } finally {
      await stop();
    }
  });

  it('L2: a watch that ends at once without an event is opened again after a backoff; stale, named, and it recovers', async () => {
    await createService(k8s, 'flapping', ready(['192.0.2.7']));
    const { proxy, registry, stop } = await proxiedRegistry(k8s, { maxBackoffMs: 400 });
    const history = statusHistory(registry);
    const watches = () =>
      proxy.requests.filter(
        (r) => r.url.pathname === '/api/v1/services' && r.url.searchParams.get('watch') === 'true',
      );
    try {
      await until(registry, () => addressOf(registry, 'flapping') === '192.0.2.7', 'the first sync', 60_000);
      const before = watches().length;
      proxy.endWatches(1_000_000);
      await until(
        registry,
        () =>
          /services watch: .* 5 in a row; watching again in \d+ ms/.test(
            registry.status().lastError?.message ?? '',
          ),
        'the fifth early end of the services watch in a row, named',
        60_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${history.text()}`);
      });
      assert.match(registry.status().lastError?.message ?? '', /under 1000 ms \(minWatchMs\)/);
      assert.equal(registry.status().stale, true);
      // each watch after one that ended early waited a backoff (at least half of its first step, 100 ms); a busy
      // machine only makes the gaps longer. Every watch asked since endWatches ended at once (the first of the five
      // may have been asked before it).
      const ended = watches().slice(before);
      assert.ok(ended.length >= 4, `${ended.length} watches of services\n${history.text()}`);
      for (let i = 1; i < ended.length; i++) {
        const gap = (ended[i]?.at ?? 0) - (ended[i - 1]?.at ?? 0);
        assert.ok(gap >= 90, `watch ${i} came ${gap.toFixed(1)} ms after the one before`);
      }
      proxy.endWatches(0);
      await setSliceEndpoints(k8s.discovery, 'flapping-1', ready(['192.0.2.8']));
      await until(
        registry,
        () =>
          addressOf(registry, 'flapping') === '192.0.2.8' &&
          !registry.status().stale &&
          registry.status().lastError === undefined,
        'the registry to follow again, not stale',
        60_000,
      );
    } finally {
      history.stop();
      await stop();
    }
  });
});
