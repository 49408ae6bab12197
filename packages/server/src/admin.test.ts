import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor, Server, ServerCredentials, status } from '@grpc/grpc-js';
import {
  ClientResourceStatus,
  ClientStatusDiscoveryService,
  ClientStatusRequestSchema,
  ClientStatusResponseSchema,
  ConfigStatus,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  methodPath,
  TypeUrl,
} from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { XdsTestClient } from '@xds/testing';
import { type Harness, nextEvent, sample, start } from './test-harness.js';
import { addXdsServices, XdsServer } from './xds-server.js';

const { Cluster, Endpoint } = TypeUrl;

function post(port: number, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function csdsClient(address: string) {
  const Client = makeGenericClientConstructor({}, 'Csds');
  const client = new Client(address, credentials.createInsecure());
  const fetchMethod = ClientStatusDiscoveryService.methods.find((m) => m.methodKind === 'unary')!;
  return {
    fetch(nodeId: string) {
      return new Promise<ReturnType<typeof fromBinary<typeof ClientStatusResponseSchema>>>(
        (resolve, reject) => {
          client.makeUnaryRequest(
            methodPath(fetchMethod),
            (r: Uint8Array) => Buffer.from(r),
            (b: Buffer) => fromBinary(ClientStatusResponseSchema, b),
            toBinary(
              ClientStatusRequestSchema,
              create(ClientStatusRequestSchema, {
                nodeMatchers: [{ nodeId: { matchPattern: { case: 'exact', value: nodeId } } }],
              }),
            ),
            (error, value) => (error ? reject(error) : resolve(value!)),
          );
        },
      );
    },
    close: () => client.close(),
  };
}

describe('client status, CSDS and REST', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(async () => {
    await h.close();
  });

  it('S5: clients() and CSDS tell the same story of SYNCED and NACKED types', async () => {
    h.cache.setSnapshot('status', sample());
    const client = h.client({
      node: 'status',
      nack: (r) => (r.typeUrl === Endpoint ? 'bad endpoints' : undefined),
    });
    const acked = nextEvent(h.server, 'ack', (e) => e.nodeId === 'status' && e.typeUrl === Cluster);
    const nacked = nextEvent(h.server, 'nack', (e) => e.nodeId === 'status');
    client.subscribe(Cluster, []);
    client.subscribe(Endpoint, ['c1', 'missing']);
    await acked;
    await nacked;
    const info = h.server.clients().find((c) => c.nodeId === 'status')!;
    assert.equal(info.streams, 1);
    assert.equal(info.types[Cluster]?.status, 'SYNCED');
    assert.equal(info.types[Cluster]?.ackedVersion, sample().version(Cluster));
    assert.equal(info.types[Endpoint]?.status, 'NACKED');
    assert.equal(info.types[Endpoint]?.nack?.message, 'bad endpoints');
    assert.deepEqual(info.types[Endpoint]?.subscribed, ['c1', 'missing']);

    const csds = csdsClient(h.address);
    try {
      const response = await csds.fetch('status');
      assert.equal(response.config.length, 1);
      const configs = response.config[0]!.genericXdsConfigs;
      assert.equal(response.config[0]!.node?.id, 'status');
      const c1 = configs.find((c) => c.typeUrl === Cluster && c.name === 'c1');
      assert.equal(c1?.configStatus, ConfigStatus.SYNCED);
      assert.equal(c1?.clientStatus, ClientResourceStatus.ACKED);
      assert.equal(c1?.xdsConfig?.typeUrl, Cluster);
      const e1 = configs.find((c) => c.typeUrl === Endpoint && c.name === 'c1');
      assert.equal(e1?.configStatus, ConfigStatus.ERROR);
      assert.equal(e1?.clientStatus, ClientResourceStatus.NACKED);
      assert.equal(e1?.errorState?.details, 'bad endpoints');
      const missing = configs.find((c) => c.typeUrl === Endpoint && c.name === 'missing');
      assert.equal(missing?.clientStatus, ClientResourceStatus.DOES_NOT_EXIST);
      assert.equal((await csds.fetch('nobody')).config.length, 0);
    } finally {
      csds.close();
    }
  });

  it('emits streamOpen, request, response and streamClose', async () => {
    const events: string[] = [];
    const record = (name: string) => (e: { nodeId: string }) => {
      if (e.nodeId === 'evented') events.push(name);
    };
    for (const name of ['streamOpen', 'request', 'response', 'ack', 'streamClose'] as const)
      h.server.on(name, record(name) as never);
    h.cache.setSnapshot('evented', sample());
    const client = h.client({ node: 'evented' });
    client.subscribe(Cluster, []);
    await client.next(Cluster);
    const closed = nextEvent(h.server, 'streamClose', (e) => e.nodeId === 'evented');
    await client.close();
    await closed;
    assert.deepEqual(events.slice(0, 3), ['streamOpen', 'request', 'response']);
    assert.equal(events.at(-1), 'streamClose');
  });

  it('REST: POST /v3/discovery:clusters answers proto3 JSON, 304 when current, 400 for bad input', async () => {
    const port = await h.server.listenRest('127.0.0.1:0');
    const ok = await post(
      port,
      '/v3/discovery:clusters',
      JSON.stringify({ node: { id: 'n1' }, typeUrl: Cluster }),
    );
    assert.equal(ok.status, 200);
    const body = JSON.parse(ok.body) as {
      versionInfo: string;
      resources: { '@type': string; name: string }[];
    };
    assert.equal(body.versionInfo, sample().version(Cluster));
    assert.deepEqual(
      body.resources.map((r) => [r['@type'], r.name]),
      [
        [Cluster, 'c1'],
        [Cluster, 'c2'],
      ],
    );
    const eds = await post(
      port,
      '/v3/discovery:endpoints',
      JSON.stringify({ node: { id: 'n1' }, resourceNames: ['c1'] }),
    );
    assert.equal(eds.status, 200);
    assert.match(eds.body, /"clusterName":"c1"/);
    const current = await post(
      port,
      '/v3/discovery:clusters',
      JSON.stringify({ node: { id: 'n1' }, versionInfo: body.versionInfo }),
    );
    assert.equal(current.status, 304);
    const noNode = await post(port, '/v3/discovery:clusters', '{}');
    assert.equal(noNode.status, 400);
    assert.match(noNode.body, /must carry node.id/);
    const notJson = await post(port, '/v3/discovery:routes', '{');
    assert.equal(notJson.status, 400);
    assert.match(notJson.body, /body is not JSON/);
    const badField = await post(port, '/v3/discovery:routes', '{"nodee":{}}');
    assert.match(badField.body, /not a DiscoveryRequest.*nodee/);
  });

  it('gRPC Fetch answers from the cache, and refuses a request without node', async () => {
    const Client = makeGenericClientConstructor({}, 'Fetch');
    const client = new Client(h.address, credentials.createInsecure());
    const fetch = (request: Parameters<typeof create<typeof DiscoveryRequestSchema>>[1]) =>
      new Promise<ReturnType<typeof fromBinary<typeof DiscoveryResponseSchema>>>((resolve, reject) => {
        client.makeUnaryRequest(
          '/envoy.service.cluster.v3.ClusterDiscoveryService/FetchClusters',
          (b: Buffer) => b,
          (b: Buffer) => fromBinary(DiscoveryResponseSchema, b),
          Buffer.from(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, request))),
          (error, value) => (error ? reject(error) : resolve(value!)),
        );
      });
    try {
      const response = await fetch({ node: { id: 'n1' } });
      assert.equal(response.versionInfo, sample().version(Cluster));
      assert.equal(response.resources.length, 2);
      await assert.rejects(
        fetch({}),
        (e: { code: number; details: string }) =>
          e.code === status.INVALID_ARGUMENT && /node.id/.test(e.details),
      );
    } finally {
      client.close();
    }
  });
});

