// What a real Consul accepts and the generator or the clients cannot take (an address that is not an IP literal,
// a port outside 1…65535, a service name with a control character or a `|`): the check where registry data enters
// the aggregate leaves each out with a reason and serves the rest (rule L5 for names). Instances on distinct ports
// give a cluster per port with its own instances (linear, not ports × instances). Response bodies and service
// counts over the RegistryLimits are registry errors and the previous content stays.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { type RunningServer, startConsul } from '../../../scripts/registries/servers.mjs';
import { AggregateRegistry } from './aggregate.js';
import { ConsulRegistry } from './consul.js';
import { serviceModelOf } from './service-model.js';
import { endpointLines, serveAggregate, until } from './test-support.js';

async function put(base: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${base}${path}`, {
    method: 'PUT',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.equal(response.status, 200, `PUT ${path}: ${await response.text()}`);
}

function register(base: string, registration: Record<string, unknown>): Promise<void> {
  return put(base, '/v1/agent/service/register', registration);
}

describe('registry data checks (real Consul)', () => {
  let consul: RunningServer;

  before(async () => {
    consul = await startConsul();
  });

  after(async () => {
    await consul.stop();
  });

  it('L5: bad addresses, ports and names a real Consul accepts are left out with reasons; the rest reaches EDS', async () => {
    const meta = { protocol: 'http', service_port: '8080' };
    await register(consul.url, { Name: 'web', ID: 'web-ok', Address: '192.0.2.10', Port: 9000, Meta: meta });
    const bad: [string, string, number][] = [
      ['web-host', 'not-an-ip', 9000],
      ['web-hostport', '127.0.0.1:99', 9000],
      ['web-zone', '::ffff:1.2.3.4%eth0', 9000],
      ['web-high', '192.0.2.11', 70000],
      ['web-negative', '192.0.2.12', -1],
    ];
    for (const [id, address, port] of bad) {
      await register(consul.url, { Name: 'web', ID: id, Address: address, Port: port, Meta: meta });
    }
    await register(consul.url, { Name: 'we\nb', ID: 'newline', Address: '192.0.2.13', Port: 80 });
    await register(consul.url, { Name: 'we|b', ID: 'bar', Address: '192.0.2.14', Port: 80 });
    const registry = new ConsulRegistry(consul.url, { waitSeconds: 5 });
    const aggregate = new AggregateRegistry([registry]);
    aggregate.start();
    const xds = await serveAggregate(aggregate);
    try {
      await until(
        aggregate,
        () => aggregate.synced() && registry.status().dropped >= 7,
        'the checked services',
      );
      assert.deepEqual(
        aggregate.services().map((s) => s.hostname),
        ['web.service.consul'],
        'the services with a bad name are left out',
      );
      const web = aggregate.services()[0]!;
      assert.deepEqual(
        web.instances.map((i) => `${i.address}:${i.port}`),
        ['192.0.2.10:9000'],
      );
      const status = registry.status();
      assert.equal(status.lastError?.kind, 'content');
      assert.match(status.lastError?.message ?? '', /left out/);
      const reasons = status.itemErrors.map((e) => `${e.item} ${e.message}`).join('\n');
      for (const text of [
        '"not-an-ip" is not an IP literal',
        '"127.0.0.1:99" is not',
        '%eth0',
        '70000',
        '-1',
      ]) {
        assert.ok(reasons.includes(text), `a reason names ${text}:\n${reasons}`);
      }
      assert.match(reasons, /"we\\nb" is not a name/);
      assert.match(reasons, /"we\|b" is not a name/);
      const cluster = 'outbound|8080||web.service.consul';
      const sidecar = xds.client([cluster]);
      const { names } = await sidecar.waitFor(TypeUrl.Cluster, (r) => r.names.includes(cluster));
      assert.ok(
        names.every((n) => !n.includes('we\nb') && !n.includes('we|b') && !n.includes('70000')),
        names.join(' '),
      );
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) => endpointLines(state.resources, cluster).join() === '192.0.2.10:9000 HEALTHY dc1/',
      );
    } finally {
      await xds.close();
      await aggregate.stop();
    }
  });

  it('instances on distinct ports (no service_port) give a cluster per port listing only its instances', async () => {
    const count = 12;
    for (let i = 0; i < count; i++) {
      await register(consul.url, { Name: 'fan', ID: `fan-${i}`, Address: '192.0.2.20', Port: 9100 + i });
    }
    const aggregate = new AggregateRegistry([new ConsulRegistry(consul.url, { waitSeconds: 5 })]);
    aggregate.start();
    const xds = await serveAggregate(aggregate);
    try {
      await until(
        aggregate,
        () => aggregate.services().find((s) => s.name === 'fan')?.instances.length === count,
        'the fan instances',
      );
      const fan = serviceModelOf(aggregate.services()).services.filter((s) => s.name === 'fan');
      assert.equal(fan.length, count, 'one model service per port');
      assert.equal(
        fan.reduce((n, s) => n + s.endpoints.length, 0),
        count,
        'the endpoints add up to the instances, not ports × instances',
      );
      const cluster = 'outbound|9103||fan.service.consul';
      const sidecar = xds.client([cluster]);
      const cds = await sidecar.waitFor(TypeUrl.Cluster, (r) => r.names.includes(cluster));
      assert.equal(cds.names.filter((n) => n.endsWith('|fan.service.consul')).length, count);
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) => endpointLines(state.resources, cluster).join() === '192.0.2.20:9103 HEALTHY dc1/',
      );
    } finally {
      await xds.close();
      await aggregate.stop();
    }
  });
});

describe('registry limits (real Consul)', () => {
  let consul: RunningServer;

  before(async () => {
    consul = await startConsul();
  });

  after(async () => {
    await consul.stop();
  });

  it('a body over maxRegistryResponseBytes and a catalog over maxRegistryServices keep the previous content', async () => {
    await register(consul.url, { Name: 'small', ID: 'small-1', Address: '192.0.2.30', Port: 80 });
    const registry = new ConsulRegistry(consul.url, {
      waitSeconds: 2,
      maxBackoffMs: 300,
      limits: { maxRegistryResponseBytes: 4096, maxRegistryServices: 2 },
    });
    registry.start();
    try {
      await until(registry, () => registry.services().some((s) => s.name === 'small'), 'small');
      const before = JSON.stringify(registry.services());
      // one registration whose health entry is larger than the limit (Consul keeps meta values up to 512 bytes)
      const meta = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`pad${i}`, 'x'.repeat(500)]));
      await register(consul.url, { Name: 'big', ID: 'big-1', Address: '192.0.2.31', Port: 1000, Meta: meta });
      await until(
        registry,
        () => /maxRegistryResponseBytes/.test(registry.status().lastError?.message ?? ''),
        'the body limit',
      );
      assert.equal(registry.status().lastError?.kind, 'limit');
      assert.equal(JSON.stringify(registry.services()), before, 'the previous content stays');
      // every content the registry publishes from now on, to show the list over the limit never was
      const published: string[][] = [];
      const off = registry.on('change', () => published.push(registry.services().map((s) => s.name)));
      // one registration takes the catalog from 2 services (small, big) to 3, over the limit: no catalog within the
      // limit comes between (the test used to deregister small and then register three, one by one, and the
      // registry could serve the first of them, within the limit, before the next came: a race with the assertion)
      await register(consul.url, { Name: 's1', ID: 's1', Address: '192.0.2.32', Port: 80 });
      await until(
        registry,
        () => /maxRegistryServices/.test(registry.status().lastError?.message ?? ''),
        'the service limit',
      );
      off();
      assert.equal(registry.status().lastError?.kind, 'limit');
      assert.equal(JSON.stringify(registry.services()), before, 'the previous content stays');
      assert.ok(
        published.every((names) => !names.includes('s1')),
        `nothing of the list over the limit is served: ${JSON.stringify(published)}`,
      );
    } finally {
      await registry.stop();
    }
  });
});
