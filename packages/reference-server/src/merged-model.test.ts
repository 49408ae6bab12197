// The model limits on the merge of the model file and a real etcd registry (rule L2; review finding R5). Each
// registry document passes the registry's checks and the file passes its reader's, but the server generates from
// their merge: registry services that each fit, or a file service whose subsets each select every instance the
// registry brings, went past maxGeneratedEndpoints and were generated all the same. Now such a merge is refused,
// named by limit, service and source on /debug/syncz, the status page and the metrics, and the last good snapshots
// stay (the server stays ready, as with a refused file); a registry change back under the limit applies.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';
import { Etcd3 } from 'etcd3';
import { type RunningEtcd, startEtcd } from '../../../scripts/registries/servers.mjs';
import { createLogger } from './logger.js';
import { type ReferenceServer, startReferenceServer } from './reference-server.js';
import type { RegistriesSummary } from './registries.js';
import { get, getJson, memoryLog, poll, tempDir } from './test-support.js';

/** A registry document: one service of one port with `count` endpoints labelled `app: <name>`. */
function doc(name: string, count: number): string {
  return JSON.stringify({
    name,
    ports: [{ name: 'http', port: 8080 }],
    endpoints: Array.from({ length: count }, (_, i) => ({
      address: `192.0.2.${i + 1}`,
      port: 9000,
      labels: { app: name },
    })),
  });
}

const limits = { maxGeneratedEndpoints: 50 };

async function generationError(server: ReferenceServer): Promise<string | undefined> {
  const syncz = await getJson<{ registries: RegistriesSummary }>(server.adminAddress, '/debug/syncz');
  return syncz.registries.generationError?.message;
}

async function metric(server: ReferenceServer, line: RegExp): Promise<string | undefined> {
  return line.exec((await get(server.adminAddress, '/metrics')).body)?.[0];
}

describe('xds-server: the model merged from the file and a real etcd is bounded by the model limits', () => {
  let etcd: RunningEtcd;
  let client: Etcd3;
  let temp: ReturnType<typeof tempDir>;

  before(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.url });
    temp = tempDir();
  });

  after(async () => {
    client.close();
    await etcd.stop();
    temp.remove();
  });

  async function start(prefix: string, fileText: string): Promise<ReferenceServer> {
    const config = join(temp.dir, `${prefix}.yaml`);
    writeFileSync(config, fileText);
    const server = await startReferenceServer({
      config,
      xds: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      logger: createLogger('debug', memoryLog().stream),
      debounceMs: 20,
      closeGraceMs: 500,
      modelLimits: limits,
      registries: [{ kind: 'etcd', location: `${etcd.url}/${prefix}` }],
    });
    await poll('ready', async () =>
      (await get(server.adminAddress, '/readyz')).status === 200 ? true : undefined,
    );
    return server;
  }

  it('L2: registry services that each fit are refused together past maxGeneratedEndpoints, naming etcd; the last good snapshots stay', async () => {
    await client.put('/r5a/services/default/s1').value(doc('s1', 30));
    const server = await start('r5a', 'services:\n  - name: web\n    ports: [{ name: http, port: 80 }]\n');
    const xds = new XdsTestClient({ address: server.xdsAddress, node: 'sidecar', timeoutMs: 30_000 });
    try {
      xds.subscribe(TypeUrl.Cluster, ['*']);
      await xds.waitFor(TypeUrl.Cluster, (r) =>
        r.names.includes('outbound|8080||s1.default.svc.cluster.local'),
      );
      // 30 + 30 endpoints: over 50 together; generated all the same before
      await client.put('/r5a/services/default/s2').value(doc('s2', 30));
      const message = await poll('the merge refused', () => generationError(server), 20_000);
      assert.match(
        message,
        /^the merged model was refused \(the model merged from .*r5a\.yaml and the registries/,
      );
      assert.match(message, /services\[2\] s2\.default \(from etcd http:\/\/127\.0\.0\.1:\d+\/r5a\)/);
      assert.match(message, /more than 50 endpoints .*the limit is maxGeneratedEndpoints/);
      assert.match(message, /serving the model file with the registries' last good services$/);
      const clusters = server.cache.getSnapshot('envoy')?.resources(TypeUrl.Cluster);
      assert.equal(clusters?.has('outbound|8080||s1.default.svc.cluster.local'), true);
      assert.equal(clusters?.has('outbound|8080||s2.default.svc.cluster.local'), false);
      // served as a refused file is: ready, the refusal on the status page and in the metrics
      assert.equal((await get(server.adminAddress, '/readyz')).status, 200);
      assert.match((await get(server.adminAddress, '/')).body, /id="generation-error"/);
      assert.ok(await metric(server, /^xds_server_merge_errors 1$/m));
      assert.ok(await metric(server, /^xds_server_model_merges_total\{result="refused"\} [1-9]/m));
      // back under the limit: applied, and the refusal is gone
      await client.put('/r5a/services/default/s2').value(doc('s2', 10));
      await xds.waitFor(TypeUrl.Cluster, (r) =>
        r.names.includes('outbound|8080||s2.default.svc.cluster.local'),
      );
      await poll('the refusal cleared', async () =>
        (await generationError(server)) === undefined ? true : undefined,
      );
      assert.ok(await metric(server, /^xds_server_merge_errors 0$/m));
    } finally {
      await xds.close();
      await server.close();
    }
  });

  it("L2: a file service's subsets times a registry's instances are refused naming the file and etcd", async () => {
    await client.put('/r5b/services/default/reviews').value(doc('reviews', 10));
    const subsets = [1, 2, 3].map((v) => `{ name: v${v}, labels: { app: reviews } }`).join(', ');
    const server = await start(
      'r5b',
      `services:\n  - name: reviews\n    ports: [{ name: http, port: 8080 }]\n    subsets: [${subsets}]\n`,
    );
    try {
      // 10 instances in 4 clusters (the service and 3 subsets) fit; 15 are 60 endpoints
      const assignment = () =>
        server.cache
          .getSnapshot('envoy')
          ?.resources(TypeUrl.Endpoint)
          .get('outbound|8080|v1|reviews.default.svc.cluster.local');
      assert.ok(assignment() !== undefined);
      const before = assignment();
      await client.put('/r5b/services/default/reviews').value(doc('reviews', 15));
      const message = await poll('the merge refused', () => generationError(server), 20_000);
      assert.match(
        message,
        /services\[0\] reviews\.default \(the model file .*r5b\.yaml, with instances from etcd http:\/\/127\.0\.0\.1:\d+\/r5b\)/,
      );
      assert.match(message, /the limit is maxGeneratedEndpoints/);
      assert.equal(assignment(), before, 'the last good assignment stays');
    } finally {
      await server.close();
    }
  });
});
