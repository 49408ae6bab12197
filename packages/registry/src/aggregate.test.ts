// The aggregate controller over memory registries: never push a hole, merges, conflicts, unchanged resyncs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceModel } from '@xds/generator';
import { AggregateRegistry } from './aggregate.js';
import { MemoryRegistry } from './memory.js';
import { serviceModelOf } from './service-model.js';
import type { RegistryInstance, RegistryService } from './types.js';

function instance(address: string, labels: Record<string, string> = {}): RegistryInstance {
  return {
    address,
    port: 9000,
    ports: {},
    labels,
    locality: { region: 'r', zone: 'z', subZone: '' },
    weight: 1,
    healthy: true,
  };
}

function web(hostname: string, addresses: string[], port = 8080): RegistryService {
  return {
    hostname,
    name: hostname.split('.')[0]!,
    namespace: 'consul',
    ports: [{ name: `http-${port}`, port, protocol: 'HTTP' }],
    instances: addresses.map((a) => instance(a)),
  };
}

describe('AggregateRegistry', () => {
  it('serves nothing from a registry until it has synced once, and names it pending', () => {
    const a = new MemoryRegistry('a', [web('web.service.consul', ['192.0.2.1'])]);
    const b = new MemoryRegistry('b');
    const aggregate = new AggregateRegistry([a, b]);
    aggregate.start();
    assert.equal(aggregate.synced(), false);
    assert.deepEqual(
      aggregate.pending().map((s) => s.location),
      ['b'],
    );
    assert.deepEqual(
      aggregate.services().map((s) => s.instances.map((i) => i.address)),
      [['192.0.2.1']],
    );
    b.set([web('web.service.consul', ['192.0.2.2'])]);
    assert.equal(aggregate.synced(), true);
    assert.deepEqual(aggregate.pending(), []);
  });

  it('merges the instances of one hostname from two registries, in registry order', () => {
    const a = new MemoryRegistry('a', [web('web.service.consul', ['192.0.2.1'])]);
    const b = new MemoryRegistry('b', [web('web.service.consul', ['192.0.2.2'])]);
    const aggregate = new AggregateRegistry([a, b]);
    aggregate.start();
    const [service] = aggregate.services();
    assert.deepEqual(
      service?.instances.map((i) => i.address),
      ['192.0.2.1', '192.0.2.2'],
    );
    assert.deepEqual(service?.sources, ['memory a', 'memory b']);
    assert.deepEqual(aggregate.conflicts(), []);
  });

  it('reports a port conflict and keeps the first registry ports', () => {
    const a = new MemoryRegistry('a', [web('web.service.consul', ['192.0.2.1'], 8080)]);
    const b = new MemoryRegistry('b', [web('web.service.consul', ['192.0.2.2'], 9090)]);
    const aggregate = new AggregateRegistry([a, b]);
    aggregate.start();
    assert.equal(aggregate.conflicts().length, 1);
    assert.match(
      aggregate.conflicts()[0]!.message,
      /memory b gives ports 9090\/HTTP; memory a gives 8080\/HTTP/,
    );
    assert.deepEqual(
      aggregate.services()[0]?.ports.map((p) => p.port),
      [8080],
    );
  });

  it('a disconnected registry keeps its services, marked stale; an unchanged resync emits no change', () => {
    const a = new MemoryRegistry('a', [web('web.service.consul', ['192.0.2.1'])]);
    const aggregate = new AggregateRegistry([a]);
    aggregate.start();
    let changes = 0;
    aggregate.on('change', () => {
      changes += 1;
    });
    a.disconnect('connection refused');
    assert.equal(aggregate.statuses()[0]?.stale, true);
    assert.equal(aggregate.statuses()[0]?.lastError?.message, 'connection refused');
    assert.equal(aggregate.services().length, 1);
    // the same content in another order is the same content
    a.set([{ ...web('web.service.consul', ['192.0.2.1']) }]);
    assert.equal(aggregate.statuses()[0]?.stale, false);
    assert.equal(changes, 0);
    a.set([web('web.service.consul', ['192.0.2.1', '192.0.2.9'])]);
    assert.equal(changes, 1);
  });
});

describe('serviceModelOf', () => {
  it('a model file service takes the registry host name and instances and keeps its subsets and routes', () => {
    // built as a value: the model file check rejects a subset that selects no static endpoint, even when a
    // registry provides the endpoints (reported to the model's owners)
    const file: ServiceModel = {
      domain: 'cluster.local',
      services: [
        {
          name: 'web',
          namespace: 'consul',
          addresses: [],
          ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
          endpoints: [],
          subsets: [{ name: 'v1', labels: { version: 'v1' } }],
          routes: [{ match: { prefix: '/', headers: {} }, to: [{ subset: 'v1', weight: 1 }] }],
        },
        {
          name: 'static',
          namespace: 'default',
          addresses: [],
          ports: [{ name: 'tcp-80', port: 80, protocol: 'TCP' }],
          endpoints: [
            {
              address: '192.0.2.50',
              ports: {},
              labels: {},
              locality: { region: '', zone: '', subZone: '' },
              weight: 1,
              healthy: true,
              priority: 0,
            },
          ],
          subsets: [],
          routes: [],
        },
      ],
    };
    const aggregate = new AggregateRegistry([
      new MemoryRegistry('a', [web('web.service.consul', ['192.0.2.1']), web('api.service.consul', [])]),
    ]);
    aggregate.start();
    const model = serviceModelOf(aggregate.services(), file);
    assert.deepEqual(
      model.services.map((s) => [s.host ?? `${s.name}.${s.namespace}`, s.endpoints.length, s.subsets.length]),
      [
        ['web.service.consul', 1, 1],
        ['static.default', 1, 0],
        ['api.service.consul', 0, 0],
      ],
    );
    assert.equal(model.services[0]?.routes.length, 1);
  });
});

