// Rule X4 with a real origin that generates by flavour, as `xds-server` does: an XdsServer over a SnapshotCache keyed
// by nodeKeyByFlavour and fed by @xds/generator from a model with one service, a Relay with groupBy 'cluster' in
// front of it, a real @grpc/grpc-js-xds client routing a real RPC through relayed config, and Envoy-like
// XdsTestClients of the same cluster. What the origin's answer depends on (the user agent name, metadata GENERATOR,
// client features) is part of the group key, so gRPC clients and Envoys of one cluster are different groups: each
// gets its own flavour, and no member (a hostile first one included) decides another group's config.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@grpc/grpc-js';
import { type Listener, TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { nodeKeyByFlavour } from '@xds/generator';
import { Relay } from '@xds/relay';
import { XdsServer } from '@xds/server';
import { XdsTestClient } from '@xds/testing';
import { type Backend, channel, interopWaitMs, startBackend, which } from './support/backend.js';
import { exampleGrpcBootstrap } from './support/bootstrap.js';
import { publishModelText, reviewsModel, reviewsTarget } from './support/reviews-model.js';

const target = reviewsTarget;

/** An XdsTestClient of cluster `cluster` with a user agent name, subscribed to every listener. */
function listenerClient(address: string, id: string, cluster: string, userAgentName: string): XdsTestClient {
  const client = new XdsTestClient({
    address,
    node: { id, cluster, userAgentName, userAgentVersionType: { case: 'userAgentVersion', value: '1.0' } },
    timeoutMs: 60_000,
  });
  client.subscribe(TypeUrl.Listener, ['*']);
  return client;
}

/** The names of a client's listeners that are Envoy listeners (an address, no api_listener), and of the rest. */
function kinds(client: XdsTestClient): { envoy: string[]; api: string[] } {
  const envoy: string[] = [];
  const api: string[] = [];
  for (const [name, message] of client.resources(TypeUrl.Listener)) {
    const listener = message as Listener;
    if (listener.apiListener?.apiListener === undefined && listener.address !== undefined) envoy.push(name);
    else api.push(name);
  }
  return { envoy, api };
}

describe('@xds/relay in front of an origin that generates by flavour', () => {
  const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
  const clients: XdsTestClient[] = [];
  let origin: XdsServer;
  let relay: Relay;
  let relayAddress: string;
  let v1: Backend;
  let v2: Backend;
  let grpcClient: Client | undefined;

  before(async () => {
    v1 = await startBackend('v1');
    v2 = await startBackend('v2');
    publishModelText(cache, reviewsModel(v1.port, v2.port, ['- to: [{ subset: v1 }]']));
    origin = new XdsServer({ cache, closeGraceMs: 200 });
    const originPort = await origin.listen('127.0.0.1:0');
    relay = new Relay({
      upstreams: [`127.0.0.1:${originPort}`],
      groupBy: 'cluster',
      backoff: { initialMs: 10, maxMs: 200 },
      server: { closeGraceMs: 200 },
    });
    relayAddress = `127.0.0.1:${await relay.listen('127.0.0.1:0')}`;
    // grpc-js-xds reads its bootstrap once per process: node `grpc-in-mesh` of cluster `mesh`, through the relay.
    const bootstrap = exampleGrpcBootstrap(Number(relayAddress.split(':')[1]), 'grpc-in-mesh');
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      ...bootstrap,
      node: { ...bootstrap.node, cluster: 'mesh' },
    });
    const xds = (await import('@grpc/grpc-js-xds')) as unknown as {
      register?: () => void;
      default?: { register: () => void };
    };
    (xds.register ?? xds.default!.register)();
  });

  after(async () => {
    grpcClient?.close();
    for (const client of clients) await client.close();
    await relay.close();
    await origin.close();
    await v1.close();
    await v2.close();
  });

  it('X4: a real gRPC client and an Envoy of one cluster each get their own flavour through the relay', async () => {
    // The gRPC client is the group's first member: a real RPC goes through the gRPC config the relay forwards.
    grpcClient = channel(target);
    assert.equal(await which(grpcClient, interopWaitMs), 'v1');
    // An Envoy of the same cluster comes second and must get Envoy listeners, not the gRPC clients' api_listeners.
    const envoy = listenerClient(relayAddress, 'envoy-in-mesh', 'mesh', 'envoy');
    clients.push(envoy);
    await envoy.waitFor(TypeUrl.Listener, (_r, s) => s.resources.size > 0);
    const got = kinds(envoy);
    assert.deepEqual(got.api, [], 'an Envoy gets no api_listener');
    assert.ok(got.envoy.length > 0, 'an Envoy gets Envoy listeners');
    // The gRPC client still routes, and the origin saw two upstream nodes of cluster mesh, one per flavour.
    assert.equal(await which(grpcClient, interopWaitMs), 'v1');
    const upstream = origin
      .clients()
      .map((c) => ({ cluster: c.node.cluster, userAgentName: c.node.userAgentName }))
      .sort((a, b) => a.userAgentName.localeCompare(b.userAgentName));
    assert.equal(upstream.length, 2);
    assert.ok(
      upstream.every((u) => u.cluster === 'mesh'),
      "upstream.every((u) => u.cluster === 'mesh')",
    );
    assert.deepEqual(
      upstream.map((u) => u.userAgentName),
      ['envoy', upstream[1]!.userAgentName],
    );
    assert.match(upstream[1]!.userAgentName, /^gRPC/i);
    const grpcUpstream = origin.clients().find((c) => /^gRPC/i.test(c.node.userAgentName))!;
    // The shared flavour goes upstream, never one member's node id, locality or other metadata.
    assert.deepEqual(grpcUpstream.node.clientFeatures, ['envoy.lb.does_not_support_overprovisioning']);
    assert.equal(grpcUpstream.node.locality, undefined);
    assert.ok(!grpcUpstream.nodeId.includes('grpc-in-mesh'), "!grpcUpstream.nodeId.includes('grpc-in-mesh')");
  });

  it('X4: a hostile first member with user agent grpc-node-js in cluster web does not change what Envoys of web get', async () => {
    const hostile = listenerClient(relayAddress, 'hostile', 'web', 'grpc-node-js');
    clients.push(hostile);
    await hostile.waitFor(TypeUrl.Listener, (_r, s) => s.resources.size > 0);
    const envoys = [
      listenerClient(relayAddress, 'envoy-a', 'web', 'envoy'),
      listenerClient(relayAddress, 'envoy-b', 'web', 'envoy'),
    ];
    clients.push(...envoys);
    for (const envoy of envoys) {
      await envoy.waitFor(TypeUrl.Listener, (_r, s) => s.resources.size > 0);
      const got = kinds(envoy);
      assert.deepEqual(got.api, [], 'an Envoy of web gets no api_listener');
      assert.ok(got.envoy.length > 0, 'an Envoy of web gets Envoy listeners');
    }
    // An Envoy-flavoured member with GENERATOR: grpc (Istio's convention) is a group of its own, too.
    const generator = new XdsTestClient({
      address: relayAddress,
      node: { id: 'istio-grpc', cluster: 'web', metadata: { GENERATOR: 'grpc' } },
      timeoutMs: 60_000,
    });
    clients.push(generator);
    generator.subscribe(TypeUrl.Listener, ['*']);
    await generator.waitFor(TypeUrl.Listener, (_r, s) => s.resources.size > 0);
    assert.deepEqual(kinds(generator).envoy, [], 'GENERATOR grpc gets gRPC config');
    for (const envoy of envoys) assert.deepEqual(kinds(envoy).api, []);
    const web = origin.clients().filter((c) => c.node.cluster === 'web');
    assert.deepEqual(web.map((c) => c.node.userAgentName).sort(), ['envoy', 'grpc-node-js', 'xds-relay']);
  });
});
