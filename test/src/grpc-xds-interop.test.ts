// Interop with the real proxyless gRPC client (@grpc/grpc-js-xds): real RPCs to real backends, routed by
// config from @xds/server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import { until as poll } from '@xds/testing';
import { type HeldPort, holdPort } from '../../scripts/registries/held-port.mjs';
import {
  type Backend,
  channel,
  interopWaitMs,
  startBackend,
  until,
  untilAll,
  which,
} from './support/backend.js';
import { useXdsServer } from './support/bootstrap.js';
import { echoSnapshot, target, withStaticCluster } from './support/echo-config.js';

const nodeId = 'interop-client';

describe('@grpc/grpc-js-xds against @xds/server', () => {
  const cache = new SnapshotCache();
  let server: XdsServer;
  /** The port the client's bootstrap names: held by this process, forwarding to the server's current port. */
  let front: HeldPort;
  let v1: Backend;
  let v2: Backend;
  let client: Client;
  let ports: Record<string, number>;

  function nextEvent<K extends 'ack' | 'nack'>(name: K, typeUrl: string, timeoutMs = interopWaitMs) {
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
    // The server restarts in the last test on a fresh port behind this one, never on a port it gave back (another
    // test process could take it meanwhile; held-port.mjs).
    front = await holdPort(await server.listen('127.0.0.1:0'));
    await useXdsServer(front.port, nodeId);
    client = channel(`xds:///${target}`);
  });

  after(async () => {
    client.close();
    await server.close();
    await front.close();
    await v1.close();
    await v2.close();
  });

  it('a snapshot routes a real RPC to a real backend', async () => {
    assert.equal(await which(client, interopWaitMs), 'v1');
    for (let i = 0; i < 10; i++) assert.equal(await which(client), 'v1');
    const types = [TypeUrl.Listener, TypeUrl.Route, TypeUrl.Cluster, TypeUrl.Endpoint];
    const info = () => server.clients().find((c) => c.nodeId === nodeId);
    // The client's ACK of its last response may still be on its way when the RPC is answered.
    await poll(
      'every type SYNCED',
      () => types.every((t) => info()?.types[t]?.status === 'SYNCED'),
      interopWaitMs,
    );
    assert.match(info()!.node.userAgentName, /^gRPC/i);
    assert.deepEqual(info()!.types[TypeUrl.Listener]?.subscribed, [target]);
  });

  it('changing a weighted route moves the traffic', async () => {
    cache.setSnapshot(nodeId, echoSnapshot(ports, { v1: 0, v2: 1 }));
    await until(client, (name) => name === 'v2');
    for (let i = 0; i < 10; i++) assert.equal(await which(client), 'v2');
    cache.setSnapshot(nodeId, echoSnapshot(ports, { v1: 1, v2: 1 }));
    assert.deepEqual(await untilAll(client, ['v1', 'v2']), ['v1', 'v2']);
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
      // Through 20 endpoint changes, each ACKed by the client, no Cluster response goes out again (a count, not a
      // duration: a loaded machine makes each round slower, never fewer).
      const clusterResponses = responses.filter((t) => t === TypeUrl.Cluster).length;
      for (let round = 0; round < 20; round++) {
        const ack = nextEvent('ack', TypeUrl.Endpoint);
        cache.updateSnapshot(nodeId, (draft) => {
          draft[TypeUrl.Endpoint]['v1']!.endpoints[0]!.loadBalancingWeight = 2 + round;
        });
        await ack;
      }
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
    front.forwardTo(undefined);
    cache.setSnapshot(nodeId, echoSnapshot(ports, { v1: 0, v2: 1 }));
    server = new XdsServer({ cache });
    const acked = nextEvent('ack', TypeUrl.Endpoint);
    front.forwardTo(await server.listen('127.0.0.1:0'));
    await acked;
    await until(client, (name) => name === 'v2');
    assert.equal(server.clients().find((c) => c.nodeId === nodeId)?.streams, 1);
  });
});
