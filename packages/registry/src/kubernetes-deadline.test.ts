// The Kubernetes adapter's client-side time bounds (rules L2 and L4): a watch or a list on a connection that went
// silent (a NAT or load balancer that dropped the flow, a partition without RST, an apiserver host that died) is
// abandoned, the registry says stale meanwhile, and it watches again. A real kube-apiserver always answers, so a
// plain-HTTP loopback proxy in front of it (the kubeconfig's token passed through) holds the first watch of each
// kind open with nothing after its headers, and can hold a list mid-body. Before: such a watch was never abandoned
// and the registry reported itself synced and not stale forever (probe4 F5).
import { describe, it } from 'node:test';
import { startSilentProxy } from './kube-proxy.js';
import { createService, ready, setSliceEndpoints, useKubeApiserver } from './kube-test-support.js';
import { KubernetesRegistry } from './kubernetes.js';
import { until } from './test-support.js';

function addressOf(registry: KubernetesRegistry, name: string): string | undefined {
  return registry.services().find((s) => s.name === name)?.instances[0]?.address;
}

describe('KubernetesRegistry time bounds (real kube-apiserver behind a silent proxy)', () => {
  const k8s = useKubeApiserver();

  it('L2: a watch silent after its headers is abandoned after watchIdleMs (stale meanwhile) and resumed', async () => {
    await createService(k8s, 'quiet', ready(['192.0.2.1']));
    const proxy = await startSilentProxy(k8s.kube.url, k8s.kube.kubeconfig);
    proxy.silenceWatches(3);
    const registry = new KubernetesRegistry(proxy.kubeconfig, { maxBackoffMs: 300, watchIdleMs: 2000 });
    registry.start();
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
      await registry.stop();
      await proxy.close();
    }
  });

  it('L2: a list that stops mid-body is abandoned after listTimeoutMs, named, and listed again', async () => {
    await createService(k8s, 'stalled', ready(['192.0.2.5']));
    const proxy = await startSilentProxy(k8s.kube.url, k8s.kube.kubeconfig);
    proxy.stallLists(1);
    const registry = new KubernetesRegistry(proxy.kubeconfig, { maxBackoffMs: 300, listTimeoutMs: 2000 });
    registry.start();
    try {
      await until(
        registry,
        () => /listTimeoutMs/.test(registry.status().lastError?.message ?? ''),
        'the stalled list to be named',
        60_000,
      );
      await until(
        registry,
        () => addressOf(registry, 'stalled') === '192.0.2.5',
        'the sync after it',
        60_000,
      );
    } finally {
      await registry.stop();
      await proxy.close();
    }
  });
});