describe('server lifecycle and guards', () => {
  it('authorize refuses a node with PERMISSION_DENIED and admits others', async () => {
    const h = await start({ authorize: async (node) => node.id !== 'intruder' });
    try {
      h.cache.setSnapshot('intruder', sample());
      const intruder = h.client({ node: 'intruder' });
      intruder.subscribe(Cluster, []);
      const end = await intruder.ended();
      assert.equal(end.code, status.PERMISSION_DENIED);
      assert.match(end.details, /node "intruder" may not open/);
      const friend = h.client({ node: 'n1' });
      friend.subscribe(Cluster, []);
      assert.deepEqual((await friend.next(Cluster)).names, ['c1', 'c2']);
    } finally {
      await h.close();
    }
  });

  it('an over-large request ends that stream with RESOURCE_EXHAUSTED; other clients keep their state', async () => {
    const h = await start({ maxMessageBytes: 4096 });
    try {
      const good = h.client();
      good.subscribe(Cluster, []);
      await good.next(Cluster);
      const big = h.client();
      big.subscribe(
        Endpoint,
        Array.from({ length: 500 }, (_, i) => `name-${i}-${'x'.repeat(20)}`),
      );
      const end = await big.ended();
      assert.equal(end.code, status.RESOURCE_EXHAUSTED);
      assert.match(end.details, /larger than|exceeds|max/i);
      good.subscribe(Endpoint, ['c1']);
      assert.deepEqual((await good.next(Endpoint)).names, ['c1']);
      assert.equal(h.server.clients().find((c) => c.nodeId === 'n1')?.types[Cluster]?.status, 'SYNCED');
    } finally {
      await h.close();
    }
  });

  it('close() ends open streams with UNAVAILABLE, refuses new ones and resolves', async () => {
    const h = await start();
    const client = h.client();
    client.subscribe(Cluster, []);
    await client.next(Cluster);
    await h.server.close();
    const end = await client.ended();
    assert.equal(end.code, status.UNAVAILABLE);
    assert.equal(h.server.streamCount, 0);
    await assert.rejects(h.server.listen('127.0.0.1:0'), /closed/);
    await h.close();
  });

  it('an AbortSignal closes the server', async () => {
    const controller = new AbortController();
    const h = await start({ signal: controller.signal });
    const client = h.client();
    client.subscribe(Cluster, []);
    await client.next(Cluster);
    controller.abort();
    assert.equal((await client.ended()).code, status.UNAVAILABLE);
    await h.close();
  });

  it('addXdsServices mounts the services on an application server', async () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', sample());
    const xds = new XdsServer({ cache });
    const app = new Server();
    addXdsServices(app, xds);
    const port = await new Promise<number>((resolve, reject) =>
      app.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const client = new XdsTestClient({ address: `127.0.0.1:${port}`, node: 'n1' });
    try {
      client.subscribe(Cluster, []);
      assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c2']);
      assert.equal(xds.clients().length, 1);
    } finally {
      await client.close();
      await xds.close();
      app.forceShutdown();
    }
  });

  it('refuses to start without a cache', () => {
    assert.throws(() => new XdsServer({} as never), /XdsServer needs options.cache/);
  });
});
