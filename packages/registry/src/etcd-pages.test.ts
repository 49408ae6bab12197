// The etcd adapter's list in ranges (rule L2): the first list of the prefix used to be one range response, read
// whole and applied in one turn of the event loop; past gRPC's 4 MiB message bound (six values of 900 KB) it was
// refused for ever, and the registry never synced. Now it is read in ranges of `listPageSize` keys at the revision
// of the first, each bounded by `maxPageBytes` (a range past it is asked again with half the keys); one key past it
// is a registry error naming the limit. A real etcd answers (started on 127.0.0.1 free ports).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { type RunningEtcd, startEtcd } from '../../../scripts/registries/servers.mjs';
import { EtcdRegistry } from './etcd.js';
import { listEtcdPaged } from './etcd-list.js';
import { until } from './test-support.js';

function doc(name: string): string {
  return JSON.stringify({
    name,
    namespace: 'default',
    ports: [{ name: 'http', port: 8080 }],
    endpoints: [{ address: '192.0.2.1', port: 9000 }],
  });
}

describe('EtcdRegistry lists in ranges (real etcd)', () => {
  let etcd: RunningEtcd;
  let dir: string;
  let client: Etcd3;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xds-etcd-pages-'));
    etcd = await startEtcd({ dir });
    client = new Etcd3({ hosts: etcd.url });
  });

  after(async () => {
    client.close();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
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
      await until(
        registry,
        () => /maxPageBytes/.test(registry.status().lastError?.message ?? ''),
        'the page limit error',
        60_000,
      );
      assert.match(
        registry.status().lastError?.message ?? '',
        /etcd list of \/one\/services\/: one key's range is over the limit of 524288 bytes \(maxPageBytes\)/,
      );
      assert.equal(registry.status().synced, false);
    } finally {
      await registry.stop();
    }
  });
});
