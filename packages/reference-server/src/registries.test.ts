// --registry: parsing, /readyz naming the registries pending (nothing published before they sync), configz and
// metrics per registry, and replicas over one etcd and over one kube-apiserver: equal versions (S14), a SotW client
// that moves to the other replica with its version is not answered again (S13), and a delta client that moves with
// initial_resource_versions is sent none of what it holds (D6 across replicas).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { TypeUrl } from '@xds/api';
import type { RegistrySpec } from '@xds/registry';
import { type DeltaReceivedResponse, XdsTestClient } from '@xds/testing';
import { Etcd3 } from 'etcd3';
import { holdPort } from '../../../scripts/registries/held-port.mjs';
import { type RunningKube, startKubeApiserver } from '../../../scripts/registries/kube-apiserver.mjs';
import { type RunningEtcd, startEtcd } from '../../../scripts/registries/servers.mjs';
import { parseCommandLine } from './cli.js';
import { createLogger } from './logger.js';
import { type ReferenceServer, startReferenceServer } from './reference-server.js';
import { get, getJson, memoryLog, poll } from './test-support.js';

function start(registries: RegistrySpec[]): Promise<ReferenceServer> {
  return startReferenceServer({
    xds: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    logger: createLogger('debug', memoryLog().stream),
    debounceMs: 20,
    closeGraceMs: 500,
    registries,
  });
}

function doc(name: string, address: string): string {
  return JSON.stringify({
    name,
    ports: [{ name: 'http', port: 8080 }],
    endpoints: [{ address, port: 9000 }],
  });
}

const web = 'outbound|8080||web.default.svc.cluster.local';

/** Two replicas of xds-server over the same registry. */
function startReplicas(spec: RegistrySpec): Promise<[ReferenceServer, ReferenceServer]> {
  return Promise.all([start([spec]), start([spec])]);
}

/** Waits until both replicas serve the web service's cluster. */
async function bothServeWeb(one: ReferenceServer, two: ReferenceServer, what: string, timeoutMs: number) {
  for (const server of [one, two]) {
    await poll(
      what,
      () => (server.cache.getSnapshot('envoy')?.resources(TypeUrl.Cluster).has(web) ? true : undefined),
      timeoutMs,
    );
  }
}

/** S14: the replicas' snapshots have the same version for every flavour and type. */
function assertEqualVersions(one: ReferenceServer, two: ReferenceServer): void {
  for (const key of ['envoy', 'grpc']) {
    for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route]) {
      assert.equal(
        one.cache.getSnapshot(key)?.version(typeUrl),
        two.cache.getSnapshot(key)?.version(typeUrl),
        `${key} ${typeUrl}`,
      );
    }
  }
}

describe('xds-server --registry', () => {
  it('parses KIND=LOCATION in order; a malformed one is a one-line usage error', () => {
    const ok = parseCommandLine([
      '--registry',
      'etcd=http://127.0.0.1:2379/xds',
      '--registry',
      'consul=http://127.0.0.1:8500',
      '--registry',
      'eureka=http://127.0.0.1:8761/eureka?interval=1s',
      '--registry',
      'kubernetes=/tmp/kubeconfig',
    ]);
    assert.equal(ok.kind, 'run');
    assert.deepEqual(ok.kind === 'run' ? ok.options.registries.map((r) => r.kind) : [], [
      'etcd',
      'consul',
      'eureka',
      'kubernetes',
    ]);
    for (const [arg, message] of [
      ['zookeeper=http://h:1', /kind "zookeeper" is not one of kubernetes, consul, eureka, etcd/],
      ['etcd', /must be KIND=LOCATION/],
      ['etcd=http://127.0.0.1/xds', /needs a port/],
      ['eureka=http://h:1/eureka?interval=soon', /interval "soon"/],
    ] as const) {
      const parsed = parseCommandLine(['--registry', arg]);
      assert.equal(parsed.kind, 'usage-error', arg);
      assert.match(parsed.kind === 'usage-error' ? parsed.message : '', message);
      assert.equal((parsed.kind === 'usage-error' ? parsed.message : '').split('\n').length, 1);
    }
  });
});

