// A figure, not a test: the time from one change in a registry holding 1,000 services to every xDS client's
// receipt (and ACK) of the new ClusterLoadAssignment. Starts a real etcd (and, with `kubernetes`, a real
// kube-apiserver), an xDS server fed by the aggregate, and N XdsTestClients.
// Run: npx tsx bench/registry-change.ts [etcd|kubernetes] [clients=50] [services=1000]
import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';
import { Etcd3 } from 'etcd3';
import { startKubeApiserver } from '../../../scripts/registries/kube-apiserver.mjs';
import { startEtcd } from '../../../scripts/registries/servers.mjs';
import { AggregateRegistry } from '../src/aggregate.js';
import { EtcdRegistry } from '../src/etcd.js';
import { KubernetesRegistry } from '../src/kubernetes.js';
import { endpointLines, serveAggregate, until } from '../src/test-support.js';
import type { Registry } from '../src/types.js';

const [kind = 'etcd', clientsText = '50', servicesText = '1000'] = process.argv.slice(2);
const clientCount = Number(clientsText);
const serviceCount = Number(servicesText);
const name = (i: number) => `svc-${String(i).padStart(4, '0')}`;
const assignment = (i: number) => `outbound|8080||${name(i)}.default.svc.cluster.local`;

let registry: Registry;
let change: () => Promise<void>;
let stop: () => Promise<void>;
const t0 = Date.now();
if (kind === 'etcd') {
  const etcd = await startEtcd();
  const client = new Etcd3({ hosts: etcd.url });
  const doc = (i: number, address: string) =>
    JSON.stringify({
      name: name(i),
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ address, port: 9000 }],
    });
  for (let i = 0; i < serviceCount; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, serviceCount - i) }, (_, k) =>
        client.put(`/b/services/default/${name(i + k)}`).value(doc(i + k, '192.0.2.1')),
      ),
    );
  }
  registry = new EtcdRegistry(`${etcd.url}/b`);
  change = async () => {
    await client.put(`/b/services/default/${name(0)}`).value(doc(0, '192.0.2.2'));
  };
  stop = async () => {
    client.close();
    await etcd.stop();
  };
} else {
  const kube = await startKubeApiserver();
  const config = new KubeConfig();
  config.loadFromFile(kube.kubeconfig!);
  const core = config.makeApiClient(CoreV1Api);
  const discovery = config.makeApiClient(DiscoveryV1Api);
  const slice = (i: number, address: string) => ({
    metadata: {
      name: `${name(i)}-1`,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': name(i) },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 9000 }],
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
  });
  for (let i = 0; i < serviceCount; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, serviceCount - i) }, async (_, k) => {
        await core.createNamespacedService({
          namespace: 'default',
          body: {
            metadata: { name: name(i + k) },
            spec: { ports: [{ name: 'http', port: 8080, targetPort: 9000 }] },
          },
        });
        await discovery.createNamespacedEndpointSlice({
          namespace: 'default',
          body: slice(i + k, '192.0.2.1'),
        });
      }),
    );
  }
  registry = new KubernetesRegistry(kube.kubeconfig!);
  change = async () => {
    const current = await discovery.readNamespacedEndpointSlice({
      name: `${name(0)}-1`,
      namespace: 'default',
    });
    await discovery.replaceNamespacedEndpointSlice({
      name: `${name(0)}-1`,
      namespace: 'default',
      body: { ...current, endpoints: slice(0, '192.0.2.2').endpoints },
    });
  };
  stop = () => kube.stop();
}
const loaded = Date.now();
const aggregate = new AggregateRegistry([registry]);
aggregate.start();
const xds = await serveAggregate(aggregate);
await until(
  aggregate,
  () => aggregate.services().length >= serviceCount,
  `${serviceCount} services`,
  300_000,
);
const clients: XdsTestClient[] = [];
for (let i = 0; i < clientCount; i++) {
  const client = new XdsTestClient({ address: xds.address, node: `sidecar-${i}`, timeoutMs: 120_000 });
  client.subscribe(TypeUrl.Cluster, []);
  client.subscribe(
    TypeUrl.Endpoint,
    Array.from({ length: serviceCount }, (_, k) => assignment(k)),
  );
  clients.push(client);
}
await Promise.all(
  clients.map((c) =>
    c.waitFor(TypeUrl.Endpoint, (_r, s) =>
      endpointLines(s.resources, assignment(0)).join().startsWith('192.0.2.1'),
    ),
  ),
);
const changedAt = performance.now();
await change();
const received = await Promise.all(
  clients.map((c) =>
    c.waitFor(TypeUrl.Endpoint, (_r, s) =>
      endpointLines(s.resources, assignment(0)).join().startsWith('192.0.2.2'),
    ),
  ),
);
const latencies = received.map((r) => r.receivedAt - changedAt).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    registry: kind,
    services: serviceCount,
    clients: clientCount,
    loadMs: loaded - t0,
    changeToLastClientMs: Math.round(latencies.at(-1) ?? 0),
    medianMs: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
  }),
);
await Promise.all(clients.map((c) => c.close()));
await xds.close();
await aggregate.stop();
await stop();
process.exit(0);
