// Each downstream peer's share of the relay's groups (rule L2; review Q6). `maxGroups` and `maxNewGroupsPerSecond`
// were one relay-wide budget: a peer minting node ids (or clusters) took all of it, and no other peer could open a
// group, so a new Envoy elsewhere got no configuration. A real origin, a real relay, real downstream clients; the
// hostile peer reaches the relay from 127.0.0.2 through a forwarder (grpc-js cannot choose its source address), the
// bystander from 127.0.0.1.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toBinary } from '@bufbuild/protobuf';
import { ClusterSchema, TypeUrl } from '@xds/api';
import { makeCluster } from '@xds/generator';
import type { StreamEnd, XdsTestClient } from '@xds/testing';
import { parseRelayCommandLine } from './cli.js';
import type { RelayOptions } from './relay-options.js';
import { forwarder } from './test-proxy.js';
import {
  closeAfterAll,
  downstream,
  oddlyEncodedCluster,
  startOriginAndRelay,
  until,
} from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

/** A relay, and the address through which a client reaches it from 127.0.0.2. */
async function relayWithHostilePeer(options: Partial<RelayOptions>) {
  const started = await startOriginAndRelay(closers, options);
  const hop = await forwarder(started.address, '127.0.0.2');
  closers.push(() => hop.close());
  return { ...started, hostileAddress: hop.address };
}

/** A client of group `group` (the relay groups by cluster) asking for cluster c1. */
function member(address: string, group: string): XdsTestClient {
  const client = track(
    downstream(address, `${group}-node`, { node: { id: `${group}-node`, cluster: group } }),
  );
  client.subscribe(TypeUrl.Cluster, ['c1']);
  return client;
}

/** 'served' once the client got its clusters, or how its stream ended when it was refused. */
function outcome(client: XdsTestClient): Promise<'served' | StreamEnd> {
  return client.next(TypeUrl.Cluster).then(
    () => 'served' as const,
    () => client.ended(),
  );
}

/** The refusal's status, naming `limit` and its flag. */
function assertRefused(result: 'served' | StreamEnd, limit: RegExp, what: string): void {
  assert.notEqual(result, 'served', `${what} was served`);
  if (result === 'served') return;
  assert.equal(result.code, 8, `${what}: RESOURCE_EXHAUSTED, got ${result.code} ${result.details}`);
  assert.match(result.details, limit);
}

