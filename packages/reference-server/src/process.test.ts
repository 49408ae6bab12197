import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Client, credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';
import { binPath, type ServerProcess, startServerProcess } from './demo/server-process.js';
import { runSync } from './test-exit.js';
import { get, tempDir } from './test-support.js';

const identity = (bytes: Buffer) => bytes;

function grpcClient(address: string): Client {
  const Generic = makeGenericClientConstructor({}, 'Generic');
  return new Generic(address, credentials.createInsecure());
}

/** `grpc.health.v1.Health/Check` for a service; the raw HealthCheckResponse bytes. */
function healthCheck(client: Client, service: string): Promise<Buffer> {
  const name = Buffer.from(service);
  // HealthCheckRequest { string service = 1; }
  const request =
    name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      identity,
      identity,
      request,
      (error: ServiceError | null, value?: Buffer) => (error ? reject(error) : resolve(value!)),
    );
  });
}

/** One `grpc.reflection.v1.ServerReflection/ServerReflectionInfo` exchange; the raw response bytes. */
function reflect(client: Client, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const call = client.makeBidiStreamRequest(
      '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      identity,
      identity,
    );
    call.once('data', (data: Buffer) => {
      resolve(data);
      call.end();
    });
    call.once('error', reject);
    call.write(request);
  });
}

/** A ServerReflectionRequest with one string field set (7: list_services, 4: file_containing_symbol). */
function reflectionRequest(field: number, value: string): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

describe('the xds-server process', () => {
  let server: ServerProcess;
  let grpc: Client;

  before(async () => {
    server = await startServerProcess([
      '--xds',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--max-in-flight-mib',
      '8',
    ]);
    grpc = grpcClient(server.xdsAddress);
  });

  after(async () => {
    grpc?.close();
    await server?.process.stop('SIGKILL');
  });

  it('serves the embedded Bookinfo example when started without --config', async () => {
    const started = server.logs.find((l) => l['source'] !== undefined);
    assert.equal(started?.['source'], 'embedded');
    assert.match(String(started?.['config']), /bookinfo\.yaml$/);
    const configz = JSON.parse((await get(server.adminAddress, '/debug/configz')).body) as {
      model: { services: { name: string }[] };
    };
    assert.deepEqual(
      configz.model.services.map((s) => s.name),
      ['productpage', 'details', 'reviews', 'ratings'],
    );
  });

  it('takes its write budget from --max-in-flight-mib', async () => {
    const metrics = (await get(server.adminAddress, '/metrics')).body;
    assert.match(metrics, /^xds_server_write_budget_bytes 8388608$/m);
  });

  it('answers gRPC health checks (grpc.health.v1) for the server and for ADS on the xDS port', async () => {
    const serving = Buffer.from([0x08, 0x01]); // HealthCheckResponse { status: SERVING }
    assert.deepEqual(await healthCheck(grpc, ''), serving);
    assert.deepEqual(
      await healthCheck(grpc, 'envoy.service.discovery.v3.AggregatedDiscoveryService'),
      serving,
    );
  });

  it('describes its services by server reflection', async () => {
    const list = await reflect(grpc, reflectionRequest(7, '*'));
    for (const name of [
      'envoy.service.discovery.v3.AggregatedDiscoveryService',
      'envoy.service.cluster.v3.ClusterDiscoveryService',
      'envoy.service.status.v3.ClientStatusDiscoveryService',
      'grpc.health.v1.Health',
    ])
      assert.ok(list.includes(name), `reflection lists ${name}`);
    const files = await reflect(
      grpc,
      reflectionRequest(4, 'envoy.service.discovery.v3.AggregatedDiscoveryService'),
    );
    assert.ok(
      files.includes('envoy/service/discovery/v3/ads.proto'),
      "files.includes('envoy/service/discovery/v3/ads.proto')",
    );
    assert.ok(files.includes('envoy/service/discovery/v3/discovery.proto'), 'with its dependencies');
  });

  it('drains on SIGTERM: clients see UNAVAILABLE, and it exits 0', async () => {
    const client = new XdsTestClient({ address: server.xdsAddress, node: 'sigterm-node' });
    try {
      client.subscribe(TypeUrl.Cluster, ['*']);
      await client.waitFor(TypeUrl.Cluster, (r) => r.acked === true);
      const exit = await server.process.stop('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null });
      const end = await client.ended(TypeUrl.Cluster);
      assert.equal(end.code, 14);
      const messages = server.logs.map((l) => l['msg']);
      assert.ok(
        messages.includes('draining') && messages.includes('stopped'),
        "messages.includes('draining') && messages.includes('stopped')",
      );
    } finally {
      await client.close();
    }
  });
});

describe('xds-server start-up errors', () => {
  let temp: ReturnType<typeof tempDir>;
  before(() => {
    temp = tempDir();
  });
  after(() => temp.remove());

  it('exits 1 when the config is invalid, naming file, line and field on stderr and in the log', () => {
    const file = join(temp.dir, 'bad.yaml');
    writeFileSync(file, 'services:\n  - name: reviews\n    ports: [{ name: http, port: 0 }]\n');
    const run = runSync([binPath, '--config', file, '--xds', '127.0.0.1:0']);
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:\\d+: services\\[0\\]\\.ports\\[0\\]\\.port`,
      ),
    );
    const fatal = run.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['level'] === 60);
    assert.deepEqual(
      (fatal?.['errors'] as { line: number; path: string }[] | undefined)?.[0]?.path,
      'services[0].ports[0].port',
    );
  });

  it('exits 1 when the config file cannot be read', () => {
    const run = runSync([binPath, '--config', join(temp.dir, 'missing.yaml')]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /missing\.yaml: cannot read the file/);
  });
});
