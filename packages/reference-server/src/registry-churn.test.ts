// Registry churn against a real etcd (rule L2, the threat model's "stall xDS"): every registry change used to make
// the snapshots again at once, so a rolling restart's thousands of watch events meant thousands of generations and
// a server that answered nothing else. Registry changes now mark the model dirty and the snapshots are made at most
// once per --debounce-ms (and never sooner after a generation than it took).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Etcd3 } from 'etcd3';
import { type RunningEtcd, startEtcd } from '../../../scripts/registries/servers.mjs';
import { createLogger } from './logger.js';
import { type ReferenceServer, startReferenceServer } from './reference-server.js';
import { get, memoryLog, poll } from './test-support.js';

function doc(name: string, address: string): string {
  return JSON.stringify({
    name,
    ports: [{ name: 'http', port: 8080 }],
    endpoints: [{ address, port: 9000 }],
  });
}

describe('xds-server over a real etcd in a burst of changes', () => {
  let etcd: RunningEtcd;
  let client: Etcd3;

  before(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.url });
  });

  after(async () => {
    client.close();
    await etcd.stop();
  });

  it('L2: 40 registry changes one after another cost one generation per --debounce-ms, not one each', async () => {
    const debounceMs = 1000;
    const log = memoryLog();
    let server: ReferenceServer | undefined;
    try {
      server = await startReferenceServer({
        xds: '127.0.0.1:0',
        admin: '127.0.0.1:0',
        logger: createLogger('debug', log.stream),
        debounceMs,
        closeGraceMs: 500,
        registries: [{ kind: 'etcd', location: `${etcd.url}/churn` }],
        // the registry itself applies each event at once: only the server's coalescing is measured
        registryLimits: { minRegistryUpdateMs: 1 },
      });
      const admin = server.adminAddress;
      await poll(
        'ready',
        async () => ((await get(admin, '/readyz')).status === 200 ? true : undefined),
        30_000,
      );
      const generations = () => log.lines.filter((line) => line.msg === 'snapshots set').length;
      const before = generations();
      const started = performance.now();
      for (let i = 0; i < 40; i++) {
        await client.put(`/churn/services/default/s${i}`).value(doc(`s${i}`, `192.0.2.${i + 1}`));
      }
      const cache = server.cache;
      await poll(
        'the 40 services served',
        () =>
          cache
            .getSnapshot('envoy')
            ?.resources(TypeUrl.Cluster)
            .has('outbound|8080||s39.default.svc.cluster.local')
            ? true
            : undefined,
        60_000,
      );
      const elapsed = performance.now() - started;
      const made = generations() - before;
      // one per debounce interval, the first after a full interval, and one that may have been waiting
      assert.ok(
        made <= Math.floor(elapsed / debounceMs) + 2,
        `${made} generations for 40 changes in ${Math.round(elapsed)} ms`,
      );
      assert.ok(made >= 1, 'the changes were published');
    } finally {
      await server?.close();
    }
  });
});
