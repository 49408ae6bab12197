// Interop with the real proxyless gRPC client (@grpc/grpc-js-xds): real RPCs to real backends, routed by
// config from @xds/server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import { type Backend, channel, startBackend, until, which } from './support/backend.js';
import { useXdsServer } from './support/bootstrap.js';
import { echoSnapshot, target, withStaticCluster } from './support/echo-config.js';

const nodeId = 'interop-client';

describe('@grpc/grpc-js-xds against @xds/server', () => {
  const cache = new SnapshotCache();
  let server: XdsServer;
  let port: number;
  let v1: Backend;
  let v2: Backend;
  let client: Client;
  let ports: Record<string, number>;

  function nextEvent<K extends 'ack' | 'nack'>(name: K, typeUrl: string, timeoutMs = 10_000) {
    return new Promise<Parameters<Parameters<XdsServer['on']>[1]>[0]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${name} of ${typeUrl} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const listener = (event: { nodeId: string; typeUrl: string }) => {
        if (event.nodeId !== nodeId || event.typeUrl !== typeUrl) return;
        clearTimeout(timer);
        server.off(name, listener as never);
        resolve(event as never);
      };
      server.on(name, listener as never);
    });
  }

  before(async () => {
    v1 = await startBackend('v1');
    v2 = await startBackend('v2');
    ports = { v1: v1.port, v2: v2.port };
    cache.setSnapshot(nodeId, echoSnapshot(ports, { v1: 1, v2: 0 }));
    server = new XdsServer({ cache });
    port = await server.listen('127.0.0.1:0');
    await useXdsServer(port, nodeId);
    client = channel(`xds:///${target}`);
  });

  after(async () => {
    client.close();
    await server.close();
    await v1.close();
    await v2.close();
  });

  it('a snapshot routes a real RPC to a real backend', async () => {
    assert.equal(await which(client, 10_000), 'v1');
    for (let i = 0; i < 10; i++) assert.equal(await which(client), 'v1');
    const info = server.clients().find((c) => c.nodeId === nodeId);
    assert.ok(info);
    assert.match(info.node.userAgentName, /^gRPC/i);
    for (const typeUrl of [TypeUrl.Listener, TypeUrl.Route, TypeUrl.Cluster, TypeUrl.Endpoint]) {
      assert.equal(info.types[typeUrl]?.status, 'SYNCED', typeUrl);
    }
    assert.deepEqual(info.types[TypeUrl.Listener]?.subscribed, [target]);
  });

  it('changing a weighted route moves the traffic', async () => {
    cache.setSnapshot(nodeId, echoSnapshot(ports, { v1: 0, v2: 1 }));
    await until(client, (name) => name === 'v2');
    for (let i = 0; i < 10; i++) assert.equal(await which(client), 'v2');
    cache.setSnapshot(nodeId, echoSnapshot(ports, { v1: 1, v2: 1 }));
    const seen = new Set<string>();
    await until(client, (name) => {
      seen.add(name);
      return seen.size === 2;
    });
    assert.deepEqual([...seen].sort(), ['v1', 'v2']);
  });

  it('S5, S6: a rejected cluster is a NACK with the client message, never resent, NACKED until fixed', async () => {
    const good = echoSnapshot(ports, { v1: 1, v2: 1 });
    const responses: string[] = [];
    const onResponse = (e: { nodeId: string; typeUrl: string }) => {
      if (e.nodeId === nodeId) responses.push(e.typeUrl);
    };
    server.on('response', onResponse);
    try {
      const nack = nextEvent('nack', TypeUrl.Cluster);
      cache.setSnapshot(nodeId, withStaticCluster(good, 'v2'));
      const event = (await nack) as unknown as { message: string; version: string };
      assert.match(event.message, /Cluster message validation failed: \[Unsupported type STATIC\]/);
      assert.equal(
        server.clients().find((c) => c.nodeId === nodeId)?.types[TypeUrl.Cluster]?.status,
        'NACKED',
      );
      // For a few seconds of endpoint changes, each ACKed by the client, no Cluster response goes out again.
      const clusterResponses = responses.filter((t) => t === TypeUrl.Cluster).length;
      const started = performance.now();
      let rounds = 0;
      for (let round = 0; round < 2000 && performance.now() - started < 3000; round++, rounds++) {
        const ack = nextEvent('ack', TypeUrl.Endpoint);
        cache.updateSnapshot(nodeId, (draft) => {
          draft[TypeUrl.Endpoint]['v1']!.endpoints[0]!.loadBalancingWeight = 2 + (round % 50);
        });
        await ack;
      }
      assert.ok(rounds >= 5, `${rounds} rounds of endpoint changes`);
      assert.equal(
        responses.filter((t) => t === TypeUrl.Cluster).length,
        clusterResponses,
        'no resend of the rejected clusters',
      );
      assert.equal(
        server.clients().find((c) => c.nodeId === nodeId)?.types[TypeUrl.Cluster]?.nack?.message,
        event.message,
      );
      // Traffic keeps flowing on the last accepted config.
      assert.match(await which(client), /^v[12]$/);
      // A fixed snapshot brings the type back to SYNCED.
      const synced = nextEvent('ack', TypeUrl.Cluster);
      cache.setSnapshot(nodeId, good);
      await synced;
      assert.equal(
        server.clients().find((c) => c.nodeId === nodeId)?.types[TypeUrl.Cluster]?.status,
        'SYNCED',
      );
    } finally {
      server.off('response', onResponse);
    }
  });

  it('the client survives a server restart and converges again', async () => {
    await server.close();
    cache.setSnapshot(nodeId, echoSnapshot(ports, { v1: 0, v2: 1 }));
    server = new XdsServer({ cache });
    const acked = nextEvent('ack', TypeUrl.Endpoint, 30_000);
    assert.equal(await server.listen(`127.0.0.1:${port}`), port);
    await acked;
    await until(client, (name) => name === 'v2', 15_000);
    assert.equal(server.clients().find((c) => c.nodeId === nodeId)?.streams, 1);
  });
});
