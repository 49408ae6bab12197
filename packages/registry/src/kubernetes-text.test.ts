// Rule L2 for the text a Kubernetes apiserver sends (review Q3, Q9, R4, R12), against a real kube-apiserver: a real
// one validates what it stores, so a loopback proxy in front of it rewrites its list answers as a hostile or broken
// one would send them. A Service whose name is 100,000 characters used to be kept whole and named whole in its item
// error (100 KB in the status); a Pod whose labels are the string "app" used to give its endpoints the labels
// {"0":"a","1":"p","2":"p"}. Now the Service is kept only as its reason, named by a bounded key, and the Pod's
// endpoints are left out naming the field; the rest is served.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createService, proxiedRegistry, useKubeApiserver } from './kube-test-support.js';
import { until } from './test-support.js';

const long = 'x'.repeat(100_000);

/** The list answer `body` with `change` applied to its items. */
function rewriteItems(body: Buffer, change: (items: Record<string, unknown>[]) => void): Buffer {
  const list = JSON.parse(body.toString('utf8')) as { items: Record<string, unknown>[] };
  change(list.items);
  return Buffer.from(JSON.stringify(list));
}

describe('KubernetesRegistry text bounds (real kube-apiserver behind a rewriting proxy)', () => {
  const k8s = useKubeApiserver();

  it('L2: a Service named past 253 characters is named cut in itemErrors; R12: labels given as a string leave its Pod out', async () => {
    for (const name of ['plain-pod', 'stringy-pod']) {
      await k8s.core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name, labels: { app: 'plain' } },
          spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
        },
      });
    }
    await createService(k8s, 'plain', [
      { address: '192.0.2.1', pod: 'plain-pod' },
      { address: '192.0.2.2', pod: 'stringy-pod' },
    ]);
    const rewrite = (path: string, body: Buffer): Buffer => {
      if (path.startsWith('/api/v1/services?'))
        return rewriteItems(body, (items) =>
          items.push({
            metadata: { name: long, namespace: 'default' },
            spec: { ports: [{ name: 'http', port: 80 }] },
          }),
        );
      if (path.startsWith('/api/v1/pods?'))
        return rewriteItems(body, (items) => {
          for (const pod of items) {
            const meta = pod['metadata'] as { name?: string; labels?: unknown };
            if (meta.name === 'stringy-pod') meta.labels = 'app';
          }
        });
      return body;
    };
    const { registry, stop } = await proxiedRegistry(k8s, { maxBackoffMs: 300 }, rewrite);
    try {
      await until(
        registry,
        () => registry.services().some((s) => s.name === 'plain') && registry.status().itemErrors.length >= 2,
        'the plain service and the two problems',
        60_000,
      );
      const plain = registry.services().find((s) => s.name === 'plain');
      assert.deepEqual(
        plain?.instances.map((i) => [i.address, i.labels]),
        [['192.0.2.1', { app: 'plain' }]],
        'the endpoint of the Pod with string labels is left out, not served with a label per character',
      );
      assert.ok(
        registry.services().every((s) => s.name.length <= 253),
        'no service of the long name',
      );
      const status = registry.status();
      const text = status.itemErrors.map((e) => `${e.item}: ${e.message}`);
      const service = text.find((t) => t.includes('metadata.name'));
      assert.match(
        service ?? text.join('\n'),
        /^default\/x{64}… \(100008 characters, sha256 [0-9a-f]{16}\): Service default\/x{64}… \(100008 characters, sha256 [0-9a-f]{16}\) left out: metadata\.name is 100000 characters, over the limit of 253 \(a DNS subdomain\)$/,
      );
      assert.ok(
        text.some((t) =>
          t.endsWith(
            'the endpoints of Pod default/stringy-pod left out: its metadata.labels is "app", not a map of strings',
          ),
        ),
        text.join('\n'),
      );
      const size = JSON.stringify(status).length;
      assert.ok(size < 4_000, `the status is ${size} characters`);
    } finally {
      await stop();
    }
  });
});
