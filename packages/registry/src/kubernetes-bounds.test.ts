// The Kubernetes adapter's bounds against a real kube-apiserver (rule L2): a burst of watch events is one update per
// minRegistryUpdateMs, not one each (a rolling restart used to regenerate everything per event); and each kind holds
// at most maxRegistryObjects objects: one Pod more is a registry error naming the limit, the previous services stay,
// and the registry lists again and recovers once the cluster is back under it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createService, ready, setSliceEndpoints, useKubeApiserver } from './kube-test-support.js';
import { KubernetesRegistry } from './kubernetes.js';
import { assertBurstCoalesced, until, untilError } from './test-support.js';

describe('KubernetesRegistry bounds (real kube-apiserver)', () => {
  const k8s = useKubeApiserver();

  it('L2: a burst of 30 EndpointSlice changes costs one update per minRegistryUpdateMs, not one each', async () => {
    const intervalMs = 1000;
    for (let i = 0; i < 30; i++) await createService(k8s, `burst-${i}`, ready(['192.0.2.1']));
    const registry = new KubernetesRegistry(k8s.kube.kubeconfig, {
      limits: { minRegistryUpdateMs: intervalMs },
    });
    registry.start();
    const moved = (address: string) =>
      registry.services().filter((s) => s.name.startsWith('burst-') && s.instances[0]?.address === address)
        .length;
    try {
      await until(registry, () => moved('192.0.2.1') === 30, 'the 30 services', 60_000);
      await assertBurstCoalesced(
        registry,
        intervalMs,
        () =>
          Promise.all(
            Array.from({ length: 30 }, (_, i) =>
              setSliceEndpoints(k8s.discovery, `burst-${i}-1`, ready(['192.0.2.2'])),
            ),
          ),
        () => moved('192.0.2.2') === 30,
        '30 watch events (the 30 services moved)',
      );
    } finally {
      await registry.stop();
    }
  });

  it('L2: one Pod past maxRegistryObjects is a registry error naming the limit; the services stay; it recovers', async () => {
    await createService(k8s, 'held', ready(['192.0.2.9']));
    const pod = (name: string) =>
      k8s.core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name, labels: { app: 'held' } },
          spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
        },
      });
    for (const name of ['pod-1', 'pod-2']) await pod(name);
    // every kind is under 40 objects here (the 30 services of the test before, this one, `kubernetes`)
    const registry = new KubernetesRegistry(k8s.kube.kubeconfig, {
      maxBackoffMs: 300,
      limits: { maxRegistryObjects: 40 },
    });
    registry.start();
    try {
      await until(
        registry,
        () => registry.services().some((s) => s.name === 'held'),
        'the held service',
        60_000,
      );
      const held = JSON.stringify(registry.services());
      const pods = (await k8s.core.listPodForAllNamespaces({})).items.length;
      for (let i = pods; i <= 40; i++) await pod(`extra-${i}`);
      await untilError(
        registry,
        /maxRegistryObjects/,
        'the limit error',
        /pods.*over the limit of 40 \(maxRegistryObjects\)/,
      );
      assert.equal(registry.status().lastError?.kind, 'limit');
      assert.equal(JSON.stringify(registry.services()), held, 'the previous services stay');
      assert.equal(registry.status().stale, true);

      await k8s.core.deleteNamespacedPod({ name: 'extra-40', namespace: 'default' });
      await until(
        registry,
        () => !registry.status().stale && registry.status().lastError === undefined,
        'the registry to list again under the limit',
        60_000,
      );
      assert.equal(JSON.stringify(registry.services()), held);
    } finally {
      await registry.stop();
    }
  });
});
