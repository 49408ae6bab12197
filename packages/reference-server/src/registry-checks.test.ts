// xds-server --registry consul=… over a real Consul holding instances it accepts and clients cannot take (a port of
// -1, an address that is not an IP literal): before the check where registry data enters the aggregate, one such
// instance made every generation fail, so nothing was served (not even the model file's services) while /readyz
// said 200 and the registry showed SYNCED. Now the bad instances are left out with their reason on /debug/syncz and
// the status page, the rest of the service and the file's services are served, and a file change still applies.
// A generation that fails all the same (a model file whose weights, with the registry's, pass uint32) is shown on
// /readyz (503 with the reason) and the status page, and the file is served with the registries' last good services.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';
import { type RunningServer, startConsul } from '../../../scripts/registries/servers.mjs';
import { createLogger } from './logger.js';
import { startReferenceServer } from './reference-server.js';
import type { RegistriesSummary } from './registries.js';
import { get, getJson, memoryLog, poll, save, tempDir } from './test-support.js';

async function register(base: string, registration: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${base}/v1/agent/service/register`, {
    method: 'PUT',
    body: JSON.stringify(registration),
  });
  assert.equal(response.status, 200, await response.text());
}

const fileModel = (names: string[]) =>
  `services:\n${names.map((n) => `  - name: ${n}\n    ports: [{ name: http, port: 80 }]\n    endpoints: [{ address: 192.0.2.50 }]\n`).join('')}`;

describe('xds-server over a real Consul holding bad instances', () => {
  let consul: RunningServer;
  let temp: ReturnType<typeof tempDir>;

  before(async () => {
    consul = await startConsul();
    temp = tempDir();
  });

  after(async () => {
    await consul.stop();
    temp.remove();
  });

  it('bad instances are left out and shown; the rest and the file are served, and a file change applies', async () => {
    const meta = { protocol: 'http', service_port: '8080' };
    await register(consul.url, { Name: 'web', ID: 'ok', Address: '192.0.2.1', Port: 9000, Meta: meta });
    await register(consul.url, { Name: 'web', ID: 'negative', Address: '192.0.2.2', Port: -1, Meta: meta });
    await register(consul.url, { Name: 'web', ID: 'host', Address: 'not-an-ip', Port: 9000, Meta: meta });
    const file = join(temp.dir, 'mesh.yaml');
    writeFileSync(file, fileModel(['own']));
    const server = await startReferenceServer({
      config: file,
      xds: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      logger: createLogger('debug', memoryLog().stream),
      debounceMs: 20,
      pollMs: 200,
      closeGraceMs: 500,
      registries: [{ kind: 'consul', location: consul.url }],
      registryLimits: { maxRegistryServices: 100 },
    });
    const client = new XdsTestClient({ address: server.xdsAddress, node: 'sidecar', timeoutMs: 30_000 });
    try {
      const web = 'outbound|8080||web.service.consul';
      await poll(
        'ready',
        async () => ((await get(server.adminAddress, '/readyz')).status === 200 ? true : undefined),
        30_000,
      );
      client.subscribe(TypeUrl.Cluster, ['*']);
      client.subscribe(TypeUrl.Endpoint, [web]);
      await client.waitFor(TypeUrl.Cluster, (r) =>
        [web, 'outbound|80||own.default.svc.cluster.local'].every((n) => r.names.includes(n)),
      );
      const eds = await client.waitFor(TypeUrl.Endpoint, (r) => r.names.includes(web));
      assert.equal(eds.resources.length, 1);
      const syncz = await getJson<{ registries: RegistriesSummary }>(server.adminAddress, '/debug/syncz');
      const [consulView] = syncz.registries.registries;
      assert.equal(consulView?.dropped, 2);
      assert.match(consulView?.lastError?.message ?? '', /2 items left out/);
      const reasons = consulView?.itemErrors.map((e) => e.message).join('\n') ?? '';
      assert.match(reasons, /"not-an-ip" is not an IP literal/);
      assert.match(reasons, /port -1 is not a whole number from 1 to 65535/);
      assert.equal(syncz.registries.generationError, undefined);
      const page = (await get(server.adminAddress, '/')).body;
      assert.match(page, /2 items left out/);
      assert.match((await get(server.adminAddress, '/metrics')).body, /xds_registry_dropped\{[^}]*\} 2/);
      // a model file change is applied (nothing is frozen by the registry's data)
      save(file, fileModel(['own', 'second']));
      await client.waitFor(TypeUrl.Cluster, (r) =>
        r.names.includes('outbound|80||second.default.svc.cluster.local'),
      );
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('a failed generation is shown on /readyz and the status page; the file is served, and a fix applies', async () => {
    for (let i = 0; i < 15; i++) {
      await register(consul.url, {
        Name: 'heavy',
        ID: `heavy-${i}`,
        Address: `192.0.2.${100 + i}`,
        Port: 9000,
        Weights: { Passing: 65535, Warning: 1 },
      });
    }
    // 4,294 endpoints of weight 1,000,000 are a valid file; with the registry's 15 × 65,535 the locality weight
    // passes 2^32 - 1 and the generator cannot encode it
    const heavy = (weight: number) =>
      `services:\n  - name: heavy\n    namespace: consul\n    ports: [{ name: http, port: 8080 }]\n    endpoints:\n${Array.from(
        { length: 4294 },
        (_, i) =>
          `      - { address: 10.1.${i >> 8}.${i & 255}, weight: ${weight}, locality: { region: dc1 } }\n`,
      ).join('')}`;
    const file = join(temp.dir, 'heavy.yaml');
    writeFileSync(file, heavy(1_000_000));
    const server = await startReferenceServer({
      config: file,
      xds: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      logger: createLogger('debug', memoryLog().stream),
      debounceMs: 20,
      pollMs: 200,
      closeGraceMs: 500,
      registries: [{ kind: 'consul', location: consul.url }],
    });
    const client = new XdsTestClient({ address: server.xdsAddress, node: 'sidecar', timeoutMs: 30_000 });
    try {
      const readyz = await poll(
        'readyz naming the failed generation',
        async () => {
          const answer = await get(server.adminAddress, '/readyz');
          return answer.status === 503 && /generating the snapshots failed/.test(answer.body)
            ? answer
            : undefined;
        },
        30_000,
      );
      assert.match(readyz.body, /invalid uint32/);
      assert.match(readyz.body, /serving the model file with the registries' last good services/);
      const syncz = await getJson<{ registries: RegistriesSummary }>(server.adminAddress, '/debug/syncz');
      assert.match(syncz.registries.generationError?.message ?? '', /invalid uint32/);
      assert.match((await get(server.adminAddress, '/')).body, /id="generation-error"/);
      // the file is served (with the registries' last good services: none yet), not nothing
      client.subscribe(TypeUrl.Cluster, ['*']);
      await client.waitFor(TypeUrl.Cluster, (r) =>
        r.names.includes('outbound|8080||heavy.consul.svc.cluster.local'),
      );
      save(file, heavy(1));
      await poll(
        'ready after the fix',
        async () => ((await get(server.adminAddress, '/readyz')).status === 200 ? true : undefined),
        30_000,
      );
      await client.waitFor(TypeUrl.Cluster, (r) => r.names.includes('outbound|8080||heavy.service.consul'));
      const fixed = await getJson<{ registries: RegistriesSummary }>(server.adminAddress, '/debug/syncz');
      assert.equal(fixed.registries.generationError, undefined);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
