// Rule L2 for the Eureka adapter against a real Eureka server (probe4 F2): Eureka's `vipAddress` is a comma-separated
// list and the adapter serves an instance under each VIP, so 1,000 instances with 2,000 VIPs each (a 14 MB answer
// within every limit) used to expand into 2,000,000 endpoints and stall xds-server for minutes. Now an instance with
// more than 32 VIPs is left out with an item error naming it, the expansion is counted against
// `maxRegistryInstances` before anything is built (past it the registry keeps its last services, stale, with a limit
// error), and a poll that changes nothing publishes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startEureka } from '../../../scripts/registries/servers.mjs';
import { EurekaRegistry } from './eureka.js';
import { eurekaVips, maxEurekaVipsPerInstance } from './eureka-services.js';
import { forwarder, register, send } from './eureka-test-support.js';
import { assertParsedOffLoop, loopTurns, pollUntil, statusHistory, until } from './test-support.js';

/** `count` VIPs `<prefix>0.eureka,<prefix>1.eureka,…`. */
function vips(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}.eureka`).join(',');
}

/** How many of a registry's services have a hostname starting with `prefix`. */
function countOf(registry: EurekaRegistry, prefix: string): number {
  return registry.services().filter((s) => s.hostname.startsWith(prefix)).length;
}

describe('eurekaVips', () => {
  it('L2: reads up to 32 VIPs (trimmed, lower case, empty ones skipped); more is refused before the rest is read', () => {
    assert.equal(maxEurekaVipsPerInstance, 32);
    assert.deepEqual(eurekaVips(' A.eureka,,b.eureka ,', 32), ['a.eureka', 'b.eureka']);
    assert.deepEqual(eurekaVips(undefined, 32), []);
    assert.equal(eurekaVips(vips('v', 32), 32)?.length, 32);
    assert.equal(eurekaVips(`${vips('v', 32)},,`, 32)?.length, 32);
    assert.equal(eurekaVips(vips('v', 33), 32), undefined);
    assert.equal(eurekaVips(vips('v', 2_000), 32), undefined);
  });
});

describe('EurekaRegistry bounds (real Eureka)', () => {
  let eureka: RunningServer;

  before(async () => {
    eureka = await startEureka();
  });

  after(async () => {
    await eureka.stop();
  });

  it('L2: an instance listing more than 32 VIPs is left out with an item error naming it and the limit', async () => {
    await register(eureka.url, 'wide-1', 9201, 'v1', 'WIDE', 3600, { vipAddress: vips('wide', 33) });
    await register(eureka.url, 'edge-1', 9202, 'v1', 'EDGE', 3600, { vipAddress: vips('edge', 32) });
    const registry = new EurekaRegistry(`${eureka.url}?interval=200ms`);
    registry.start();
    try {
      await until(registry, () => countOf(registry, 'edge') === 32, 'the 32 VIPs of edge-1', 60_000);
      assert.equal(countOf(registry, 'wide'), 0, 'no service of the instance with 33 VIPs');
      const error = registry.status().itemErrors.find((e) => e.item === 'WIDE/wide-1');
      assert.match(
        error?.message ?? JSON.stringify(registry.status().itemErrors),
        /instance WIDE\/wide-1 lists more VIPs in vipAddress than the limit of 32 \(maxEurekaVipsPerInstance\)/,
      );
      assert.equal(registry.status().lastError?.kind, 'content');
      assert.ok(registry.status().dropped >= 1);
    } finally {
      await registry.stop();
      await send(`${eureka.url}/apps/WIDE/wide-1`, 'DELETE');
      await send(`${eureka.url}/apps/EDGE/edge-1`, 'DELETE');
    }
  });

  it('L2: past maxRegistryInstances (every VIP counted) the registry keeps its last services, stale, with a limit error', async () => {
    await register(eureka.url, 'cap-1', 9211, 'v1', 'CAP', 3600, { vipAddress: vips('cap', 20) });
    const registry = new EurekaRegistry(`${eureka.url}?interval=200ms`, {
      limits: { maxRegistryInstances: 40 },
    });
    const history = statusHistory(registry);
    registry.start();
    try {
      await until(registry, () => countOf(registry, 'cap') === 20, 'the 20 VIPs of cap-1', 60_000);
      // 20 + 30 = 50 instances over all services, each service within maxInstancesPerService
      await register(eureka.url, 'more-1', 9212, 'v1', 'MORE', 3600, { vipAddress: vips('more', 30) });
      await until(
        registry,
        () => registry.status().stale && registry.status().lastError?.kind === 'limit',
        'the limit error',
        60_000,
      ).catch((error: Error) => assert.fail(`${error.message}\n${history.text()}`));
      assert.match(
        registry.status().lastError?.message ?? '',
        /50 instances over all services is over the limit of 40 \(maxRegistryInstances\)/,
      );
      assert.equal(countOf(registry, 'cap'), 20, 'the last good services stay');
      assert.equal(countOf(registry, 'more'), 0);
      await send(`${eureka.url}/apps/MORE/more-1`, 'DELETE');
      await until(registry, () => !registry.status().stale, 'the registry back within the limit', 60_000);
      assert.equal(countOf(registry, 'cap'), 20);
      assert.equal(registry.status().lastError, undefined);
    } finally {
      history.stop();
      await registry.stop();
      await send(`${eureka.url}/apps/CAP/cap-1`, 'DELETE');
      await fetch(`${eureka.url}/apps/MORE/more-1`, { method: 'DELETE' });
    }
  });

  it('L2: a delta poll that changes nothing publishes nothing (no change, no status); a change still goes out', async () => {
    await register(eureka.url, 'quiet-1', 9221, 'v1', 'QUIET', 3600);
    // an instance left out (its address is not an IP): every publish would report it again
    await register(eureka.url, 'quiet-bad', 9222, 'v1', 'QUIET', 3600, { ipAddr: 'not-an-ip' });
    const proxy = await forwarder(eureka.url);
    const registry = new EurekaRegistry(`${proxy.url}?interval=100ms`);
    registry.start();
    const events = { change: 0, status: 0 };
    try {
      await until(
        registry,
        () =>
          countOf(registry, 'quiet.eureka') === 1 &&
          registry.status().itemErrors.some((e) => /not-an-ip/.test(e.message)),
        'quiet-1 served and quiet-bad reported',
        60_000,
      );
      registry.on('change', () => events.change++);
      registry.on('status', () => events.status++);
      const polled = proxy.paths.get('/apps/delta') ?? 0;
      await pollUntil(() => (proxy.paths.get('/apps/delta') ?? 0) >= polled + 10, 'ten more delta polls');
      assert.deepEqual(events, { change: 0, status: 0 }, 'ten polls that changed nothing emitted nothing');
      await send(`${eureka.url}/apps/QUIET/quiet-1/status?value=DOWN`, 'PUT');
      await until(
        registry,
        () => registry.services().find((s) => s.hostname === 'quiet.eureka')?.instances[0]?.healthy === false,
        'quiet-1 DOWN',
        60_000,
      );
    } finally {
      await registry.stop();
      await proxy.close();
      await send(`${eureka.url}/apps/QUIET/quiet-1`, 'DELETE');
      await send(`${eureka.url}/apps/QUIET/quiet-bad`, 'DELETE');
    }
  });
  it('L2: R12: metadata given as a string, or past maxInstanceLabelBytes, leaves the instance out naming APP/instanceId', async () => {
    await register(eureka.url, 'text-ok', 9241, 'v1', 'TEXT', 3600);
    await register(eureka.url, 'text-string', 9242, 'v1', 'TEXT', 3600);
    await register(eureka.url, 'text-heavy', 9243, 'v1', 'TEXT', 3600, {
      metadata: { blob: 'b'.repeat(5000) },
    });
    // a real Eureka keeps metadata as a map: the forwarder stands for a broken or hostile server
    const proxy = await forwarder(eureka.url, {
      rewrite: (path, body) => {
        if (!path.startsWith('/apps')) return undefined;
        const apps = JSON.parse(body) as {
          applications: { application: { instance: Record<string, unknown>[] }[] };
        };
        for (const app of apps.applications.application)
          for (const instance of app.instance)
            if (instance['instanceId'] === 'text-string') instance['metadata'] = 'abc';
        return JSON.stringify(apps);
      },
    });
    const registry = new EurekaRegistry(`${proxy.url}?interval=200ms`);
    registry.start();
    const problem = (item: string) => registry.status().itemErrors.find((e) => e.item === item)?.message;
    try {
      await until(
        registry,
        () => countOf(registry, 'text.eureka') === 1 && problem('TEXT/text-heavy') !== undefined,
        'text-ok served and the two others reported',
        60_000,
      );
      const text = registry.services().find((s) => s.hostname === 'text.eureka');
      assert.deepEqual(
        text?.instances.map((i) => i.port),
        [9241],
        'only text-ok is served: no instance with a label per character of "abc"',
      );
      assert.equal(
        problem('TEXT/text-string'),
        'instance TEXT/text-string left out: its metadata is "abc", not a map of strings',
      );
      assert.match(
        problem('TEXT/text-heavy') ?? '',
        /^instance TEXT\/text-heavy left out: its metadata is 50\d\d bytes, over the limit of 4096 \(maxInstanceLabelBytes\)$/,
      );
    } finally {
      await registry.stop();
      await proxy.close();
      for (const id of ['text-ok', 'text-string', 'text-heavy'])
        await send(`${eureka.url}/apps/TEXT/${id}`, 'DELETE');
    }
  });

  it('L4: an /apps answer of 20,000 instances is parsed off the event loop: the loop turns once per chunk of 10 until it is applied', async () => {
    const count = 20_000;
    await register(eureka.url, 'parsed-1', 9231, 'v1', 'PARSED', 3600);
    // the real answer with 20,000 more instances of PARSED (about 6 MB), each on its own port
    const proxy = await forwarder(eureka.url, {
      rewrite: (path, body) => {
        if (path !== '/apps') return undefined;
        const apps = JSON.parse(body) as {
          applications: { application: { name: string; instance: unknown[] }[] };
        };
        const app = apps.applications.application.find((a) => a.name === 'PARSED');
        if (app === undefined) return undefined;
        const model = app.instance[0] as Record<string, unknown>;
        for (let i = 0; i < count; i++)
          app.instance.push({
            ...model,
            instanceId: `parsed-extra-${i}`,
            port: { $: 20_000 + i, '@enabled': 'true' },
          });
        return JSON.stringify(apps);
      },
      rewritten: (path) => {
        if (path === '/apps') loop.start();
      },
      request: (path) => {
        // asked right after the full answer is applied
        if (path === '/apps/delta') loop.stop();
      },
    });
    const loop = loopTurns();
    const registry = new EurekaRegistry(`${proxy.url}?interval=1s`, {
      limits: { maxInstancesPerService: count + 1 },
      parse: { chunkItems: 10 },
    });
    registry.start();
    try {
      const served = () => registry.services().find((s) => s.hostname === 'parsed.eureka')?.instances.length;
      await assertParsedOffLoop(registry, loop, () => served() === count + 1, count, 10);
    } finally {
      loop.stop();
      await registry.stop();
      await proxy.close();
      await send(`${eureka.url}/apps/PARSED/parsed-1`, 'DELETE');
    }
  });
});
