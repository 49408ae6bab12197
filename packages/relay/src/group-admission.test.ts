// Rule L2 at the relay's groups: a downstream client opens a new group (an upstream stream, ~270 KB, and a stream
// and generated configuration at the origin) just by naming a new node id, so the relay bounds how many it holds
// (`maxGroups`, idle ones included) and how fast new ones open (`maxNewGroupsPerSecond`); past either, a stream is
// refused with RESOURCE_EXHAUSTED naming the limit, counted in `groupCounts()`, `/metrics` and `/debug/syncz`. A group
// with no downstream client left holds nothing and is freed whole after `groupIdleMs`. A real origin, the real
// relay, real downstream clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import type { XdsTestClient } from '@xds/testing';
import { relaySyncz } from './admin/relay-syncz.js';
import { parseRelayCommandLine } from './cli.js';
import { NewGroupRate } from './group-admission.js';
import { Relay } from './relay.js';
import { createRelayMetrics } from './relay-metrics.js';
import {
  closeAfterAll,
  downstream,
  endedWithin,
  nextEvent,
  startOriginAndRelay,
  until,
} from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

/** A downstream client of its own group `group` (under `--group-by cluster`). */
function member(address: string, group: string, id = group) {
  return track(downstream(address, id, { node: { id, cluster: group } }));
}

/**
 * A node of group a is served c1, then a node of group b asks for it and is refused with RESOURCE_EXHAUSTED (`what`
 * names the wait); resolves a's client and the refusal's details.
 */
async function servedThenRefused(
  address: string,
  what: string,
): Promise<{ a: XdsTestClient; refused: string }> {
  const a = member(address, 'a');
  a.subscribe(TypeUrl.Cluster, ['c1']);
  await a.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c1'));
  const b = member(address, 'b');
  b.subscribe(TypeUrl.Cluster, ['c1']);
  const end = await endedWithin(b, what);
  assert.equal(end.code, status.RESOURCE_EXHAUSTED, end.details);
  return { a, refused: end.details };
}

