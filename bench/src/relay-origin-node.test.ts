// Rule X4 in the bench's "tier" wiring: the origin holds the relays' snapshot at the node id a relay configured as
// relay-peer.ts presents upstream for clients that send the load clients' node (wire.ts). The scenario once posted
// at `relay~bench` while the relays asked as `relay~bench|ua=envoy` (a4c1497 put the clients' flavour in the group
// key): the origin answered nothing and the relayed side of the scenario never converged. A real origin keyed by node
// id (as ours-peer.ts), the real relay, a real downstream client.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { NodeSchema, TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster } from '@xds/generator';
import { Relay } from '@xds/relay';
import { type StreamOpenEvent, XdsServer } from '@xds/server';
import { XdsTestClient } from '@xds/testing';
import { relayGroupBy } from './relay-origin-node.js';
import { sharedNode } from './scenarios/context.js';
import { relayNode } from './scenarios/tier.js';
import { encodeNode } from './wire.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

describe('bench tier: the origin key of the relays', () => {
  it('X4: the relays ask the origin as the node the tier scenario holds their snapshot at', async () => {
    const cache = new SnapshotCache();
    cache.setSnapshot(relayNode, Snapshot.create([makeCluster({ name: 'svc-0' })], { version: 'v1' }));
    const origin = new XdsServer({ cache, closeGraceMs: 200 });
    const originPort = await origin.listen('127.0.0.1:0');
    closers.push(() => origin.close());
    const opened = new Promise<StreamOpenEvent>((resolve) => origin.once('streamOpen', resolve));

    const relay = new Relay({
      upstreams: [`127.0.0.1:${originPort}`],
      groupBy: relayGroupBy,
      upstreamProtocol: 'delta',
      server: { closeGraceMs: 200 },
    });
    const relayPort = await relay.listen('127.0.0.1:0');
    closers.push(() => relay.close());
    // The node exactly as the load clients encode it.
    const node = fromBinary(NodeSchema, encodeNode(sharedNode));
    const client = new XdsTestClient({ address: `127.0.0.1:${relayPort}`, node, timeoutMs: 60_000 });
    closers.push(() => client.close());
    client.subscribe(TypeUrl.Cluster, []);

    const upstream = await opened;
    assert.equal(upstream.nodeId, relayNode, 'the relay asks the origin under the key the scenario posts at');
    const response = await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('svc-0'));
    assert.equal(response.protocol === 'sotw' ? response.versionInfo : '', 'v1');
  });
});
