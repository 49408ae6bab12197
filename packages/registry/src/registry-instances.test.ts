// Rule L2 at the one point where every adapter's data enters the aggregate (`RegistryBase.replaceServices`): the
// instances of one registry over all its services are bounded by `maxRegistryInstances` (default 100,000), whatever
// the adapter. Before (probe4 F2), only services per registry and instances per service were bounded, so a registry
// could hold 10,000 × 10,000 instances; past the limit the update is a `limit` error and the last content stays.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryRegistry } from './memory.js';
import { defaultRegistryLimits } from './registry-limits.js';
import type { RegistryService } from './types.js';

function service(name: string, instances: number): RegistryService {
  return {
    hostname: `${name}.example`,
    name,
    namespace: 'default',
    ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
    instances: Array.from({ length: instances }, (_, i) => ({
      address: `192.0.2.${i + 1}`,
      port: 8080,
      ports: { http: 8080 },
      labels: {},
      locality: { region: '', zone: '', subZone: '' },
      weight: 1,
      healthy: true,
    })),
  };
}

describe('maxRegistryInstances', () => {
  it('L2: counts instances over every service of one registry; past it the last content stays, stale, with a limit error', () => {
    assert.equal(defaultRegistryLimits.maxRegistryInstances, 100_000);
    const registry = new MemoryRegistry('memory', undefined, { maxRegistryInstances: 5 });
    registry.set([service('a', 3), service('b', 2)]);
    assert.equal(registry.status().instances, 5);
    assert.equal(registry.status().lastError, undefined);
    registry.set([service('a', 3), service('b', 2), service('c', 1)]);
    const status = registry.status();
    assert.equal(status.stale, true);
    assert.equal(status.lastError?.kind, 'limit');
    assert.match(
      status.lastError?.message ?? '',
      /^6 instances over all services is over the limit of 5 \(maxRegistryInstances\)$/,
    );
    assert.deepEqual(
      registry.services().map((s) => `${s.name} ${s.instances.length}`),
      ['a 3', 'b 2'],
    );
    registry.set([service('c', 1)]);
    assert.equal(registry.status().stale, false);
    assert.equal(registry.status().instances, 1);
  });
});
