// The etcd adapter against a real etcd (started on 127.0.0.1 free ports): documents in the model file's schema
// become services; watch changes, bad documents, a restart (stale, nothing pushed) and a compacted revision.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Etcd3 } from 'etcd3';
import { holdPort } from '../../../scripts/registries/held-port.mjs';
import { type RunningEtcd, startEtcd } from '../../../scripts/registries/servers.mjs';
import { EtcdRegistry } from './etcd.js';
import { assertBurstCoalesced, endpointLines, serveRegistry, until } from './test-support.js';

const host = 'web.default.svc.cluster.local';

function webDoc(addresses: readonly [string, string][]) {
  return JSON.stringify({
    name: 'web',
    namespace: 'default',
    ports: [{ name: 'http', port: 8080 }],
    endpoints: addresses.map(([address, version]) => ({
      address,
      port: 9000,
      labels: { version },
      locality: { zone: `zone-${version}` },
    })),
    subsets: [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
    ],
  });
}

describe('EtcdRegistry (real etcd)', () => {
  let etcd: RunningEtcd;
  let dir: string;
  let client: Etcd3;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xds-etcd-test-'));
    etcd = await startEtcd({ dir });
    client = new Etcd3({ hosts: etcd.url });
  });

  after(async () => {
    client.close();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two instances in two subsets reach CDS and EDS through a real xDS client; changes follow', async () => {
    await client.put('/t1/services/default/web').value(
      webDoc([
        ['192.0.2.1', 'v1'],
        ['192.0.2.2', 'v2'],
      ]),
    );
    const registry = new EtcdRegistry(`${etcd.url}/t1`);
    const xds = await serveRegistry(registry);
    const { aggregate } = xds;
    try {
      await until(aggregate, () => aggregate.synced(), 'etcd to sync');
      const v1 = `outbound|8080|v1|${host}`;
      const v2 = `outbound|8080|v2|${host}`;
      const sidecar = xds.client([v1, v2]);
      await sidecar.waitFor(TypeUrl.Cluster, (r) =>
        [`outbound|8080||${host}`, v1, v2].every((n) => r.names.includes(n)),
      );
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) =>
          endpointLines(state.resources, v1).join() === '192.0.2.1:9000 HEALTHY /zone-v1' &&
          endpointLines(state.resources, v2).join() === '192.0.2.2:9000 HEALTHY /zone-v2',
      );
      // a watch event: v2 moves to another address
      await client.put('/t1/services/default/web').value(
        webDoc([
          ['192.0.2.1', 'v1'],
          ['192.0.2.3', 'v2'],
        ]),
      );
      await sidecar.waitFor(
        TypeUrl.Endpoint,
        (_r, state) => endpointLines(state.resources, v2).join() === '192.0.2.3:9000 HEALTHY /zone-v2',
      );
      // a delete removes the service's clusters
      await client.delete().key('/t1/services/default/web');
      await sidecar.waitFor(TypeUrl.Cluster, (r) => !r.names.some((n) => n.endsWith(host)));
    } finally {
      await xds.close();
    }
  });

  it('a bad document is left out and reported as an item error; the others are served', async () => {
    await client.put('/t2/services/default/web').value(
      webDoc([
        ['192.0.2.1', 'v1'],
        ['192.0.2.2', 'v2'],
      ]),
    );
    await client.put('/t2/services/default/bad').value('{"name":"bad","ports":[{"port":70000}]}');
    await client.put('/t2/services/default/other').value(
      webDoc([
        ['192.0.2.8', 'v1'],
        ['192.0.2.9', 'v2'],
      ]),
    );
    const registry = new EtcdRegistry(`${etcd.url}/t2`);
    registry.start();
    try {
      await until(registry, () => registry.status().synced, 'etcd to sync');
      assert.deepEqual(
        registry.services().map((s) => s.hostname),
        [host],
      );
      const problems = registry.status().itemErrors.map((e) => `${e.item}: ${e.message}`);
      assert.equal(problems.length, 2);
      assert.match(problems.join('\n'), /default\/bad: .*70000/);
      assert.match(problems.join('\n'), /default\/other: the document names default\/web/);
    } finally {
      await registry.stop();
    }
  });

  it('a restart keeps the services (stale, nothing pushed); a compacted revision lists again', async () => {
    await client.put('/t3/services/default/web').value(
      webDoc([
        ['192.0.2.1', 'v1'],
        ['192.0.2.2', 'v2'],
      ]),
    );
    // the registry reaches etcd through a port this test holds: each etcd below starts on fresh ports behind it (the
    // ports a stopped etcd gave back may be taken by another process before it could bind them again)
    const front = await holdPort(etcd.clientPort);
    const registry = new EtcdRegistry(`${front.url}/t3`, { maxBackoffMs: 300 });
    const xds = await serveRegistry(registry);
    const { aggregate } = xds;
    try {
      await until(aggregate, () => aggregate.synced(), 'etcd to sync');
      const pushes = xds.pushes();
      assert.equal(pushes, 1);
      client.close();
      front.forwardTo(undefined);
      await etcd.stop();
      await until(registry, () => registry.status().stale, 'the registry to notice etcd is gone').catch(
        (error: Error) => {
          throw new Error(`${error.message}: ${JSON.stringify(registry.status())}`);
        },
      );
      assert.equal(registry.services().length, 1);
      assert.equal(xds.pushes(), pushes);

      // etcd comes back where the registry cannot reach it first: a change is made and compacted away before the
      // registry can resume
      etcd = await startEtcd({ dir });
      client = new Etcd3({ hosts: etcd.url });
      // two revisions, so the compaction passes the revision the registry resumes from
      await client.put('/t3/services/default/web').value(
        webDoc([
          ['192.0.2.6', 'v1'],
          ['192.0.2.2', 'v2'],
        ]),
      );
      await client.put('/t3/services/default/web').value(
        webDoc([
          ['192.0.2.7', 'v1'],
          ['192.0.2.2', 'v2'],
        ]),
      );
      const { header } = await client.get('/t3/services/default/web').exec();
      // compaction needs the KV client's compact RPC
      await (client as unknown as { kv: { compact(r: object): Promise<unknown> } }).kv.compact({
        revision: header.revision,
        physical: true,
      });
      client.close();
      await etcd.stop();
      etcd = await startEtcd({ dir });
      client = new Etcd3({ hosts: etcd.url });
      front.forwardTo(etcd.clientPort);
      await until(
        registry,
        () => registry.services()[0]?.instances.some((i) => i.address === '192.0.2.7') === true,
        'the registry to list again after the compaction',
      );
      assert.equal(registry.status().stale, false);
      // one push: the relisted content, never the compacted intermediate state
      assert.equal(xds.pushes(), pushes + 1);
    } finally {
      await xds.close();
      await front.close();
    }
  });

  it('L2: a burst of 40 watch events costs one update per minRegistryUpdateMs, not one each', async () => {
    const intervalMs = 1000;
    const registry = new EtcdRegistry(`${etcd.url}/t4`, { limits: { minRegistryUpdateMs: intervalMs } });
    registry.start();
    try {
      await until(registry, () => registry.status().synced, 'etcd to sync');
      await assertBurstCoalesced(
        registry,
        intervalMs,
        () =>
          Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              client.put(`/t4/services/default/s${i}`).value(
                JSON.stringify({
                  name: `s${i}`,
                  namespace: 'default',
                  ports: [{ name: 'http', port: 8080 }],
                  endpoints: [{ address: `192.0.2.${i + 1}`, port: 9000 }],
                }),
              ),
            ),
          ),
        () => registry.services().length === 40,
        '40 events (the 40 services)',
      );
    } finally {
      await registry.stop();
    }
  });
});
