// Interop through a relay: real proxyless gRPC clients (@grpc/grpc-js-xds) route real RPCs with config that goes
// origin (@xds/server) → relay (@xds/relay) → client (rules X1–X4 with a real client).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { Relay } from '@xds/relay';
import { type ResponseEvent, XdsServer } from '@xds/server';
import { type HeldPort, holdPort } from '../../scripts/registries/held-port.mjs';
import { type Backend, channel, startBackend, until, which } from './support/backend.js';
import { useXdsServer } from './support/bootstrap.js';
import { echoSnapshot, target } from './support/echo-config.js';

const nodeId = 'relayed-client';

describe('@grpc/grpc-js-xds through @xds/relay', () => {
  const cache = new SnapshotCache({ nodeKey: () => 'all' });
  let origin: XdsServer;
  /** The relay's upstream: a port this process holds, forwarding to the origin's current port. */
  let front: HeldPort;
  let relay: Relay;
  let v1: Backend;
  let v2: Backend;
  let client: Client;
  let ports: Record<string, number>;

  before(async () => {
    v1 = await startBackend('v1');
    v2 = await startBackend('v2');
    ports = { v1: v1.port, v2: v2.port };
    cache.setSnapshot('all', echoSnapshot(ports, { v1: 1, v2: 0 }));
    origin = new XdsServer({ cache, closeGraceMs: 200 });
    // The origin restarts in a test on a fresh port behind this one, never on a port it gave back (another test
    // process could take it meanwhile; held-port.mjs).
    front = await holdPort(await origin.listen('127.0.0.1:0'));
    relay = new Relay({ upstreams: [`127.0.0.1:${front.port}`], backoff: { initialMs: 10, maxMs: 200 } });
    const relayPort = await relay.listen('127.0.0.1:0');
    await useXdsServer(relayPort, nodeId);
    client = channel(`xds:///${target}`);
  });

  after(async () => {
    client.close();
    await relay.close();
    await origin.close();
    await front.close();
    await v1.close();
    await v2.close();
  });

  it('X4: a real RPC is routed by config relayed from the origin, on one upstream stream named relay~NODE', async () => {
    assert.equal(await which(client, 15_000), 'v1');
    const upstream = origin.clients();
    assert.deepEqual(
      upstream.map((c) => [c.nodeId, c.streams]),
      [
        [
          `relay~${nodeId}|ua=${upstream[0]!.node.userAgentName}|features=envoy.lb.does_not_support_overprovisioning`,
          1,
        ],
      ],
    );
    // The origin sees the group key: the node id and the gRPC flavour the members share (user agent name, relayed
    // client features), never one member's other fields (rule X4; upstream-node.ts says why).
    assert.match(upstream[0]!.node.userAgentName, /^gRPC/i);
    assert.deepEqual(upstream[0]!.node.clientFeatures, ['envoy.lb.does_not_support_overprovisioning']);
    const downstream = relay.server.clients().find((c) => c.nodeId === nodeId);
    for (const typeUrl of [TypeUrl.Listener, TypeUrl.Route, TypeUrl.Cluster, TypeUrl.Endpoint])
      assert.equal(downstream?.types[typeUrl]?.status, 'SYNCED', typeUrl);
  });

  it('X1: a change at the origin moves the traffic, with the origin versions', async () => {
    cache.setSnapshot('all', echoSnapshot(ports, { v1: 0, v2: 1 }));
    await until(client, (name) => name === 'v2', 15_000);
    const snapshot = cache.getSnapshot('all')!;
    const downstream = relay.server.clients().find((c) => c.nodeId === nodeId);
    assert.equal(downstream?.types[TypeUrl.Route]?.ackedVersion, snapshot.version(TypeUrl.Route));
  });

  it('X3: without the origin RPCs keep flowing; a restarted origin resends nothing unchanged', async () => {
    cache.setSnapshot('all', echoSnapshot(ports, { v1: 1, v2: 1 }));
    const both = async () => {
      const seen = new Set<string>();
      await until(
        client,
        (name) => {
          seen.add(name);
          return seen.size === 2;
        },
        15_000,
      );
    };
    await both();
    await poll('the relayed client to settle', () => {
      const types = relay.server.clients().find((c) => c.nodeId === nodeId)?.types;
      return (
        types?.[TypeUrl.Endpoint]?.subscribed.length === 2 &&
        [TypeUrl.Listener, TypeUrl.Route, TypeUrl.Cluster, TypeUrl.Endpoint].every(
          (t) => types[t]?.status === 'SYNCED',
        )
      );
    });
    const gone = new Promise((resolve) => relay.once('upstreamDisconnected', resolve));
    await origin.close();
    front.forwardTo(undefined);
    await gone;
    assert.equal(relay.upstreamState(), 'disconnected');
    await both();

    const downstreamResponses: string[] = [];
    relay.server.on('response', (e) => downstreamResponses.push(e.typeUrl));
    origin = new XdsServer({ cache, closeGraceMs: 200 });
    const resent: ResponseEvent[] = [];
    origin.on('response', (e) => resent.push(e));
    const back = new Promise((resolve) => relay.once('upstreamConnected', resolve));
    front.forwardTo(await origin.listen('127.0.0.1:0'));
    await back;
    // A route change after the reconnect: the only resource the origin sends, and the only push downstream.
    const next = echoSnapshot(ports, { v1: 1, v2: 2 });
    const converged = new Promise<void>((resolve) => {
      const onAck = (e: { nodeId: string; typeUrl: string; version: string }) => {
        if (e.nodeId !== nodeId || e.typeUrl !== TypeUrl.Route || e.version !== next.version(TypeUrl.Route))
          return;
        relay.server.off('ack', onAck);
        resolve();
      };
      relay.server.on('ack', onAck);
    });
    cache.setSnapshot('all', next);
    await converged;
    assert.deepEqual(
      resent.flatMap((e) => e.resources),
      ['echo-route'],
      'D6: the origin resent nothing unchanged to the relay',
    );
    assert.deepEqual(downstreamResponses, [TypeUrl.Route], 'the client was pushed the change only');
    await both();
  });
});

/** Polls `check` every 10 ms until it holds, or fails after a deadline naming `what`. */
async function poll(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
