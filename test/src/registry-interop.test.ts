// Interop through service registries: real @grpc/grpc-js-xds clients route real RPCs to loopback backends that are
// registered in a real Consul, a real Eureka and a real etcd; the xDS server's config follows the registries (aggregate →
// generator → cache), and a deregistration, a failed health check or a removed endpoint moves the traffic.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@grpc/grpc-js';
import { SnapshotCache } from '@xds/cache';
import { nodeKeyByFlavour, publishModel } from '@xds/generator';
import {
  AggregateRegistry,
  ConsulRegistry,
  EtcdRegistry,
  EurekaRegistry,
  serviceModelOf,
} from '@xds/registry';
import { XdsServer } from '@xds/server';
import { Etcd3 } from 'etcd3';
import {
  type RunningServer,
  startConsul,
  startEtcd,
  startEureka,
} from '../../scripts/registries/servers.mjs';
import { type Backend, channel, interopWaitMs, startBackend, untilAll, which } from './support/backend.js';
import { useXdsServer } from './support/bootstrap.js';

/** Calls until `count` answers in a row satisfy `predicate` (bounded by a deadline); returns how long it took. */
async function settle(
  client: Client,
  predicate: (name: string) => boolean,
  count = 10,
  timeoutMs = interopWaitMs,
) {
  const started = Date.now();
  const seen: string[] = [];
  let run = 0;
  while (run < count) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `no ${count} matching answers in a row within ${timeoutMs} ms; last: ${seen.slice(-8).join(', ')}`,
      );
    }
    try {
      const name = await which(client, Math.max(1, timeoutMs - (Date.now() - started)));
      seen.push(name);
      run = predicate(name) ? run + 1 : 0;
    } catch (error) {
      seen.push(`error: ${(error as Error).message}`);
      run = 0;
      // a channel in TRANSIENT_FAILURE fails calls at once: retry after a moment, until the deadline
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return Date.now() - started;
}

async function send(url: string, method: string, body?: unknown): Promise<void> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(response.status < 300, `${method} ${url}: HTTP ${response.status} ${await response.text()}`);
}

function put(base: string, path: string, body?: unknown): Promise<void> {
  return send(`${base}${path}`, 'PUT', body);
}

