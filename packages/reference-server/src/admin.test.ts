import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import type { NackEvent } from '@xds/server';
import { XdsTestClient } from '@xds/testing';
import type { Syncz } from './admin/syncz.js';
import { reviewsModel } from './demo/demo-model.js';
import type { ReferenceServer } from './reference-server.js';
import { get, getJson, poll, save, startInProcess, tempDir } from './test-support.js';

const model = (v1: number, v2: number) => reviewsModel({ v1Port: 50051, v2Port: 50052, weights: { v1, v2 } });
const nackMessage = 'listener 0.0.0.0_9080: unknown filter <envoy.filters.http.nope>';

/** The value of a metric sample in Prometheus text, or undefined. */
function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('admin endpoints', () => {
  let temp: ReturnType<typeof tempDir>;
  let file: string;
  let server: ReferenceServer;
  let client: XdsTestClient;

  before(async () => {
    temp = tempDir();
    file = join(temp.dir, 'mesh.yaml');
    writeFileSync(file, model(100, 0));
    ({ server } = await startInProcess(file));
    const nacked = new Promise<NackEvent>((resolve) => server.xds.once('nack', resolve));
    client = new XdsTestClient({
      address: server.xdsAddress,
      node: 'envoy-1',
      nack: (response) => (response.typeUrl === TypeUrl.Listener ? nackMessage : undefined),
    });
    client.subscribe(TypeUrl.Cluster, ['*']);
    client.subscribe(TypeUrl.Route, ['9080']);
    client.subscribe(TypeUrl.Listener, ['*']);
    await client.waitFor(TypeUrl.Cluster, (r) => r.acked === true);
    await client.waitFor(TypeUrl.Route, (r) => r.acked === true);
    await nacked;
  });

  after(async () => {
    await client?.close();
    await server?.close();
    temp?.remove();
  });

  it('/debug/syncz shows per node and type the versions sent and acked, and the NACK message', async () => {
    const view = await getJson<Syncz>(server.adminAddress, '/debug/syncz');
    assert.equal(view.config.file, file);
    assert.equal(view.config.error, undefined);
    const node = view.nodes.find((n) => n.nodeId === 'envoy-1');
    assert.ok(node, 'node');
    assert.equal(node.key, 'envoy');
    const cds = node.types.find((t) => t.type === 'cds');
    assert.equal(cds?.status, 'SYNCED');
    assert.equal(cds?.ackedVersion, cds?.currentVersion);
    assert.equal(cds?.sentVersion, cds?.currentVersion);
    assert.ok(cds?.sentNonce, 'cds?.sentNonce');
    const lds = node.types.find((t) => t.type === 'lds');
    assert.equal(lds?.status, 'NACKED');
    assert.equal(lds?.nack?.message, nackMessage);
    assert.equal(lds?.ackedVersion, undefined);
  });

  it('/debug/adsz lists the connected clients and their subscriptions', async () => {
    const view = await getJson<{
      totalClients: number;
      clients: {
        nodeId: string;
        subscriptions: Record<string, { wildcard: boolean; names: string[]; count: number }>;
      }[];
    }>(server.adminAddress, '/debug/adsz');
    assert.equal(view.totalClients, 1);
    assert.equal(view.clients[0]?.nodeId, 'envoy-1');
    assert.deepEqual(view.clients[0]?.subscriptions['rds'], { wildcard: false, names: ['9080'], count: 1 });
    assert.equal(view.clients[0]?.subscriptions['cds']?.wildcard, true);
  });

  it("/debug/config_dump?node=ID gives the node's snapshot as proto3 JSON with what it ACKed and NACKed", async () => {
    const dump = await getJson<{
      node: { id: string };
      genericXdsConfigs: {
        typeUrl: string;
        name: string;
        clientStatus?: string;
        xdsConfig: Record<string, unknown>;
      }[];
    }>(server.adminAddress, '/debug/config_dump?node=envoy-1');
    assert.equal(dump.node.id, 'envoy-1');
    const cluster = dump.genericXdsConfigs.find(
      (c) => c.name === 'outbound|9080|v1|reviews.default.svc.cluster.local',
    );
    assert.equal(cluster?.clientStatus, 'ACKED');
    assert.equal(cluster?.xdsConfig['@type'], TypeUrl.Cluster);
    assert.equal(cluster?.xdsConfig['name'], cluster?.name);
    const listener = dump.genericXdsConfigs.find((c) => c.typeUrl === TypeUrl.Listener);
    assert.equal(listener?.clientStatus, 'NACKED');
    assert.equal((await get(server.adminAddress, '/debug/config_dump?node=grpc')).status, 200);
    assert.equal((await get(server.adminAddress, '/debug/config_dump?node=nobody')).status, 404);
    assert.equal((await get(server.adminAddress, '/debug/config_dump')).status, 400);
  });

  it('/debug/edsz, /debug/configz, /healthz, /readyz, and errors for unknown pages and methods', async () => {
    const edsz = await getJson<
      Record<string, { clusterLoadAssignments: Record<string, { endpoints: unknown[] }> }>
    >(server.adminAddress, '/debug/edsz');
    assert.deepEqual(Object.keys(edsz).sort(), ['envoy', 'grpc']);
    const v1 = edsz['grpc']?.clusterLoadAssignments['outbound|9080|v1|reviews.default.svc.cluster.local'];
    assert.equal(v1?.endpoints.length, 1);
    const configz = await getJson<{ generation: number; model: { services: { name: string }[] } }>(
      server.adminAddress,
      '/debug/configz',
    );
    assert.equal(configz.generation, 1);
    assert.deepEqual(
      configz.model.services.map((s) => s.name),
      ['productpage', 'details', 'reviews', 'ratings'],
    );
    assert.equal((await get(server.adminAddress, '/healthz')).status, 200);
    assert.equal((await get(server.adminAddress, '/readyz')).status, 200);
    assert.equal((await get(server.adminAddress, '/nope')).status, 404);
    assert.equal((await get(server.adminAddress, '/debug/syncz', 'POST')).status, 405);
  });

  it("/metrics counts pushes, rejects, stale nonces, clients, config reloads and a change's convergence", async () => {
    const first = client.responses(TypeUrl.Route).at(-1)!.versionInfo;
    save(file, model(50, 50));
    await client.waitFor(TypeUrl.Route, (r) => r.versionInfo !== first && r.acked === true);
    client.send({ typeUrl: TypeUrl.Cluster, responseNonce: 'not-the-latest', resourceNames: ['*'] });
    const metrics = await poll('convergence and the stale nonce in /metrics', async () => {
      const text = (await get(server.adminAddress, '/metrics')).body;
      const converged = sample(text, 'pilot_proxy_convergence_time_count') ?? 0;
      const stale = sample(text, 'pilot_xds_expired_nonce{type="cds"}') ?? 0;
      return converged >= 1 && stale >= 1 ? text : undefined;
    });
    assert.equal(sample(metrics, 'pilot_total_xds_rejects{type="lds"}'), 1);
    assert.equal(sample(metrics, 'pilot_xds'), 1);
    assert.ok(
      (sample(metrics, 'pilot_xds_pushes{type="cds"}') ?? 0) >= 1,
      '(sample(metrics, \'pilot_xds_pushes{type="cds"}\') ?? 0) >= 1',
    );
    assert.ok(
      (sample(metrics, 'pilot_xds_pushes{type="rds"}') ?? 0) >= 2,
      '(sample(metrics, \'pilot_xds_pushes{type="rds"}\') ?? 0) >= 2',
    );
    assert.equal(sample(metrics, 'pilot_xds_push_time_count{type="rds"}'), 1);
    assert.equal(sample(metrics, 'xds_server_config_errors'), 0);
    assert.equal(sample(metrics, 'xds_server_write_waiting_streams'), 0);
    assert.ok(
      (sample(metrics, 'xds_server_write_bytes_in_flight') ?? -1) >= 0,
      "(sample(metrics, 'xds_server_write_bytes_in_flight') ?? -1) >= 0",
    );
    assert.equal(sample(metrics, 'xds_server_config_reloads_total{result="applied"}'), 1);
    assert.match(metrics, /# TYPE pilot_proxy_convergence_time histogram/);
    assert.match(metrics, /process_cpu_user_seconds_total/);
  });
});