describe('the check where registry data enters the aggregate, and its limits', () => {
  it('a bad instance or service is left out with a reason; the rest is served', () => {
    const good = web('web.service.consul', ['192.0.2.1']);
    const bad: RegistryService = {
      ...good,
      instances: [
        ...good.instances,
        { ...instance('192.0.2.2'), port: 1.5 },
        { ...instance('192.0.2.3'), weight: 2 ** 32 },
        instance('not-an-ip'),
      ],
    };
    const registry = new MemoryRegistry('m', [bad, web('we\u0000b.service.consul', ['192.0.2.4'])]);
    const aggregate = new AggregateRegistry([registry]);
    aggregate.start();
    assert.deepEqual(
      aggregate.services().map((s) => [s.hostname, s.instances.map((i) => i.address)]),
      [['web.service.consul', ['192.0.2.1']]],
    );
    const status = registry.status();
    assert.equal(status.dropped, 4);
    assert.equal(status.lastError?.kind, 'content');
    assert.deepEqual(
      status.itemErrors.map((e) => e.message.replace(/ left out: .*/, '')),
      [
        'instance "192.0.2.2" port 1.5',
        'instance "192.0.2.3" port 9000',
        'instance "not-an-ip" port 9000',
        'service',
      ],
    );
    registry.set([good]);
    assert.equal(registry.status().dropped, 0);
    assert.equal(registry.status().lastError, undefined, 'a clean update clears the content error');
  });

  it('counts over a limit keep the previous content; the aggregate bounds a hostname over registries', () => {
    const registry = new MemoryRegistry('m', [web('web.service.consul', ['192.0.2.1'])]);
    const limited = new MemoryRegistry('l');
    const aggregate = new AggregateRegistry([registry, limited], { maxEndpointsPerCluster: 2 });
    aggregate.start();
    limited.set([web('web.service.consul', ['192.0.2.2', '192.0.2.3'])]);
    assert.deepEqual(
      aggregate.services()[0]?.instances.map((i) => i.address),
      ['192.0.2.1'],
    );
    assert.match(aggregate.conflicts()[0]?.message ?? '', /maxEndpointsPerCluster/);
    const capped = new MemoryRegistry('capped', undefined, { maxInstancesPerService: 2 });
    capped.set([web('a.service.consul', ['192.0.2.1'])]);
    capped.set([web('a.service.consul', ['192.0.2.1', '192.0.2.2', '192.0.2.3'])]);
    assert.equal(capped.status().lastError?.kind, 'limit');
    assert.match(capped.status().lastError?.message ?? '', /maxInstancesPerService/);
    assert.equal(capped.services()[0]?.instances.length, 1, 'the previous content stays');
  });

  it('L2: an instance whose labels pass maxInstanceLabelBytes is left out, naming the limit', () => {
    const service = web('web.service.consul', ['192.0.2.1']);
    const heavy = {
      ...service,
      instances: [...service.instances, instance('192.0.2.2', { big: 'v'.repeat(100) })],
    };
    const registry = new MemoryRegistry('m', [heavy], { maxInstanceLabelBytes: 64 });
    registry.start();
    assert.deepEqual(
      registry.services()[0]?.instances.map((i) => i.address),
      ['192.0.2.1'],
    );
    assert.match(
      registry.status().itemErrors[0]?.message ?? '',
      /instance "192.0.2.2" port 9000 left out: its labels are 103 bytes, over the limit of 64 \(maxInstanceLabelBytes\)/,
    );
  });

  it('instances that serve only their own port: a model service per port, endpoints add up to the instances', () => {
    const instances: RegistryInstance[] = [];
    const ports = [];
    for (let i = 0; i < 50; i++) {
      const name = `tcp-${9000 + i}`;
      ports.push({ name, port: 9000 + i, protocol: 'TCP' as const });
      instances.push({
        ...instance('192.0.2.1'),
        port: 9000 + i,
        ports: { [name]: 9000 + i },
        onlyNamedPorts: true,
      });
    }
    const registry = new MemoryRegistry('m', [
      { hostname: 'fan.service.consul', name: 'fan', namespace: 'consul', ports, instances },
    ]);
    const aggregate = new AggregateRegistry([registry]);
    aggregate.start();
    const model = serviceModelOf(aggregate.services());
    assert.equal(model.services.length, 50);
    assert.equal(
      model.services.reduce((n, s) => n + s.endpoints.length, 0),
      50,
    );
    assert.ok(model.services.every((s) => s.endpoints[0]?.port === s.ports[0]?.port));
  });
});
