// Rule L2 across the relay's groups (probe5 P2): a group's own bounds multiply by groups, and a downstream client opens
// a group just by naming a new cluster. `maxNamesAllGroups` bounds every group's names together and
// `maxResourceBytesAllGroups` the resource bytes every group's upstream client holds together; past either the
// downstream stream (names, a new group) is refused with RESOURCE_EXHAUSTED naming the limit, or the upstream resource
// NACKed naming it, and the groups within the bounds keep their updates. A real origin XdsServer, the real relay,
// real downstream clients over loopback.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClusterLoadAssignment, TypeUrl } from '@xds/api';
import { encodeResource, Snapshot, SnapshotCache } from '@xds/cache';
import { makeClusterLoadAssignment } from '@xds/generator';
import { XdsTestClient } from '@xds/testing';
import {
  assignment,
  closeAfterAll,
  nextEvent,
  originKey,
  relayWaitMs,
  startOrigin,
  startRelay,
  until,
} from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

/** A downstream client of cluster `group` (one group each under `--group-by cluster`). */
function member(address: string, id: string, group: string): XdsTestClient {
  return track(new XdsTestClient({ address, node: { id, cluster: group }, timeoutMs: relayWaitMs }));
}

/** A ClusterLoadAssignment of `endpoints` endpoints: its encoded size grows with them. */
function wide(name: string, endpoints: number) {
  return makeClusterLoadAssignment(name, [
    {
      locality: { region: 'r1' },
      weight: 1,
      endpoints: Array.from({ length: endpoints }, (_, i) => ({ address: '127.0.0.1', port: 1000 + i })),
    },
  ]);
}

/** How many endpoints a client holds of an assignment. */
function endpointsOf(message: unknown): number {
  return (message as ClusterLoadAssignment | undefined)?.endpoints[0]?.lbEndpoints.length ?? 0;
}

/** The encoded size of a resource, as the relay's upstream client counts it. */
function sizeOf(message: Parameters<typeof encodeResource>[0]): number {
  return encodeResource(message).bytes.length;
}

