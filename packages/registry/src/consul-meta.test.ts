// Rules L2 and L4 for registry data that is not what Consul keeps: a real Consul agent stores Meta as strings, so
// a loopback proxy in front of the real agent stands in for a hostile agent (or anything on the plain-HTTP path)
// and puts nested and non-string values into one instance's Meta and Tags. Before: a nested Meta value went into the
// labels unchecked; the fingerprint recursed into it in a timer and the uncaught RangeError ended the process
// (depth 5,000, a 10 KB answer), and a large non-string value went past `maxInstanceLabelBytes` (counted as 0 bytes).
// Meta given as a string, or Tags as a string, was dropped without a word (review R12): now the instance is left out
// with a reason naming the field. An address of any length was held until the check left the instance out, and
// quoted whole in its reason: now one past 253 characters is not kept.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { type RunningServer, startConsul } from '../../../scripts/registries/servers.mjs';
import { ConsulRegistry } from './consul.js';
import { endpointLines, serveRegistry, until } from './test-support.js';

const cluster = 'outbound|8080||web.service.consul';
const depth = 5000;

/** A proxy to `consulUrl` that rewrites the health answer entry of service id `badId` with `rewrite`. */
async function startMetaProxy(
  consulUrl: string,
  badId: string,
  rewrite: (service: Record<string, unknown>) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const open = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    open.add(response);
    response.on('close', () => open.delete(response));
    const path = request.url ?? '/';
    const upstream = new AbortController();
    response.on('close', () => upstream.abort());
    void (async () => {
      try {
        const answer = await fetch(`${consulUrl}${path}`, { signal: upstream.signal });
        const headers: Record<string, string> = {};
        for (const key of ['content-type', 'x-consul-index', 'x-consul-knownleader']) {
          const value = answer.headers.get(key);
          if (value !== null) headers[key] = value;
        }
        let body = await answer.text();
        if (path.startsWith('/v1/health/service/') && answer.status === 200) {
          const entries = JSON.parse(body) as { Service?: Record<string, unknown> }[];
          for (const entry of entries) if (entry.Service?.['ID'] === badId) rewrite(entry.Service);
          // the nested value is spliced in as text: the proxy itself need not recurse into it
          body = JSON.stringify(entries).replace('"@deep@"', `${'['.repeat(depth)}${']'.repeat(depth)}`);
        }
        response.writeHead(answer.status, headers).end(body);
      } catch {
        response.destroy();
      }
    })();
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const response of open) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function register(base: string, id: string, address: string): Promise<void> {
  const response = await fetch(`${base}/v1/agent/service/register`, {
    method: 'PUT',
    body: JSON.stringify({ Name: 'web', ID: id, Address: address, Port: 8080, Meta: { version: 'v1' } }),
  });
  assert.equal(response.status, 200, await response.text());
}

describe('ConsulRegistry with non-string Meta values (real Consul behind a rewriting proxy)', () => {
  let consul: RunningServer;

  before(async () => {
    consul = await startConsul();
    await register(consul.url, 'web-good', '192.0.2.1');
    await register(consul.url, 'web-bad', '192.0.2.2');
  });

  after(async () => {
    await consul.stop();
  });

  it('L4: a Meta value nested 5,000 deep neither ends the process nor stops generation; only string labels are kept', async () => {
    const proxy = await startMetaProxy(consul.url, 'web-bad', (service) => {
      service['Meta'] = { version: 'v2', x: '@deep@', n: 7, o: { a: 'b' } };
      service['Tags'] = ['ok=yes', 12, { t: 1 }];
    });
    const xds = await serveRegistry(new ConsulRegistry(proxy.url, { waitSeconds: 2 }));
    try {
      const sidecar = xds.client([cluster]);
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) =>
          endpointLines(state.resources, cluster).join() ===
          '192.0.2.1:8080 HEALTHY dc1/,192.0.2.2:8080 HEALTHY dc1/',
        { timeoutMs: 60_000 },
      );
      const web = xds.aggregate.services().find((s) => s.name === 'web');
      const bad = web?.instances.find((i) => i.address === '192.0.2.2');
      assert.deepEqual(bad?.labels, { ok: 'yes', version: 'v2' });
    } finally {
      await xds.close();
      await proxy.close();
    }
  });

  it('L2: a large non-string Meta value does not go past maxInstanceLabelBytes', async () => {
    const blob = Array.from({ length: 20_000 }, (_, k) => ({ k }));
    const proxy = await startMetaProxy(consul.url, 'web-bad', (service) => {
      service['Meta'] = { version: 'v3', blob };
    });
    const registry = new ConsulRegistry(proxy.url, {
      waitSeconds: 2,
      limits: { maxInstanceLabelBytes: 4096 },
    });
    registry.start();
    try {
      await until(
        registry,
        () => registry.services().some((s) => s.instances.some((i) => i.labels['version'] === 'v3')),
        'the rewritten instance',
        60_000,
      );
      for (const instance of registry.services().flatMap((s) => s.instances)) {
        const bytes = JSON.stringify(instance.labels).length;
        assert.ok(bytes <= 4096, `labels of ${instance.address} are ${bytes} bytes`);
        for (const value of Object.values(instance.labels)) assert.equal(typeof value, 'string');
      }
    } finally {
      await registry.stop();
      await proxy.close();
    }
  });
  it('L2: R12: Meta or Tags given as a string leave the instance out with a reason naming the field', async () => {
    for (const [field, value, kind] of [
      ['Meta', 'abc', 'map'],
      ['Tags', 'ok=yes', 'list'],
    ] as const) {
      const proxy = await startMetaProxy(consul.url, 'web-bad', (service) => {
        service[field] = value;
      });
      const registry = new ConsulRegistry(proxy.url, { waitSeconds: 2 });
      registry.start();
      try {
        const reason = `instance "web-bad" of service "web" left out: its Service.${field} is ${JSON.stringify(value)}, not a ${kind} of strings`;
        await until(
          registry,
          () => registry.status().itemErrors.some((e) => e.message === reason),
          `the reason naming Service.${field}`,
          60_000,
        );
        assert.deepEqual(
          registry.services().flatMap((s) => s.instances.map((i) => i.address)),
          ['192.0.2.1'],
          'the other instance is served',
        );
        assert.ok(registry.status().dropped >= 1);
      } finally {
        await registry.stop();
        await proxy.close();
      }
    }
  });
  it('L2: an address past 253 characters is not kept: the instance is left out with a short reason naming the field', async () => {
    const proxy = await startMetaProxy(consul.url, 'web-bad', (service) => {
      service['Address'] = 'a'.repeat(100_000);
    });
    const registry = new ConsulRegistry(proxy.url, { waitSeconds: 2 });
    registry.start();
    try {
      const reason =
        'instance "web-bad" of service "web" left out: its Service.Address is 100000 characters, over the limit of 253 (a DNS subdomain)';
      await until(
        registry,
        () => registry.status().itemErrors.some((e) => e.message === reason),
        'the reason naming Service.Address',
        60_000,
      );
      assert.deepEqual(
        registry.services().flatMap((s) => s.instances.map((i) => i.address)),
        ['192.0.2.1'],
      );
      assert.ok(JSON.stringify(registry.status()).length < 4_000);
    } finally {
      await registry.stop();
      await proxy.close();
    }
  });
});
