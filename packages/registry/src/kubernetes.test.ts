// The Kubernetes adapter against a real kube-apiserver (on its own etcd, 127.0.0.1 free ports): a Service, two
// Pods and an EndpointSlice become a service whose endpoints carry the Pods' labels, the slice's zone and
// readiness. kube-apiserver rejects loopback endpoint addresses, so the endpoints are 192.0.2.x (data only) and
// the test asserts on EDS content.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, DiscoveryV1Api, KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { TypeUrl } from '@xds/api';
import { type RunningServer, startKubeApiserver } from '../../../scripts/registries/servers.mjs';
import { AggregateRegistry } from './aggregate.js';
import { KubernetesRegistry } from './kubernetes.js';
import { endpointLines, serveAggregate, until } from './test-support.js';

const host = 'web.default.svc.cluster.local';

function slice(ready2: boolean): V1EndpointSlice {
  return {
    metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http-web', port: 9080, protocol: 'TCP' }],
    endpoints: [
      {
        addresses: ['192.0.2.10'],
        conditions: { ready: true },
        zone: 'zone-a',
        targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1' },
      },
      {
        addresses: ['192.0.2.11'],
        conditions: { ready: ready2 },
        zone: 'zone-b',
        targetRef: { kind: 'Pod', namespace: 'default', name: 'web-2' },
      },
    ],
  };
}

describe('KubernetesRegistry (real kube-apiserver)', () => {
  let kube: RunningServer;
  let core: CoreV1Api;
  let discovery: DiscoveryV1Api;

  before(async () => {
    kube = await startKubeApiserver();
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfig!);
    core = config.makeApiClient(CoreV1Api);
    discovery = config.makeApiClient(DiscoveryV1Api);
  });

  after(async () => {
    await kube.stop();
  });

  it('a Service, its Pods and an EndpointSlice reach CDS and EDS with subsets by Pod labels', async () => {
    for (const [name, version] of [
      ['web-1', 'v1'],
      ['web-2', 'v2'],
    ] as const) {
      await core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name, labels: { app: 'web', version } },
          spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
        },
      });
    }
    await core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: { ports: [{ name: 'http-web', port: 8080, targetPort: 9080 }], selector: { app: 'web' } },
      },
    });
    await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: slice(true) });

    const registry = new KubernetesRegistry(kube.kubeconfig!);
    const aggregate = new AggregateRegistry([registry]);
    aggregate.start();
    const file = {
      domain: 'cluster.local',
      services: [
        {
          name: 'web',
          namespace: 'default',
          addresses: [],
          ports: [{ name: 'http-web', port: 8080, protocol: 'HTTP' as const }],
          endpoints: [],
          subsets: [
            { name: 'v1', labels: { version: 'v1' } },
            { name: 'v2', labels: { version: 'v2' } },
          ],
          routes: [],
        },
      ],
    };
    const xds = await serveAggregate(aggregate, file);
    try {
      await until(
        aggregate,
        () => aggregate.services().find((s) => s.hostname === host)?.instances.length === 2,
        'the service with two endpoints',
        60_000,
      );
      const web = aggregate.services().find((s) => s.hostname === host);
      assert.deepEqual(web?.ports, [{ name: 'http-web', port: 8080, protocol: 'HTTP' }]);
      assert.deepEqual(web?.instances[0]?.labels, { app: 'web', version: 'v1' });
      const v1 = `outbound|8080|v1|${host}`;
      const v2 = `outbound|8080|v2|${host}`;
      const sidecar = xds.client([v1, v2]);
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) =>
          endpointLines(state.resources, v1).join() === '192.0.2.10:9080 HEALTHY /zone-a' &&
          endpointLines(state.resources, v2).join() === '192.0.2.11:9080 HEALTHY /zone-b',
      );
      // readiness from the slice: not ready → UNHEALTHY
      const current = await discovery.readNamespacedEndpointSlice({ name: 'web-abc', namespace: 'default' });
      await discovery.replaceNamespacedEndpointSlice({
        name: 'web-abc',
        namespace: 'default',
        body: { ...current, endpoints: slice(false).endpoints },
      });
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) => endpointLines(state.resources, v2).join() === '192.0.2.11:9080 UNHEALTHY /zone-b',
      );
      await core.deleteNamespacedService({ name: 'web', namespace: 'default' });
      await until(
        aggregate,
        () => !aggregate.services().some((s) => s.hostname === host),
        'the service to go',
      );
    } finally {
      await xds.close();
      await aggregate.stop();
    }
  });
});