describe('xds-server --registry-limit', () => {
  it('sets the registry limits; an unknown name or a bad value is refused in one line naming it', () => {
    const ok = parseCommandLine([
      '--registry-limit',
      'maxRegistryServices=20',
      '--registry-limit',
      'maxRegistryResponseBytes=4096',
    ]);
    assert.equal(ok.kind, 'run');
    assert.deepEqual(ok.kind === 'run' ? ok.options.registryLimits : undefined, {
      maxRegistryServices: 20,
      maxRegistryResponseBytes: 4096,
    });
    for (const [arg, message] of [
      ['maxServices=3', /"maxServices" is not a registry limit; they are maxRegistryServices, /],
      [
        'maxInstancesPerService=0',
        /maxInstancesPerService must be a whole number from 1 to 2147483647 \(default 10000\)/,
      ],
      ['maxEndpointsPerCluster', /expected NAME=VALUE/],
    ] as const) {
      const parsed = parseCommandLine(['--registry-limit', arg]);
      assert.equal(parsed.kind, 'refused', arg);
      assert.match(parsed.kind === 'refused' ? parsed.message : '', message);
    }
  });
});

describe('xds-server over a real etcd', () => {
  let etcd: RunningEtcd;
  let client: Etcd3;

  before(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.url });
    await client.put('/r/services/default/web').value(doc('web', '192.0.2.1'));
  });

  after(async () => {
    client.close();
    await etcd.stop();
  });

  it('serves nothing and is not ready until the registry has synced; /readyz names it', async () => {
    // the registry's address is a port this test holds, with nothing behind it until etcd starts: a free port picked
    // now and bound by etcd later could be taken by another process meanwhile (CI: 'bind: address already in use')
    const front = await holdPort();
    const location = `${front.url}/r`;
    const server = await start([{ kind: 'etcd', location }]);
    let late: RunningEtcd | undefined;
    try {
      const readyz = await get(server.adminAddress, '/readyz');
      assert.equal(readyz.status, 503);
      assert.equal(readyz.body, `not ready: registries pending: etcd ${location}\n`);
      assert.equal(server.cache.getSnapshot('envoy'), undefined, 'nothing is published before the sync');
      late = await startEtcd();
      front.forwardTo(late.clientPort);
      await poll(
        'ready',
        async () => ((await get(server.adminAddress, '/readyz')).status === 200 ? true : undefined),
        30_000,
      );
      assert.ok(
        server.cache.getSnapshot('envoy') !== undefined,
        "server.cache.getSnapshot('envoy') !== undefined",
      );
      const configz = await getJson<{ registries: { registries: { synced: boolean; location: string }[] } }>(
        server.adminAddress,
        '/debug/configz',
      );
      assert.deepEqual(
        configz.registries.registries.map((r) => [r.location, r.synced]),
        [[location, true]],
      );
      const metrics = (await get(server.adminAddress, '/metrics')).body;
      assert.match(metrics, new RegExp(`xds_registry_synced\\{kind="etcd",location="${location}"\\} 1`));
    } finally {
      await server.close();
      await front.close();
      await late?.stop();
    }
  });

  it('D6: two replicas give equal versions; a delta client moving replicas is sent none of what it holds', async () => {
    const location = `${etcd.url}/r`;
    const [one, two] = await startReplicas({ kind: 'etcd', location });
    const clients: XdsTestClient[] = [];
    try {
      await bothServeWeb(one, two, 'the etcd service is served', 30_000);
      assertEqualVersions(one, two);
      const first = new XdsTestClient({
        address: one.xdsAddress,
        node: 'sidecar',
        protocol: 'delta',
        timeoutMs: 20_000,
      });
      clients.push(first);
      first.subscribe(TypeUrl.Cluster, []);
      const got = (await first.next(TypeUrl.Cluster)) as DeltaReceivedResponse;
      assert.ok(got.names.includes(web), 'got.names.includes(web)');
      const held = Object.fromEntries(got.resources.map((r) => [r.name, r.version]));
      await first.close();

      const second = new XdsTestClient({
        address: two.xdsAddress,
        node: 'sidecar',
        protocol: 'delta',
        timeoutMs: 20_000,
      });
      clients.push(second);
      second.send({
        node: { id: 'sidecar' },
        typeUrl: TypeUrl.Cluster,
        resourceNamesSubscribe: [],
        initialResourceVersions: held,
      });
      // a change gives the second replica something to send: only the new service's clusters come
      await client.put('/r/services/default/api').value(doc('api', '192.0.2.2'));
      await second.waitFor(TypeUrl.Cluster, (r) =>
        r.names.some((n) => n.endsWith('|api.default.svc.cluster.local')),
      );
      const sent = second.responses(TypeUrl.Cluster).flatMap((r) => r.names);
      assert.deepEqual(
        sent.filter((n) => held[n] !== undefined),
        [],
        'nothing the client holds is sent again',
      );
      assert.ok(
        sent.every((n) => n.endsWith('|api.default.svc.cluster.local')),
        sent.join(),
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all([one.close(), two.close()]);
      await client.delete().key('/r/services/default/api');
    }
  });
});

