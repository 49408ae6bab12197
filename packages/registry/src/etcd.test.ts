// The etcd adapter against a real etcd (started on 127.0.0.1 free ports): documents in the model file's schema
// become services; watch changes, bad documents, a restart (stale, nothing pushed) and a compacted revision; invalid
// keys are counted, not kept one by one (probe4 F9: 10,000 keys of 8,000 characters cost 85 MiB); the first list
// is read in ranges at one revision, each bounded in keys and bytes (it was one response: six values of 900 KB,
// past gRPC's 4 MiB, kept the registry from ever syncing).
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
import { listEtcdPaged } from './etcd-list.js';
import { assertBurstCoalesced, endpointLines, serveRegistry, until, untilError } from './test-support.js';

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

/** A service `name` in namespace `default` with one endpoint. */
function doc(name: string): string {
  return JSON.stringify({
    name,
    namespace: 'default',
    ports: [{ name: 'http', port: 8080 }],
    endpoints: [{ address: '192.0.2.1', port: 9000 }],
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

  it('L2: invalid keys are counted, not kept: 20 examples, each key cut to 256 bytes; the count follows puts and deletes', async () => {
    const long = 'k'.repeat(2_000);
    const bad = (i: number) => `/t9/services/bad/${i}/${long}`;
    const putAll = (keys: readonly string[]) => Promise.all(keys.map((k) => client.put(k).value('{}')));
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => bad(from + i));
    await client.put('/t9/services/default/web').value(doc('web'));
    await putAll(range(0, 10)); // listed
    const registry = new EtcdRegistry(`${etcd.url}/t9`);
    registry.start();
    try {
      await until(registry, () => registry.status().synced, 'etcd to sync');
      await putAll(range(10, 40)); // watched
      await until(registry, () => registry.status().dropped === 40, '40 invalid keys counted', 60_000);
      const { itemErrors } = registry.status();
      assert.equal(itemErrors.length, 20);
      for (const error of itemErrors) {
        assert.ok((error.item ?? '').length <= 300, `an item of ${error.item?.length} characters`);
        assert.ok(error.message.length <= 400, `a message of ${error.message.length} characters`);
        assert.match(
          error.item ?? '',
          /^\/t9\/services\/bad\/\d+\/k{230,}… \[cut: 20\d\d bytes, kept 256\]$/,
        );
      }
      assert.deepEqual(
        registry.services().map((s) => s.name),
        ['web'],
      );
      // a key put again is not counted twice; the valid document after it shows the puts were applied
      await putAll(range(0, 5));
      await client.put('/t9/services/default/fix').value('{}');
      await client.put('/t9/services/default/web2').value(doc('web2'));
      await until(registry, () => registry.services().length === 2, 'web2', 60_000);
      assert.equal(registry.status().dropped, 41);
      // an invalid key made valid, and deleted invalid keys, leave the count
      await client.put('/t9/services/default/fix').value(doc('fix'));
      await Promise.all(range(0, 15).map((k) => client.delete().key(k)));
      await until(registry, () => registry.status().dropped === 25, '25 invalid keys left', 60_000);
      assert.equal(registry.services().length, 3);
      await client.delete().prefix('/t9/services/bad/');
      await until(registry, () => registry.status().dropped === 0, 'no invalid key left', 60_000);
      assert.deepEqual(registry.status().itemErrors, []);
    } finally {
      await registry.stop();
    }
  });

  it('L2: a prefix of 5.4 MB (six values of 900 KB, past gRPC 4 MiB) is listed in ranges; every key counted, the services served', async () => {
    for (let i = 0; i < 6; i++) await client.put(`/big/services/default/fat-${i}`).value('x'.repeat(900_000));
    for (const name of ['a', 'b', 'c']) await client.put(`/big/services/default/${name}`).value(doc(name));
    const registry = new EtcdRegistry(`${etcd.url}/big`, { maxBackoffMs: 300 });
    registry.start();
    try {
      await until(registry, () => registry.status().synced, 'the registry synced', 60_000);
      assert.deepEqual(
        registry
          .services()
          .map((s) => s.name)
          .sort(),
        ['a', 'b', 'c'],
      );
      assert.equal(registry.status().dropped, 6, 'the six values that are not JSON, counted');
    } finally {
      await registry.stop();
    }
  });

  it('L2: ranges of listPageSize keys at one revision, in key order; a key past maxPageBytes is an error naming it', async () => {
    for (let i = 0; i < 7; i++) await client.put(`/paged/services/default/s-${i}`).value(doc(`s-${i}`));
    const seen: string[] = [];
    const listed = await listEtcdPaged(
      client,
      '/paged/services/',
      { pageSize: 2, maxPageBytes: 4 * 1024 * 1024, timeoutMs: 10_000 },
      new AbortController().signal,
      (kv) => seen.push(kv.key.toString()),
      () => seen.splice(0),
    );
    assert.deepEqual(
      seen,
      Array.from({ length: 7 }, (_, i) => `/paged/services/default/s-${i}`),
    );
    assert.equal(listed.pages, 4, 'four ranges of at most 2 keys');
    assert.equal(listed.requests, 4);

    await client.put('/one/services/default/huge').value('x'.repeat(900_000));
    const registry = new EtcdRegistry(`${etcd.url}/one`, { maxBackoffMs: 300, maxPageBytes: 512 * 1024 });
    registry.start();
    try {
      const status = await untilError(
        registry,
        /maxPageBytes/,
        'the page limit error',
        /etcd list of \/one\/services\/: one key's range is over the limit of 524288 bytes \(maxPageBytes\)/,
      );
      assert.equal(status.synced, false);
    } finally {
      await registry.stop();
    }
  });
});
