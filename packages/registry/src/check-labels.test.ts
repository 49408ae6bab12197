// Rules L2 and L4 at the one point where every adapter's data enters the aggregate (`RegistryBase`): labels are
// strings within `maxInstanceLabelBytes`, whatever an adapter passes, and an update that throws in its timer is a
// registry problem, not the end of the process. Before: a non-string label value was served (counted as 0 bytes)
// and a throwing update escaped its timer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryRegistry } from './memory.js';
import { RegistryBase } from './registry-base.js';
import { until } from './test-support.js';
import type { RegistryInstance, RegistryService } from './types.js';

function instance(address: string, labels: unknown): RegistryInstance {
  return {
    address,
    port: 8080,
    ports: { http: 8080 },
    labels: labels as Record<string, string>,
    locality: { region: '', zone: '', subZone: '' },
    weight: 1,
    healthy: true,
  };
}

function service(instances: RegistryInstance[]): RegistryService {
  return {
    hostname: 'web.example',
    name: 'web',
    namespace: 'default',
    ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
    instances,
  };
}

/** A registry whose one update throws, as an adapter's would on data its code did not foresee. */
class ThrowingRegistry extends RegistryBase {
  readonly kind = 'memory' as const;
  readonly location = 'throwing';
  start(): void {
    this.scheduleUpdate(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
  }
  async stop(): Promise<void> {
    this.cancelUpdate();
  }
}

describe('registry labels and updates (RegistryBase)', () => {
  it('L2: an instance with a non-string label value is left out and counted as an item error', () => {
    const nested: unknown = { version: 'v1', blob: Array.from({ length: 20_000 }, (_, k) => ({ k })) };
    const registry = new MemoryRegistry('labels', undefined, { maxInstanceLabelBytes: 4096 });
    registry.set([
      service([
        instance('192.0.2.1', { version: 'v1' }),
        instance('192.0.2.2', nested),
        instance('192.0.2.3', 7),
      ]),
    ]);
    const [web] = registry.services();
    assert.deepEqual(
      web?.instances.map((i) => i.address),
      ['192.0.2.1'],
    );
    const status = registry.status();
    assert.equal(status.dropped, 2);
    assert.equal(status.lastError?.kind, 'content');
    assert.match(status.itemErrors[0]?.message ?? '', /192\.0\.2\.2.*label "blob" is not a string/);
    assert.match(status.itemErrors[1]?.message ?? '', /192\.0\.2\.3.*labels are not a map of strings/);
  });

  it('L4: an update that throws in its timer is reported as a registry problem; the process goes on', async () => {
    const registry = new ThrowingRegistry();
    registry.start();
    try {
      await until(registry, () => registry.status().lastError !== undefined, 'the problem', 20_000);
      const { lastError, synced } = registry.status();
      assert.equal(synced, false);
      assert.equal(lastError?.kind, 'content');
      assert.match(lastError?.message ?? '', /update failed: Maximum call stack size exceeded/);
    } finally {
      await registry.stop();
    }
  });
});
