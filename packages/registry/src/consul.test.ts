// The Consul adapter against a real Consul agent (dev mode, 127.0.0.1 free ports): catalog + health blocking
// queries; meta and key=value tags become labels; a failing check marks the instance unhealthy; deregistration
// removes it; an agent that stops answering (SIGSTOP) and a restart of a one-node server on its data keep the
// services (stale while it is away) and push nothing unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { type RunningServer, startConsul } from '../../../scripts/registries/servers.mjs';
import { ConsulRegistry } from './consul.js';
import { serviceModelOf } from './service-model.js';
import { assertBurstCoalesced, endpointLines, serveRegistry, statusHistory, until } from './test-support.js';

const host = 'web.service.consul';

async function put(base: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${base}${path}`, {
    method: 'PUT',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.equal(response.status, 200, `PUT ${path}: ${await response.text()}`);
}

function register(base: string, id: string, port: number, version: string): Promise<void> {
  return put(base, '/v1/agent/service/register', {
    Name: 'web',
    ID: id,
    Address: '192.0.2.1',
    Port: port,
    Tags: [`version=${version}`, 'plain-tag'],
    Meta: { protocol: 'http', service_port: '8080', team: 'a' },
    Check: { CheckID: `check-${id}`, TTL: '300s', Status: 'passing' },
  });
}

describe('ConsulRegistry (real Consul)', () => {
  let consul: RunningServer;

  before(async () => {
    consul = await startConsul();
  });

  after(async () => {
    await consul.stop();
  });

  it('two instances in two subsets reach CDS and EDS; a failed check and a deregistration follow', async () => {
    await register(consul.url, 'web-1', 9001, 'v1');
    await register(consul.url, 'web-2', 9002, 'v2');
    const registry = new ConsulRegistry(consul.url, { waitSeconds: 10 });
    const xds = await serveRegistry(registry);
    const { aggregate } = xds;
    try {
      await until(
        aggregate,
        () => aggregate.services().some((s) => s.instances.length === 2),
        'two instances',
      );
      const [web] = aggregate.services().filter((s) => s.hostname === host);
      assert.deepEqual(web?.ports, [{ name: 'http-8080', port: 8080, protocol: 'HTTP' }]);
      assert.deepEqual(web?.instances[0]?.labels, {
        version: 'v1',
        protocol: 'http',
        service_port: '8080',
        team: 'a',
      });
      assert.equal(web?.instances[0]?.locality.region, 'dc1');
    } finally {
      await xds.close();
    }
    // subsets come from the model file (the config controller); the registry gives the endpoints
    const file = {
      domain: 'cluster.local',
      services: [
        {
          name: 'web',
          namespace: 'consul',
          addresses: [],
          ports: [{ name: 'http', port: 8080, protocol: 'HTTP' as const }],
          endpoints: [],
          subsets: [
            { name: 'v1', labels: { version: 'v1' } },
            { name: 'v2', labels: { version: 'v2' } },
          ],
          routes: [],
        },
      ],
    };
    const served = await serveRegistry(new ConsulRegistry(consul.url, { waitSeconds: 10 }), file);
    const { aggregate: second } = served;
    try {
      await until(second, () => second.synced(), 'consul to sync');
      assert.equal(serviceModelOf(second.services(), file).services[0]?.host, host);
      const v1 = `outbound|8080|v1|${host}`;
      const v2 = `outbound|8080|v2|${host}`;
      const sidecar = served.client([v1, v2]);
      await sidecar.waitFor(TypeUrl.Cluster, (r) => [v1, v2].every((n) => r.names.includes(n)));
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) =>
          endpointLines(state.resources, v1).join() === '192.0.2.1:9001 HEALTHY dc1/' &&
          endpointLines(state.resources, v2).join() === '192.0.2.1:9002 HEALTHY dc1/',
      );
      await put(consul.url, '/v1/agent/check/fail/check-web-2');
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) => endpointLines(state.resources, v2).join() === '192.0.2.1:9002 UNHEALTHY dc1/',
      );
      await put(consul.url, '/v1/agent/service/deregister/web-1');
      await sidecar.waitFor(TypeUrl.Endpoint, (_r, state) => endpointLines(state.resources, v1).length === 0);
    } finally {
      await served.close();
    }
  });

  it('an agent that stops answering leaves the services in place, stale; nothing is pushed', async () => {
    await register(consul.url, 'web-3', 9003, 'v3');
    const registry = new ConsulRegistry(consul.url, { waitSeconds: 1, maxBackoffMs: 300 });
    const xds = await serveRegistry(registry);
    const { aggregate } = xds;
    try {
      await until(aggregate, () => aggregate.synced(), 'consul to sync');
      const pushes = xds.pushes();
      const before = JSON.stringify(registry.services());
      await consul.pause?.();
      try {
        await until(registry, () => registry.status().stale, 'the registry to notice', 60_000);
        assert.equal(JSON.stringify(registry.services()), before);
      } finally {
        await consul.resume?.();
      }
      await until(registry, () => !registry.status().stale, 'the registry to resync', 60_000);
      assert.equal(JSON.stringify(registry.services()), before);
      assert.equal(xds.pushes(), pushes);
    } finally {
      await xds.close();
    }
  });

  it('L2: a burst of 30 blocking-query answers costs one update per minRegistryUpdateMs, not one each', async () => {
    const intervalMs = 1000;
    const registerAll = (address: string) =>
      Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          put(consul.url, '/v1/agent/service/register', {
            Name: `burst-${i}`,
            ID: `burst-${i}`,
            Address: address,
            Port: 9000 + i,
          }),
        ),
      );
    await registerAll('192.0.2.1');
    const registry = new ConsulRegistry(consul.url, {
      waitSeconds: 10,
      limits: { minRegistryUpdateMs: intervalMs },
    });
    registry.start();
    const moved = (address: string) =>
      registry.services().filter((s) => s.name.startsWith('burst-') && s.instances[0]?.address === address)
        .length;
    try {
      await until(registry, () => moved('192.0.2.1') === 30, 'the 30 services', 60_000);
      // every service's blocking query answers on its own
      await assertBurstCoalesced(
        registry,
        intervalMs,
        () => registerAll('192.0.2.2'),
        () => moved('192.0.2.2') === 30,
        '30 changed services',
      );
    } finally {
      await registry.stop();
    }
  });
});

describe('ConsulRegistry over a Consul server that restarts (real Consul, data on disk)', () => {
  let consul: RunningServer & { restart(): Promise<void> };

  before(async () => {
    consul = await startConsul({ persistent: true });
  });

  after(async () => {
    await consul.stop();
  });

  it('a restart keeps the services (stale while it is down), resyncs, and pushes nothing unchanged', async () => {
    for (const [id, port, version] of [
      ['web-1', 9001, 'v1'],
      ['web-2', 9002, 'v2'],
    ] as const) {
      await put(consul.url, '/v1/agent/service/register', {
        Name: 'web',
        ID: id,
        Address: '192.0.2.1',
        Port: port,
        Tags: [`version=${version}`],
        Meta: { protocol: 'http', service_port: '8080' },
      });
    }
    const registry = new ConsulRegistry(consul.url, { waitSeconds: 1, maxBackoffMs: 300 });
    const xds = await serveRegistry(registry);
    const { aggregate } = xds;
    const history = statusHistory(registry);
    try {
      await until(
        aggregate,
        () => aggregate.services().find((s) => s.hostname === host)?.instances.length === 2,
        'the two instances',
        60_000,
      );
      const before = JSON.stringify(registry.services());
      const pushes = xds.pushes();
      const restarted = consul.restart();
      await until(registry, () => registry.status().stale, 'the registry to notice the restart', 60_000);
      assert.equal(JSON.stringify(registry.services()), before, 'a stale registry keeps its services');
      await restarted;
      await until(registry, () => !registry.status().stale, 'the registry to resync', 60_000);
      // a restarted server is leader before its state is back: what it answered then must not have been applied
      assert.equal(JSON.stringify(registry.services()), before, history.text());
      assert.equal(xds.pushes(), pushes, `an unchanged resync publishes nothing\n${history.text()}`);
    } finally {
      history.stop();
      await xds.close();
    }
  });
});