describe("relay: each downstream peer's share of the groups (review Q6)", () => {
  it('L2, X4: a peer at maxGroupsPerPeer is refused; a bystander peer still opens a group and gets its config', async () => {
    const { relay, address, hostileAddress } = await relayWithHostilePeer({
      maxGroups: 4,
      maxGroupsPerPeer: 2,
      maxNewGroupsPerSecond: 1_000,
    });
    const hostile: XdsTestClient[] = [];
    const results: ('served' | StreamEnd)[] = [];
    for (const group of ['h1', 'h2', 'h3', 'h4']) {
      const client = member(hostileAddress, group);
      hostile.push(client);
      results.push(await outcome(client));
    }
    assert.deepEqual(results.slice(0, 2), ['served', 'served']);
    const bystander = member(address, 'b1');
    assert.equal(
      await outcome(bystander),
      'served',
      'the bystander peer opens a group and gets its clusters',
    );
    assertRefused(
      results[2]!,
      /maxGroupsPerPeer \(--max-groups-per-peer 2\)/,
      'the 3rd group of the hostile peer',
    );
    assertRefused(results[3]!, /maxGroupsPerPeer/, 'the 4th group of the hostile peer');
    assert.equal(relay.groupCounts().refused.maxGroupsPerPeer, 2);
    assert.equal(relay.groupCounts().maxGroupsPerPeer, 2);

    // A group whose clients left is in no peer's share: the hostile peer's idle groups free its share.
    for (const client of hostile.slice(0, 2)) await client.close();
    await until('the hostile groups to be idle', () => !relay.cache.groups().some((g) => g.startsWith('h')));
    assert.equal(
      await outcome(member(hostileAddress, 'h5')),
      'served',
      'the share came back with the idle groups',
    );
  });

  it('L2, X4: a peer past maxNewGroupsPerSecondPerPeer is refused; the relay-wide rate is left to the others', async () => {
    const { relay, address, hostileAddress } = await relayWithHostilePeer({
      maxNewGroupsPerSecond: 2,
      maxNewGroupsPerSecondPerPeer: 0.001,
    });
    const results: ('served' | StreamEnd)[] = [];
    for (const group of ['h1', 'h2', 'h3']) results.push(await outcome(member(hostileAddress, group)));
    assert.equal(await outcome(member(address, 'b1')), 'served', 'the bystander peer opens a group');
    assert.equal(results[0], 'served');
    assertRefused(
      results[1]!,
      /maxNewGroupsPerSecondPerPeer \(--max-new-groups-per-second-per-peer 0\.001\)/,
      'the 2nd new group of the hostile peer',
    );
    assertRefused(results[2]!, /maxNewGroupsPerSecondPerPeer/, 'the 3rd');
    assert.equal(relay.groupCounts().refused.maxNewGroupsPerSecondPerPeer, 2);
    assert.equal(relay.groupCounts().refused.maxNewGroupsPerSecond, 0);
  });

  it('L2, X4: an idle group holds none of maxResourceBytesAllGroups: a new group is not refused for it', async () => {
    // Room for c1 and not c2: the first group's answer fills the relay (c2 is refused), which then refuses new groups.
    const c1 = oddlyEncodedCluster().bytes.length;
    assert.ok(toBinary(ClusterSchema, makeCluster({ name: 'c2' })).length > 1);
    const { relay, address } = await startOriginAndRelay(closers, {
      maxResourceBytesAllGroups: c1 + 1,
      groupIdleMs: 600_000,
    });
    const first = member(address, 'first');
    first.subscribe(TypeUrl.Cluster, ['c2']);
    await until('the relay to be full', () => relay.bounds().refused.maxResourceBytesAllGroups > 0);
    await first.close();
    // The group is idle (kept for groupIdleMs with its upstream stream): it holds no resource any more.
    await until('the first group idle', () => !relay.cache.groups().includes('first'));
    assert.equal(await outcome(member(address, 'second')), 'served', 'a new group after the idle one');
    assert.equal(relay.groupCounts().refused.maxResourceBytesAllGroups, 0);
    assert.equal(relay.bounds().resourceBytes, c1, "only the second group's c1 is counted");
  });

  it('L2: --max-groups-per-peer and --max-new-groups-per-second-per-peer reach the options; bad values name the flag', () => {
    const flags = ['--max-groups-per-peer', '3', '--max-new-groups-per-second-per-peer', '4'];
    const parsed = parseRelayCommandLine(['--upstream', 'a:1', ...flags]);
    assert.equal(parsed.kind, 'run');
    assert.equal(parsed.kind === 'run' && parsed.options.maxGroupsPerPeer, 3);
    assert.equal(parsed.kind === 'run' && parsed.options.maxNewGroupsPerSecondPerPeer, 4);
    const defaults = parseRelayCommandLine(['--upstream', 'a:1']);
    assert.equal(defaults.kind === 'run' && defaults.options.maxGroupsPerPeer, 1_024);
    assert.equal(defaults.kind === 'run' && defaults.options.maxNewGroupsPerSecondPerPeer, 50);
    const bad = parseRelayCommandLine([
      '--upstream',
      'a:1',
      '--max-groups-per-peer',
      '0',
      '--max-new-groups-per-second-per-peer',
      'x',
    ]);
    const message = bad.kind === 'usage-error' ? bad.message : '';
    assert.match(message, /--max-groups-per-peer: "0" is not a whole number from 1/);
    assert.match(message, /--max-new-groups-per-second-per-peer: "x" is not a whole number from 1/);
  });
});