describe('@grpc/grpc-js-xds routed by services from real registries', () => {
  let consul: RunningServer;
  let etcd: RunningServer;
  let eureka: RunningServer;
  let etcdClient: Etcd3;
  let backends: Backend[];
  let aggregate: AggregateRegistry;
  let server: XdsServer;
  const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });

  before(async () => {
    // one after another: when one fails to start, the ones already running are stopped by after()
    consul = await startConsul();
    etcd = await startEtcd();
    eureka = await startEureka();
    etcdClient = new Etcd3({ hosts: etcd.url });
    backends = await Promise.all(['c1', 'c2', 'e1', 'e2', 'u1', 'u2'].map((name) => startBackend(name)));
    for (const backend of backends.filter((b) => b.name.startsWith('u'))) {
      await send(`${eureka.url}/apps/ECHO`, 'POST', {
        instance: {
          instanceId: backend.name,
          hostName: '127.0.0.1',
          app: 'ECHO',
          ipAddr: '127.0.0.1',
          status: 'UP',
          port: { $: backend.port, '@enabled': 'true' },
          vipAddress: 'echo.eureka',
          dataCenterInfo: {
            '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo',
            name: 'MyOwn',
          },
          metadata: { protocol: 'grpc', service_port: '8080' },
        },
      });
    }
    const [c1, c2] = backends as [Backend, Backend];
    for (const backend of [c1, c2]) {
      await put(consul.url, '/v1/agent/service/register', {
        Name: 'echo',
        ID: backend.name,
        Address: '127.0.0.1',
        Port: backend.port,
        Meta: { protocol: 'grpc', service_port: '8080' },
        Check: { CheckID: `check-${backend.name}`, TTL: '300s', Status: 'passing' },
      });
    }
    await etcdClient.put('/xds/services/default/echo').value(echoDoc(['e1', 'e2']));
    aggregate = new AggregateRegistry([
      new EtcdRegistry(`${etcd.url}/xds`),
      new ConsulRegistry(consul.url, { waitSeconds: 10 }),
      new EurekaRegistry(`${eureka.url}?interval=200ms`),
    ]);
    const publish = (): void => {
      if (aggregate.synced())
        publishModel(cache, serviceModelOf(aggregate.services()), { flavours: ['grpc'] });
    };
    aggregate.on('change', publish);
    aggregate.on('status', publish);
    aggregate.start();
    server = new XdsServer({ cache, closeGraceMs: 500 });
    const port = await server.listen('127.0.0.1:0');
    await useXdsServer(port, 'registry-interop');
  });

  function echoDoc(names: string[]): string {
    return JSON.stringify({
      name: 'echo',
      ports: [{ name: 'grpc', port: 8080 }],
      endpoints: names.map((name) => ({
        address: '127.0.0.1',
        port: backends.find((b) => b.name === name)!.port,
      })),
    });
  }

  after(async () => {
    // any of these is unset when before() failed part way
    const maybe = <T>(value: T): T | undefined => value;
    await maybe(server)?.close();
    await maybe(aggregate)?.stop();
    cache.close();
    maybe(etcdClient)?.close();
    await Promise.all((maybe(backends) ?? []).map((b) => b.close()));
    await Promise.all([maybe(consul)?.stop(), maybe(etcd)?.stop(), maybe(eureka)?.stop()]);
  });

  it('Consul: RPCs reach both backends; a failed check, then a deregistration, move the traffic', async () => {
    const client = channel('xds:///echo.service.consul:8080');
    try {
      await settle(client, (name) => name === 'c1' || name === 'c2');
      assert.deepEqual(await untilAll(client, ['c1', 'c2']), ['c1', 'c2']);
      await put(consul.url, '/v1/agent/check/fail/check-c1');
      const afterFail = await settle(client, (name) => name === 'c2', 20);
      await put(consul.url, '/v1/agent/check/pass/check-c1');
      await settle(client, (name) => name === 'c1', 1);
      await put(consul.url, '/v1/agent/service/deregister/c2');
      const afterDeregister = await settle(client, (name) => name === 'c1', 20);
      // speed is for bench/: printed, not asserted
      console.log(
        `consul: traffic moved ${afterFail} ms after a failed check, ${afterDeregister} ms after a deregistration`,
      );
    } finally {
      client.close();
    }
  });

  it('etcd: RPCs reach both endpoints of a document; removing one moves the traffic', async () => {
    const client = channel('xds:///echo.default.svc.cluster.local:8080');
    try {
      await settle(client, (name) => name === 'e1' || name === 'e2');
      assert.deepEqual(await untilAll(client, ['e1', 'e2']), ['e1', 'e2']);
      await etcdClient.put('/xds/services/default/echo').value(echoDoc(['e2']));
      const moved = await settle(client, (name) => name === 'e2', 20);
      console.log(`etcd: traffic moved ${moved} ms after the document changed`);
    } finally {
      client.close();
    }
  });

  it('Eureka: RPCs reach both instances; DOWN, then a deregistration, move the traffic (deltas)', async () => {
    const client = channel('xds:///echo.eureka:8080');
    try {
      await settle(client, (name) => name === 'u1' || name === 'u2');
      assert.deepEqual(await untilAll(client, ['u1', 'u2']), ['u1', 'u2']);
      await send(`${eureka.url}/apps/ECHO/u1/status?value=DOWN`, 'PUT');
      const afterDown = await settle(client, (name) => name === 'u2', 20);
      await send(`${eureka.url}/apps/ECHO/u1/status?value=UP`, 'DELETE');
      await settle(client, (name) => name === 'u1', 1);
      await send(`${eureka.url}/apps/ECHO/u2`, 'DELETE');
      const afterDeregister = await settle(client, (name) => name === 'u1', 20);
      console.log(
        `eureka: traffic moved ${afterDown} ms after DOWN, ${afterDeregister} ms after a deregistration`,
      );
    } finally {
      client.close();
    }
  });
});