describe('relay: bounds across every group', () => {
  it('L2: a subscription past maxNamesAllGroups is refused alone; the groups within it keep their updates', {
    timeout: 120_000,
  }, async () => {
    const origin = await startOrigin();
    closers.push(() => origin.server.close());
    const { relay, address } = await startRelay([origin.address], {
      maxNamesPerGroup: 8,
      maxNamesAllGroups: 10,
    });
    closers.push(() => relay.close());
    const six = (prefix: string) => Array.from({ length: 6 }, (_, i) => `${prefix}${i}`);

    const a = member(address, 'a-1', 'a');
    a.subscribe(TypeUrl.Endpoint, ['c1', ...six('a').slice(1)]);
    await a.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c1'));
    assert.equal(relay.bounds().names, 6);

    // Each group within maxNamesPerGroup (8), together past maxNamesAllGroups (10).
    const b = member(address, 'b-1', 'b');
    b.subscribe(TypeUrl.Endpoint, six('b'));
    const end = await b.ended();
    assert.equal(end.code, 8, `RESOURCE_EXHAUSTED: ${end.details}`);
    assert.match(end.details, /maxNamesAllGroups \(--max-names-all-groups 10\)/);
    assert.match(end.details, /12 names across its groups/);
    assert.equal(relay.bounds().names, 6, 'nothing of the refused subscription is counted');
    assert.equal(relay.bounds().refused.maxNamesAllGroups, 1);

    // Within the bound a new group is served, and the first group still gets the origin's changes.
    const c = member(address, 'c-1', 'c');
    c.subscribe(TypeUrl.Endpoint, ['c2', 'x1', 'x2', 'x3']);
    await c.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c2'));
    assert.equal(relay.bounds().names, 10);
    const snapshot = origin.cache.getSnapshot(originKey);
    assert.ok(snapshot !== undefined);
    const c1 = makeClusterLoadAssignment('c1', [
      {
        locality: { region: 'r1' },
        weight: 1,
        endpoints: [
          { address: '127.0.0.1', port: 9090 },
          { address: '127.0.0.1', port: 9091 },
        ],
      },
    ]);
    origin.cache.setSnapshot(originKey, snapshot.change(TypeUrl.Endpoint, [encodeResource(c1)], []));
    await a.waitFor(TypeUrl.Endpoint, (_r, s) => endpointsOf(s.resources.get('c1')) === 2);

    // A client that leaves gives its names back.
    await a.close();
    await until('the names of group a are given back', () => relay.bounds().names === 4);
  });

  it('L2: a resource past maxResourceBytesAllGroups is NACKed upstream naming it; the relay holds no more', {
    timeout: 120_000,
  }, async () => {
    const small = wide('small', 2);
    const big = wide('big', 200);
    const cache = new SnapshotCache({ nodeKey: () => originKey });
    cache.setSnapshot(originKey, Snapshot.create([small, big]));
    const origin = await startOrigin(cache);
    closers.push(() => origin.server.close());
    const budget = sizeOf(small) + sizeOf(big) - 1;
    const { relay, address } = await startRelay([origin.address], { maxResourceBytesAllGroups: budget });
    closers.push(() => relay.close());

    const a = member(address, 'a-1', 'a');
    a.subscribe(TypeUrl.Endpoint, ['small']);
    await a.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('small'));
    await until('group a counts', () => relay.bounds().resourceBytes === sizeOf(small));

    // Group b's upstream client would take the relay past the budget: NACKed upstream, naming the limit.
    const nack = nextEvent(origin.server, 'nack', (event) => event.nodeId === 'relay~b');
    const b = member(address, 'b-1', 'b');
    b.subscribe(TypeUrl.Endpoint, ['big']);
    const { message } = await nack;
    assert.match(message, /maxResourceBytesAllGroups \(--max-resource-bytes-all-groups \d+\)/);
    assert.equal(relay.bounds().resourceBytes, sizeOf(small), 'the refused resource is not held');
    assert.ok(relay.bounds().refused.maxResourceBytesAllGroups >= 1);
    assert.equal(relay.cache.getSnapshot('b')?.entries(TypeUrl.Endpoint)?.has('big') ?? false, false);
    // Just under the bound after a refusal, the relay is as full as it gets: a new group is refused, naming it.
    const c = member(address, 'c-1', 'c');
    c.subscribe(TypeUrl.Endpoint, ['small']);
    const end = await c.ended();
    assert.equal(end.code, 8, `RESOURCE_EXHAUSTED: ${end.details}`);
    assert.match(end.details, /maxResourceBytesAllGroups/);

    // Group a still gets what fits: its own resource, changed at the origin.
    cache.setSnapshot(originKey, Snapshot.create([wide('small', 3), big]));
    await a.waitFor(TypeUrl.Endpoint, (_r, s) => endpointsOf(s.resources.get('small')) === 3);
  });

  it('L2: while the relay holds maxResourceBytesAllGroups, a node of a new group is refused naming it', {
    timeout: 120_000,
  }, async () => {
    const origin = await startOrigin();
    closers.push(() => origin.server.close());
    const { relay, address } = await startRelay([origin.address], {
      maxResourceBytesAllGroups: sizeOf(assignment('c1', 8080)),
    });
    closers.push(() => relay.close());
    const a = member(address, 'a-1', 'a');
    a.subscribe(TypeUrl.Endpoint, ['c1']);
    await a.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c1'));
    await until(
      'the relay is full',
      () => relay.bounds().resourceBytes === relay.bounds().maxResourceBytesAllGroups,
    );

    const b = member(address, 'b-1', 'b');
    b.subscribe(TypeUrl.Endpoint, ['c2']);
    const end = await b.ended();
    assert.equal(end.code, 8, `RESOURCE_EXHAUSTED: ${end.details}`);
    assert.match(end.details, /maxResourceBytesAllGroups/);
    assert.equal(relay.groupCounts().refused.maxResourceBytesAllGroups, 1);
    // A node of the group the relay serves is not new: it is served.
    const a2 = member(address, 'a-2', 'a');
    a2.subscribe(TypeUrl.Endpoint, ['c1']);
    await a2.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c1'));
  });
});