describe('relay: how many groups, how fast', () => {
  it('L2: new groups are a token bucket: N a second, at most one second of them at once', () => {
    let now = 0;
    const rate = new NewGroupRate(2, () => now);
    rate.take('a');
    rate.take('b');
    assert.throws(
      () => rate.take('c'),
      /at most 2 new groups a second, its limit maxNewGroupsPerSecond \(--max-new-groups-per-second 2\); group "c" is refused/,
    );
    now += 500;
    rate.take('c');
    assert.throws(() => rate.take('d'), /maxNewGroupsPerSecond/);
    now += 60_000;
    rate.take('d');
    rate.take('e');
    assert.throws(
      () => rate.take('f'),
      /maxNewGroupsPerSecond/,
      'a quiet minute saves one second of tokens, no more',
    );
    const slow = new NewGroupRate(0.1, () => now);
    slow.take('a');
    now += 9_000;
    assert.throws(() => slow.take('b'), /maxNewGroupsPerSecond/);
    now += 1_000;
    slow.take('b');
  });

  it('L2: a new group past maxNewGroupsPerSecond is refused naming the limit; a group coming back from idle is not new', async () => {
    const { origin, relay, address } = await startOriginAndRelay(closers, {
      maxNewGroupsPerSecond: 0.001,
      groupIdleMs: 600_000,
    });
    const refusal = nextEvent(relay, 'groupRefused');
    const { a, refused } = await servedThenRefused(address, 'a node of one new group too many');
    assert.match(
      refused,
      /its limit maxNewGroupsPerSecond \(--max-new-groups-per-second 0\.001\); group "b" is refused/,
    );
    assert.equal((await refusal).limit, 'maxNewGroupsPerSecond');
    assert.deepEqual(
      origin.server.clients().map((c) => c.nodeId),
      ['relay~a'],
      'nothing of group b reached the origin',
    );

    // Group a goes idle, keeps its upstream stream, and comes back without a token.
    const closed = nextEvent(relay.server, 'streamClose');
    await a.close();
    await closed;
    await until('group a idle', () => relay.groupCounts().idle === 1);
    const again = member(address, 'a', 'a-2');
    again.subscribe(TypeUrl.Cluster, ['c2']);
    await again.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c2'));
    assert.deepEqual(relay.groupCounts(), {
      groups: 1,
      idle: 0,
      upstreamConnections: 1,
      maxGroups: 10_000,
      maxNewGroupsPerSecond: 0.001,
      maxGroupsPerPeer: 1_024,
      maxNewGroupsPerSecondPerPeer: 50,
      refused: {
        maxGroups: 0,
        maxNewGroupsPerSecond: 1,
        maxResourceBytesAllGroups: 0,
        maxGroupsPerPeer: 0,
        maxNewGroupsPerSecondPerPeer: 0,
      },
    });
    const syncz = relaySyncz(relay, 'test', Date.now());
    assert.deepEqual(syncz.groupCounts, relay.groupCounts());
  });

  it('L2: a node of one group past maxGroups is refused naming it, counted in /metrics', async () => {
    const { relay, address } = await startOriginAndRelay(closers, { maxGroups: 1 });
    const metrics = createRelayMetrics(relay);
    relay.on('groupRefused', ({ limit }) => metrics.groupsRefused.inc({ limit }));
    const { refused } = await servedThenRefused(address, 'a node of one group too many');
    assert.match(
      refused,
      /the relay serves 1 groups, its limit maxGroups \(--max-groups 1\); group "b" is refused/,
    );
    const text = await metrics.registry.metrics();
    assert.match(text, /^xds_relay_groups 1$/m);
    assert.match(text, /^xds_relay_groups_limit 1$/m);
    assert.match(text, /^xds_relay_groups_idle 0$/m);
    assert.match(text, /^xds_relay_upstream_connections 1$/m);
    assert.match(text, /^xds_relay_groups_refused_total\{limit="maxGroups"\} 1$/m);
  });

  it('X4, L2: a group with no downstream left holds nothing while idle, then is freed whole', async () => {
    const { origin, relay, address } = await startOriginAndRelay(closers, { groupIdleMs: 1_000 });
    const upstreamOf = (group: string) => origin.server.clients().find((c) => c.nodeId === `relay~${group}`);
    for (const group of ['g1', 'g2', 'g3']) {
      const client = downstream(address, group, { node: { id: group, cluster: group } });
      client.subscribe(TypeUrl.Cluster, ['*']);
      client.subscribe(TypeUrl.Endpoint, ['c1', 'c2']);
      await client.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.size === 2);
      const closed = nextEvent(relay.server, 'streamClose');
      await client.close();
      await closed;
    }
    // Idle: the subscription is dropped upstream and the snapshot emptied, or freed already.
    for (const group of ['g1', 'g2', 'g3'])
      await until(`group ${group} to hold nothing`, () => {
        const snapshot = relay.cache.getSnapshot(group);
        const held =
          (snapshot?.entries(TypeUrl.Cluster).size ?? 0) + (snapshot?.entries(TypeUrl.Endpoint).size ?? 0);
        const types = upstreamOf(group)?.types;
        const asked = Object.values(types ?? {}).filter(
          (t) => t !== undefined && (t.wildcard || t.subscribed.length > 0),
        ).length;
        return held === 0 && asked === 0;
      });
    await until('every group to be freed', () => relay.groupCounts().groups === 0);
    assert.deepEqual(relay.groups(), []);
    assert.equal(relay.groupCounts().idle, 0);
    assert.equal(relay.groupCounts().upstreamConnections, 0, 'the connection slots are released');
    assert.deepEqual(relay.cache.keys(), [], 'no snapshot nor watch state is left in the cache');
    assert.deepEqual(relay.cache.groups(), []);
    for (const group of ['g1', 'g2', 'g3']) assert.equal(relay.cache.isReady(group, TypeUrl.Cluster), false);
    await until('the origin to see no relay stream', () => origin.server.clients().length === 0);
    // The freed group opens again from nothing when a client comes back.
    const back = member(address, 'g1');
    back.subscribe(TypeUrl.Cluster, ['c1']);
    await back.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c1'));
  });

  it('L2: bad group options are refused at construction, naming the option and the value', () => {
    for (const [options, message] of [
      [{ maxGroups: 0 }, /options\.maxGroups must be a positive whole number, got 0/],
      [{ maxNewGroupsPerSecond: -1 }, /options\.maxNewGroupsPerSecond must be a positive number, got -1/],
      [{ groupIdleMs: Number.NaN }, /options\.groupIdleMs must be a positive whole number, got NaN/],
    ] as const)
      assert.throws(() => new Relay({ upstreams: ['127.0.0.1:1'], ...options }), message);
  });

  it('L2: --max-new-groups-per-second and --group-idle-ms reach the options; bad values are usage errors naming them', () => {
    const parsed = parseRelayCommandLine([
      '--upstream',
      'a:1',
      '--max-new-groups-per-second',
      '7',
      '--group-idle-ms',
      '1500',
    ]);
    assert.equal(parsed.kind, 'run');
    assert.equal(parsed.kind === 'run' && parsed.options.maxNewGroupsPerSecond, 7);
    assert.equal(parsed.kind === 'run' && parsed.options.groupIdleMs, 1500);
    const bad = parseRelayCommandLine([
      '--upstream',
      'a:1',
      '--max-new-groups-per-second',
      '0',
      '--group-idle-ms',
      'x',
    ]);
    assert.equal(bad.kind, 'usage-error');
    const message = bad.kind === 'usage-error' ? bad.message : '';
    assert.match(message, /--max-new-groups-per-second: "0" is not a whole number from 1/);
    assert.match(message, /--group-idle-ms: "x" is not a whole number from 1/);
  });
});
