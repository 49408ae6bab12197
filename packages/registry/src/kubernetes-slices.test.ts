// Rule L2 for what one EndpointSlice may hold: a real kube-apiserver validates slices (at most 1,000 endpoints of
// at most 100 addresses), so a loopback proxy in front of it rewrites one slice of the list answer past those limits,
// as a hostile or compromised apiserver (or anything on its path) could. Before: every endpoint and address was kept
// and a service was built whole before `maxInstancesPerService` refused it, every update (probe4 F3: 2,000 × 100 per
// slice, one slice every 200 ms, took xds-server from 147 to 1,533 MiB in 30 s).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSilentProxy } from './kube-proxy.js';
import { createService, ready, useKubeApiserver } from './kube-test-support.js';
import { KubernetesRegistry } from './kubernetes.js';
import { until } from './test-support.js';

interface SliceList {
  items: { metadata?: { labels?: Record<string, string> }; endpoints?: { addresses: string[] }[] }[];
}

/** Widens the slices of service `wide`: one endpoint of 150 addresses, then 1,199 endpoints of one. */
function widen(path: string, body: Buffer): Buffer {
  if (!path.startsWith('/apis/discovery.k8s.io/v1/endpointslices')) return body;
  const list = JSON.parse(body.toString('utf8')) as SliceList;
  for (const slice of list.items) {
    if (slice.metadata?.labels?.['kubernetes.io/service-name'] !== 'wide') continue;
    const address = (i: number) => `10.1.${i >> 8}.${i & 255}`;
    slice.endpoints = [
      { addresses: Array.from({ length: 150 }, (_, i) => address(i)) },
      ...Array.from({ length: 1199 }, (_, i) => ({ addresses: [address(1000 + i)] })),
    ];
  }
  return Buffer.from(JSON.stringify(list));
}

describe('KubernetesRegistry slice bounds (real kube-apiserver behind a rewriting proxy)', () => {
  const k8s = useKubeApiserver();

  it("L2: a slice past Kubernetes' own limits keeps 1,000 endpoints of 100 addresses; the rest is an item error", async () => {
    await createService(k8s, 'wide', ready(['192.0.2.1']));
    const proxy = await startSilentProxy(k8s.kube.url, k8s.kube.kubeconfig, widen);
    const registry = new KubernetesRegistry(proxy.kubeconfig, { maxBackoffMs: 300 });
    registry.start();
    try {
      await until(registry, () => registry.status().synced, 'the first sync', 60_000);
      const wide = registry.services().find((s) => s.name === 'wide');
      // 100 addresses of the first endpoint, one of each of the next 999
      assert.equal(wide?.instances.length, 1099);
      const status = registry.status();
      assert.match(
        status.itemErrors.map((p) => p.message).join('\n'),
        /250 endpoints or addresses of EndpointSlice default\/wide-1 left out/,
      );
    } finally {
      await registry.stop();
      await proxy.close();
    }
  });

  it('L2: a service is built only to one instance past maxInstancesPerService, then refused naming it', async () => {
    const proxy = await startSilentProxy(k8s.kube.url, k8s.kube.kubeconfig, widen);
    const registry = new KubernetesRegistry(proxy.kubeconfig, {
      maxBackoffMs: 300,
      limits: { maxInstancesPerService: 50 },
    });
    registry.start();
    try {
      await until(
        registry,
        () => registry.status().lastError?.kind === 'limit',
        'the refusal naming the limit',
        60_000,
      );
      assert.match(
        registry.status().lastError?.message ?? '',
        /"wide\.default\.svc\.cluster\.local" has 51 instances, over the limit of 50 \(maxInstancesPerService\)/,
      );
    } finally {
      await registry.stop();
      await proxy.close();
    }
  });
});
