// Rule L4 on the running server: a model at the generation limits (1,000 endpoints x 99 subsets, 100,000 generated
// endpoints) was generated on the event loop in one piece, once per change (4.2 s at load 48), and /healthz and
// every xDS client waited. Now it is published in slices: the probes below are answered while the new snapshots
// are still being made, and the snapshots are then set whole.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';
import type { ReferenceServer } from './reference-server.js';
import { get, save, startInProcess, tempDir } from './test-support.js';

/** One service of 1,000 endpoints and 99 subsets selecting all of them; endpoint 0 serves on `port`. */
function limitsModel(port: number): string {
  const endpoints = Array.from(
    { length: 1000 },
    (_, i) =>
      `      - { address: 10.0.${i >> 8}.${i & 255}, port: ${i === 0 ? port : 8080}, labels: { app: wide } }`,
  );
  const subsets = Array.from({ length: 99 }, (_, i) => `      - { name: v${i}, labels: { app: wide } }`);
  return [
    'services:',
    '  - name: wide',
    '    ports: [{ name: http, port: 80 }]',
    '    endpoints:',
    ...endpoints,
    '    subsets:',
    ...subsets,
    '',
  ].join('\n');
}

/** Only a failure waits this long: reading and generating at load 40 on 2 cores takes tens of seconds. */
const waitMs = 600_000;

describe('publishing a model at the limits (rule L4)', () => {
  let temp: ReturnType<typeof tempDir>;
  let file: string;
  let server: ReferenceServer;

  before(async () => {
    temp = tempDir();
    file = join(temp.dir, 'mesh.yaml');
    writeFileSync(file, limitsModel(8080));
    ({ server } = await startInProcess(file, { reloadTimeoutMs: waitMs }));
  });

  after(async () => {
    await server?.close();
    temp?.remove();
  });

  it('L4: /healthz and a new xDS client are answered while a change is generated; the snapshots are set whole after', async () => {
    const { cache } = server;
    const before = { envoy: cache.getSnapshot('envoy'), grpc: cache.getSnapshot('grpc') };
    assert.equal(before.envoy?.resources(TypeUrl.Endpoint).size, 100);
    const sets: string[] = [];
    cache.on('snapshot', ({ key }) => sets.push(key));
    const applied = new Promise<number>((resolve) =>
      // the server's own listener (registered first) starts publishing; this one runs right after it
      server.model.once('applied', () => resolve(sets.length)),
    );
    const setAll = new Promise<void>((resolve) => {
      const listener = () => {
        if (sets.length < 2) return;
        cache.off('snapshot', listener);
        resolve();
      };
      cache.on('snapshot', listener);
    });
    save(file, limitsModel(9090));
    const setWhenApplied = await applied;
    // generating 100 assignments of 1,000 endpoints takes many slices: the probes are answered between them
    const health = await get(server.adminAddress, '/healthz');
    const probe = new XdsTestClient({ address: server.xdsAddress, node: 'during-publish' });
    let clusters: number;
    try {
      probe.subscribe(TypeUrl.Cluster, ['*']);
      clusters = (await probe.next(TypeUrl.Cluster, { timeoutMs: waitMs })).resources.length;
    } finally {
      await probe.close();
    }
    const setWhenAnswered = sets.length;
    await Promise.race([
      setAll,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no snapshots set')), waitMs).unref()),
    ]);
    assert.equal(health.status, 200);
    assert.equal(clusters, 100, 'the clusters of the snapshot served until the new one is complete');
    assert.equal(setWhenApplied, 0, 'the change was not generated in one piece when it was applied');
    assert.equal(setWhenAnswered, 0, '/healthz and xDS were answered before the new snapshots were set');
    assert.deepEqual(sets, ['envoy', 'grpc'], 'both flavours set once, together');
    const envoy = cache.getSnapshot('envoy')!;
    assert.notEqual(envoy.version(TypeUrl.Endpoint), before.envoy?.version(TypeUrl.Endpoint));
    assert.equal(
      envoy.version(TypeUrl.Cluster),
      before.envoy?.version(TypeUrl.Cluster),
      'clusters unchanged',
    );
    const whole = envoy.resources(TypeUrl.Endpoint).get('outbound|80||wide.default.svc.cluster.local');
    assert.match(JSON.stringify(whole?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier.value), /9090/);
  });
});