describe('xds-server replicas over a real kube-apiserver', () => {
  let kube: RunningKube;
  let core: CoreV1Api;
  let discovery: DiscoveryV1Api;

  /** A Service `name` with one EndpointSlice (kube-apiserver refuses loopback addresses: 192.0.2.x, data only). */
  async function service(name: string, address: string): Promise<void> {
    await core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name }, spec: { ports: [{ name: 'http', port: 8080, targetPort: 9000 }] } },
    });
    await discovery.createNamespacedEndpointSlice({
      namespace: 'default',
      body: {
        metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 9000, protocol: 'TCP' }],
        endpoints: [{ addresses: [address], conditions: { ready: true } }],
      },
    });
  }

  before(async () => {
    kube = await startKubeApiserver();
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfig);
    core = config.makeApiClient(CoreV1Api);
    discovery = config.makeApiClient(DiscoveryV1Api);
    await service('web', '192.0.2.1');
  });

  after(async () => {
    await kube?.stop();
  });

  it('S13, S14, D6: two replicas give equal versions; SotW and delta clients moving replicas get nothing they hold', async () => {
    const spec: RegistrySpec = { kind: 'kubernetes', location: kube.kubeconfig };
    const [one, two] = await startReplicas(spec);
    const clients: XdsTestClient[] = [];
    const client = (server: ReferenceServer, protocol: 'sotw' | 'delta') => {
      const made = new XdsTestClient({
        address: server.xdsAddress,
        node: 'sidecar',
        protocol,
        timeoutMs: 20_000,
      });
      clients.push(made);
      return made;
    };
    try {
      await bothServeWeb(one, two, 'the Kubernetes service is served', 60_000);
      assertEqualVersions(one, two);

      // SotW: a wildcard Cluster subscription that presents the version it got from the first replica
      const sotw = client(one, 'sotw');
      sotw.subscribe(TypeUrl.Cluster, []);
      const got = await sotw.next(TypeUrl.Cluster);
      assert.ok(got.names.includes(web), 'got.names.includes(web)');
      await sotw.close();
      const moved = client(two, 'sotw');
      moved.send({
        node: { id: 'sidecar' },
        typeUrl: TypeUrl.Cluster,
        resourceNames: [],
        versionInfo: got.versionInfo,
        responseNonce: got.nonce,
      });
      // an answered subscription on the same stream orders the check: the Cluster request came first
      moved.subscribe(TypeUrl.Endpoint, [web]);
      await moved.next(TypeUrl.Endpoint);
      assert.equal(moved.responses(TypeUrl.Cluster).length, 0, 'the same version: nothing is sent again');

      // delta: initial_resource_versions from the first replica
      const first = client(one, 'delta');
      first.subscribe(TypeUrl.Cluster, []);
      const delta = (await first.next(TypeUrl.Cluster)) as DeltaReceivedResponse;
      assert.ok(delta.names.includes(web), 'delta.names.includes(web)');
      const held = Object.fromEntries(delta.resources.map((r) => [r.name, r.version]));
      await first.close();
      const second = client(two, 'delta');
      second.send({
        node: { id: 'sidecar' },
        typeUrl: TypeUrl.Cluster,
        resourceNamesSubscribe: [],
        initialResourceVersions: held,
      });

      // a change gives both something to send: the SotW client the new version, the delta client only the new
      // service's clusters
      await service('api', '192.0.2.2');
      const api = (n: string) => n.endsWith('|api.default.svc.cluster.local');
      await second.waitFor(TypeUrl.Cluster, (r) => r.names.some(api));
      const sent = second.responses(TypeUrl.Cluster).flatMap((r) => r.names);
      assert.deepEqual(
        sent.filter((n) => held[n] !== undefined),
        [],
        'nothing the delta client holds is sent again',
      );
      assert.ok(sent.every(api), sent.join());
      const pushed = await moved.waitFor(TypeUrl.Cluster, (r) => r.names.some(api));
      assert.notEqual(pushed.versionInfo, got.versionInfo);
      assert.equal(moved.responses(TypeUrl.Cluster).length, 1, 'the SotW client got the change once');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all([one.close(), two.close()]);
    }
  });
});
