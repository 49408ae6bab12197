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
