// The Eureka adapter against a real Eureka server (Spring Cloud Netflix, 127.0.0.1 free port, read-only response
// cache off): a full fetch, then deltas; metadata becomes labels, status UP health; a delta that misses a change
// (hash mismatch) fetches everything again. A server that stops answering (SIGSTOP) leaves the services in place,
// stale, and pushes nothing; it resyncs when it answers again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import type { ServiceModel } from '@xds/generator';
import { type RunningServer, startEureka } from '../../../scripts/registries/servers.mjs';
import { AggregateRegistry } from './aggregate.js';
import { EurekaRegistry, eurekaHashcode } from './eureka.js';
import { parseEurekaLocation } from './locations.js';
import { endpointLines, serveAggregate, until } from './test-support.js';

async function send(url: string, method: string, body?: unknown): Promise<void> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(response.status < 300, `${method} ${url}: HTTP ${response.status} ${await response.text()}`);
}

function register(
  base: string,
  id: string,
  port: number,
  version: string,
  app = 'WEB',
  leaseSeconds = 90,
): Promise<void> {
  return send(`${base}/apps/${app}`, 'POST', {
    instance: {
      instanceId: id,
      hostName: '192.0.2.1',
      app,
      leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: leaseSeconds },
      ipAddr: '192.0.2.1',
      status: 'UP',
      port: { $: port, '@enabled': 'true' },
      securePort: { $: 443, '@enabled': 'false' },
      vipAddress: `${app.toLowerCase()}.eureka`,
      dataCenterInfo: {
        '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo',
        name: 'MyOwn',
      },
      metadata: { version, protocol: 'http', service_port: '8080', zone: `zone-${version}` },
    },
  });
}

describe('parseEurekaLocation', () => {
  it('reads the base and ?interval; rejects a bad interval with a one-line message', () => {
    assert.deepEqual(parseEurekaLocation('http://127.0.0.1:8761/eureka/?interval=1s'), {
      base: 'http://127.0.0.1:8761/eureka',
      intervalMs: 1000,
    });
    assert.equal(parseEurekaLocation('http://127.0.0.1:8761/eureka').intervalMs, 30_000);
    assert.throws(() => parseEurekaLocation('http://h:1/eureka?interval=1ms'), /at least 100ms/);
    assert.throws(() => parseEurekaLocation('nope'), /not a URL/);
  });

  it('the reconcile hash counts instances by status, in status order', () => {
    assert.equal(eurekaHashcode([{ status: 'UP' }, { status: 'DOWN' }, { status: 'UP' }]), 'DOWN_1_UP_2_');
  });
});

describe('EurekaRegistry (real Eureka)', () => {
  let eureka: RunningServer;

  before(async () => {
    eureka = await startEureka();
  });

  after(async () => {
    await eureka.stop();
  });

  it('two instances in two subsets reach CDS and EDS; DOWN and a deregistration follow by delta', async () => {
    await register(eureka.url, 'web-1', 9001, 'v1');
    await register(eureka.url, 'web-2', 9002, 'v2');
    const host = 'web.eureka';
    const file: ServiceModel = {
      domain: 'cluster.local',
      services: [
        {
          name: host,
          namespace: 'eureka',
          addresses: [],
          ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
          endpoints: [],
          subsets: [
            { name: 'v1', labels: { version: 'v1' } },
            { name: 'v2', labels: { version: 'v2' } },
          ],
          routes: [],
        },
      ],
    };
    const registry = new EurekaRegistry(`${eureka.url}?interval=200ms`);
    const aggregate = new AggregateRegistry([registry]);
    aggregate.start();
    const xds = await serveAggregate(aggregate, file);
    try {
      await until(aggregate, () => aggregate.services()[0]?.instances.length === 2, 'two instances', 60_000);
      assert.deepEqual(aggregate.services()[0]?.ports, [{ name: 'http-8080', port: 8080, protocol: 'HTTP' }]);
      const v1 = `outbound|8080|v1|${host}`;
      const v2 = `outbound|8080|v2|${host}`;
      const sidecar = xds.client([v1, v2]);
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) =>
          endpointLines(state.resources, v1).join() === '192.0.2.1:9001 HEALTHY /zone-v1' &&
          endpointLines(state.resources, v2).join() === '192.0.2.1:9002 HEALTHY /zone-v2',
      );
      await send(`${eureka.url}/apps/WEB/web-2/status?value=DOWN`, 'PUT');
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) => endpointLines(state.resources, v2).join() === '192.0.2.1:9002 UNHEALTHY /zone-v2',
      );
      await send(`${eureka.url}/apps/WEB/web-1`, 'DELETE');
      await sidecar.waitFor(TypeUrl.Endpoint, (_r, state) => endpointLines(state.resources, v1).length === 0);
      assert.equal(registry.status().stale, false);
    } finally {
      await xds.close();
      await aggregate.stop();
    }
  });

  it('a server that stops answering leaves the services in place, stale; nothing is pushed; it resyncs', async () => {
    // what the first test left would expire (90 s leases, no heartbeats) while this one runs: remove it
    await fetch(`${eureka.url}/apps/WEB/web-2`, { method: 'DELETE' });
    await register(eureka.url, 'still-1', 9011, 'v1', 'STILL', 3600);
    const registry = new EurekaRegistry(`${eureka.url}?interval=200ms`);
    const aggregate = new AggregateRegistry([registry]);
    aggregate.start();
    const xds = await serveAggregate(aggregate);
    try {
      await until(
        aggregate,
        () =>
          aggregate
            .services()
            .map((s) => `${s.hostname} ${s.instances.length}`)
            .join() === 'still.eureka 1',
        'the instance',
        60_000,
      );
      const before = JSON.stringify(registry.services());
      const pushes = xds.pushes();
      await eureka.pause?.();
      try {
        // the registry's requests time out (15 s)
        await until(registry, () => registry.status().stale, 'the registry to notice', 60_000);
        assert.equal(JSON.stringify(registry.services()), before, 'a stale registry keeps its services');
        assert.match(registry.status().lastError?.message ?? '', /eureka/);
      } finally {
        await eureka.resume?.();
      }
      await until(registry, () => !registry.status().stale, 'the registry to resync', 60_000);
      assert.equal(JSON.stringify(registry.services()), before);
      assert.equal(xds.pushes(), pushes, 'an unchanged resync publishes nothing');
    } finally {
      await xds.close();
      await aggregate.stop();
    }
  });
});
