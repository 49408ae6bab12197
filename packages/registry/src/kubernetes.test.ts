// The Kubernetes adapter against a real kube-apiserver (on its own etcd, 127.0.0.1 free ports): a Service, two
// Pods and an EndpointSlice become a service whose endpoints carry the Pods' labels, the slice's zone and
// readiness. kube-apiserver rejects loopback endpoint addresses, so the endpoints are 192.0.2.x (data only) and
// the test asserts on EDS content. A restart of kube-apiserver removes nothing and pushes nothing unchanged; a
// watch version that etcd compacted while the registry was cut off is answered 410 Gone, and the registry lists
// again (a change made meanwhile through a second apiserver on the same etcd arrives).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Etcd3 } from 'etcd3';
import {
  bigService,
  createService,
  cutOff,
  kubeClients,
  ready,
  type SliceEndpoint,
  setSliceEndpoints,
  useKubeApiserver,
} from './kube-test-support.js';
import { KubernetesRegistry } from './kubernetes.js';
import { endpointLines, serveRegistry, statusHistory, until } from './test-support.js';
import type { RegistryProblem } from './types.js';

const host = 'web.default.svc.cluster.local';

/** The lowered maxRegistryResponseBytes of the limit tests: above every list but one with a {@link bigService}. */
const limit = 100_000;

/** The endpoints of Service web: Pods web-1 (ready, zone-a) and web-2 (`ready2`, zone-b). */
function webEndpoints(ready2: boolean): SliceEndpoint[] {
  return [
    { address: '192.0.2.10', zone: 'zone-a', pod: 'web-1' },
    { address: '192.0.2.11', ready: ready2, zone: 'zone-b', pod: 'web-2' },
  ];
}

