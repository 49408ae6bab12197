// The Eureka adapter against a real Eureka server (Spring Cloud Netflix, 127.0.0.1 free port, its response caches off
// so it answers what it holds, see eurekaFreshProperties): a full fetch, then deltas; metadata becomes labels, status
// UP health; a delta that misses a change (hash mismatch) fetches everything again. A server that stops answering
// (SIGSTOP) leaves the services in place, stale, and pushes nothing; it resyncs when it answers again. Never
// backwards: a second real Eureka (a peer that missed a deletion, its read-only cache caught before it) behind the
// same address brings back no deleted instance. Each test registers its own apps and deletes them when it ends.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import type { ServiceModel } from '@xds/generator';
import { type RunningServer, startEureka } from '../../../scripts/registries/servers.mjs';
import { AggregateRegistry } from './aggregate.js';
import { EurekaRegistry, eurekaHashcode } from './eureka.js';
import { forwarder, readApps, register, send } from './eureka-test-support.js';
import { parseEurekaLocation } from './locations.js';
import { endpointLines, serveAggregate, until } from './test-support.js';

/** The hostnames a registry lists among `mine`, sorted and joined. */
function hostnames(registry: EurekaRegistry, mine: readonly string[]): string {
  return registry
    .services()
    .map((s) => s.hostname)
    .filter((h) => mine.includes(h))
    .sort()
    .join();
}

/** Polls `check` every 50 ms until it holds; fails after the deadline. */
async function poll(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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
      await fetch(`${eureka.url}/apps/WEB/web-2`, { method: 'DELETE' });
    }
  });

  it('a server that stops answering leaves the services in place, stale; nothing is pushed; it resyncs', async () => {
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
        `the instance (${JSON.stringify(registry.status())} ${aggregate
          .services()
          .map((s) => `${s.hostname} ${s.instances.length}`)
          .join()})`,
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
      await fetch(`${eureka.url}/apps/STILL/still-1`, { method: 'DELETE' });
    }
  });

  it('never backwards: a peer that missed a deletion, or a full answer older than the delta, brings back no deleted instance', async () => {
    // the peer: its read-only response cache is filled once and never refreshed (as between two of its 30 s
    // refreshes by default), so its /apps can be older than its delta
    const peer = await startEureka({
      properties: {
        'eureka.server.use-read-only-response-cache': 'true',
        'eureka.server.response-cache-update-interval-ms': String(100 * 365 * 24 * 3_600_000),
      },
    });
    const proxy = await forwarder(eureka.url);
    const mine = ['lag.eureka', 'keep.eureka', 'gone.eureka'];
    const seen = new Set<string>();
    const registries: EurekaRegistry[] = [];
    const watch = (registry: EurekaRegistry): void => {
      registries.push(registry);
      registry.on('change', () => {
        for (const service of registry.services())
          seen.add(`${registries.indexOf(registry)} ${service.hostname}`);
      });
      registry.start();
    };
    try {
      await register(peer.url, 'lag-x', 9101, 'v1', 'LAG', 3600);
      await register(peer.url, 'keep-k', 9102, 'v1', 'KEEP', 3600);
      await register(peer.url, 'gone-z', 9103, 'v1', 'GONE', 3600);
      assert.match(await readApps(peer.url), /gone-z/);
      await send(`${peer.url}/apps/GONE/gone-z`, 'DELETE');
      assert.match(await readApps(peer.url), /gone-z/, 'the peer answers /apps from before the deletion');
      // the server the address leads to first: lag-x deleted there, not (yet) on the peer
      await register(eureka.url, 'lag-x', 9101, 'v1', 'LAG', 3600);
      await register(eureka.url, 'keep-k', 9102, 'v1', 'KEEP', 3600);
      await send(`${eureka.url}/apps/LAG/lag-x`, 'DELETE');

      const behind = new EurekaRegistry(`${proxy.url}?interval=200ms`);
      watch(behind);
      await until(behind, () => hostnames(behind, mine) === 'keep.eureka', 'the first server', 60_000);
      proxy.target = peer.url;
      // the peer's delta adds lag-x (hash mismatch), then its full answer holds lag-x and gone-z: several rounds
      await poll(() => (proxy.forwarded.get(peer.url) ?? 0) >= 8, 'rounds against the peer');
      assert.equal(hostnames(behind, mine), 'keep.eureka', 'what was deleted stays deleted');

      // a new adapter on the peer alone: its /apps still holds gone-z, the delta read before the first push does not
      const direct = new EurekaRegistry(`${peer.url}?interval=200ms`);
      watch(direct);
      await until(direct, () => direct.status().synced, 'the peer', 60_000);
      assert.equal(hostnames(direct, mine), 'keep.eureka,lag.eureka');
      assert.deepEqual(
        [...seen].filter((s) => s.endsWith('lag.eureka') || s.endsWith('gone.eureka')).sort(),
        ['1 lag.eureka'],
        'no adapter ever listed an instance its server had deleted',
      );
    } finally {
      await Promise.all(registries.map((r) => r.stop()));
      await proxy.close();
      await peer.stop();
      await fetch(`${eureka.url}/apps/KEEP/keep-k`, { method: 'DELETE' });
    }
  });
});
