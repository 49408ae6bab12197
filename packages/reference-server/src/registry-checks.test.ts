// xds-server --registry consul=… over a real Consul holding instances it accepts and clients cannot take (a port of
// -1, an address that is not an IP literal): before the check where registry data enters the aggregate, one such
// instance made every generation fail, so nothing was served (not even the model file's services) while /readyz
// said 200 and the registry showed SYNCED. Now the bad instances are left out with their reason on /debug/syncz and
// the status page, the rest of the service and the file's services are served, and a file change still applies.
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
      // a registry limit given with the xDS server's limits goes to the registries
      limits: { maxRegistryServices: 100 },
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
});