describe('KubernetesRegistry (real kube-apiserver)', () => {
  const k8s = useKubeApiserver();

  it('a Service, its Pods and an EndpointSlice reach CDS and EDS with subsets by Pod labels', async () => {
    for (const [name, version] of [
      ['web-1', 'v1'],
      ['web-2', 'v2'],
    ] as const) {
      await k8s.core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name, labels: { app: 'web', version } },
          spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
        },
      });
    }
    await createService(k8s, 'web', webEndpoints(true), {
      selector: { app: 'web' },
      sliceName: 'web-abc',
    });
    const registry = new KubernetesRegistry(k8s.kube.kubeconfig);
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
    const xds = await serveRegistry(registry, file);
    const { aggregate } = xds;
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
      await setSliceEndpoints(k8s.discovery, 'web-abc', webEndpoints(false));
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) => endpointLines(state.resources, v2).join() === '192.0.2.11:9080 UNHEALTHY /zone-b',
      );
      await k8s.core.deleteNamespacedService({ name: 'web', namespace: 'default' });
      await until(
        aggregate,
        () => !aggregate.services().some((s) => s.hostname === host),
        'the service to go',
      );
    } finally {
      await xds.close();
    }
  });

  it('a restart of kube-apiserver removes nothing and pushes nothing unchanged; it resyncs and follows again', async () => {
    await createService(k8s, 'api', ready(['192.0.2.20']));
    const registry = new KubernetesRegistry(k8s.kube.kubeconfig, { maxBackoffMs: 300 });
    const xds = await serveRegistry(registry);
    const { aggregate } = xds;
    const cluster = 'outbound|8080||api.default.svc.cluster.local';
    try {
      await until(
        aggregate,
        () => aggregate.services().some((s) => s.name === 'api' && s.instances.length === 1),
        'the api service',
        60_000,
      );
      const sidecar = xds.client([cluster]);
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) => endpointLines(state.resources, cluster).join() === '192.0.2.20:9080 HEALTHY /',
      );
      const held = JSON.stringify(registry.services());
      const pushes = xds.pushes();
      const responses =
        sidecar.responses(TypeUrl.Endpoint).length + sidecar.responses(TypeUrl.Cluster).length;

      await cutOff(k8s.kube, registry);
      assert.equal(JSON.stringify(registry.services()), held, 'a stale registry keeps its services');
      assert.match(registry.status().lastError?.message ?? '', /kubernetes/);

      await k8s.kube.startApiserver();
      await until(registry, () => !registry.status().stale, 'the registry to resync', 60_000);
      assert.equal(JSON.stringify(registry.services()), held);
      assert.equal(xds.pushes(), pushes, 'an unchanged resync publishes nothing');
      assert.equal(
        sidecar.responses(TypeUrl.Endpoint).length + sidecar.responses(TypeUrl.Cluster).length,
        responses,
        'and the client is sent nothing',
      );

      // the watches work after the restart
      await setSliceEndpoints(k8s.discovery, 'api-1', ready(['192.0.2.20', '192.0.2.21']));
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) =>
          endpointLines(state.resources, cluster).join() ===
          '192.0.2.20:9080 HEALTHY /,192.0.2.21:9080 HEALTHY /',
      );
    } finally {
      await xds.close();
    }
  });

  it('a watch version etcd compacted while the registry was cut off: 410 Gone, it lists again', async () => {
    await createService(k8s, 'db', ready(['192.0.2.30']));
    const registry = new KubernetesRegistry(k8s.kube.kubeconfig, { maxBackoffMs: 300 });
    const xds = await serveRegistry(registry);
    const { aggregate } = xds;
    const addresses = () =>
      aggregate
        .services()
        .find((s) => s.name === 'db')
        ?.instances.map((i) => i.address)
        .join();
    const other = await k8s.kube.addApiserver();
    const etcd = new Etcd3({ hosts: k8s.kube.etcdUrl });
    try {
      await until(aggregate, () => addresses() === '192.0.2.30', 'the db service', 60_000);
      const pushes = xds.pushes();
      await cutOff(k8s.kube, registry);

      // meanwhile the cluster changes through the other apiserver, and etcd compacts the history the registry's
      // watches would resume from
      await setSliceEndpoints(kubeClients(other.kubeconfig).discovery, 'db-1', ready(['192.0.2.31']));
      const { header } = await etcd.get('/registry/compaction-probe').exec();
      await (etcd as unknown as { kv: { compact(r: object): Promise<unknown> } }).kv.compact({
        revision: header.revision,
        physical: true,
      });
      assert.equal(addresses(), '192.0.2.30', 'nothing changes while the registry is cut off');

      await k8s.kube.startApiserver();
      await until(
        registry,
        () => addresses() === '192.0.2.31' && !registry.status().stale,
        'the registry to list again',
        60_000,
      );
      assert.equal(xds.pushes(), pushes + 1, 'one push: the new content');
    } finally {
      etcd.close();
      await xds.close();
    }
  });

  it('L2: a list body past maxRegistryResponseBytes is a registry error naming the limit; nothing is served', async () => {
    await k8s.core.createNamespacedService({ namespace: 'default', body: bigService('huge-list') });
    const registry = new KubernetesRegistry(k8s.kube.kubeconfig, {
      maxBackoffMs: 300,
      limits: { maxRegistryResponseBytes: limit },
    });
    try {
      registry.start();
      await until(
        registry,
        () => /maxRegistryResponseBytes/.test(registry.status().lastError?.message ?? ''),
        'the limit error',
        60_000,
      );
      const error = registry.status().lastError;
      assert.match(
        error?.message ?? '',
        new RegExp(
          `GET /api/v1/services: a page of 1 object is .* bytes, over the limit of ${limit} \\(maxRegistryResponseBytes\\)`,
        ),
      );
      assert.equal(error?.kind, 'limit');
      assert.equal(registry.status().synced, false, 'a registry whose list does not fit stays pending');
      assert.deepEqual(registry.services(), []);
    } finally {
      await registry.stop();
      await k8s.core.deleteNamespacedService({ name: 'huge-list', namespace: 'default' });
    }
  });

  it('L2: a watch event past maxRegistryResponseBytes is a registry error; the previous services stay, and it recovers', async () => {
    await createService(k8s, 'small', ready(['192.0.2.40']));
    const registry = new KubernetesRegistry(k8s.kube.kubeconfig, {
      maxBackoffMs: 300,
      limits: { maxRegistryResponseBytes: limit },
    });
    const names = () =>
      registry
        .services()
        .map((s) => s.name)
        .sort()
        .join();
    const history = statusHistory(registry);
    try {
      registry.start();
      await until(registry, () => names().split(',').includes('small'), 'the small service', 60_000);
      const held = JSON.stringify(registry.services());
      // the first limit error, caught as it is reported: the registry lists again after its backoff (300 ms), and
      // that list is over the limit too, so by the time the create call below returns on a loaded machine the
      // registry's latest error can be the list's
      let first: RegistryProblem | undefined;
      const limited = until(
        registry,
        () => {
          const error = registry.status().lastError;
          if (first === undefined && /maxRegistryResponseBytes/.test(error?.message ?? '')) first = error;
          return first !== undefined;
        },
        'the limit error',
        60_000,
      );
      // one event of 150 KB: the lists stay under the limit until it comes
      await k8s.core.createNamespacedService({ namespace: 'default', body: bigService('huge-event') });
      await limited.catch((error: Error) => {
        throw new Error(`${error.message}\n${history.text()}`);
      });
      assert.match(
        first?.message ?? '',
        new RegExp(
          `services watch: GET /api/v1/services\\?watch: a watch event of more than ${limit} bytes, over the limit of ${limit} \\(maxRegistryResponseBytes\\)`,
        ),
        history.text(),
      );
      assert.equal(first?.kind, 'limit');
      assert.equal(
        JSON.stringify(registry.services()),
        held,
        `the previous services stay\n${history.text()}`,
      );
      // once the object is gone, the registry lists again and follows
      await k8s.core.deleteNamespacedService({ name: 'huge-event', namespace: 'default' });
      await createService(k8s, 'later', ready(['192.0.2.41']));
      await until(
        registry,
        () => names().split(',').includes('later') && registry.status().lastError === undefined,
        'the registry to recover',
        60_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${history.text()}`);
      });
      assert.ok(!names().split(',').includes('huge-event'));
    } finally {
      history.stop();
      await registry.stop();
      await k8s.core
        .deleteNamespacedService({ name: 'huge-event', namespace: 'default' })
        .catch(() => undefined);
    }
  });
});
