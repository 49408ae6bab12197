// Rule S7a across a relay (probe5 P1): a downstream watch is answered only from a group view that covers its
// subscription. A group's view holds what its upstream subscription asked for: after the group was idle (its
// upstream left the wildcard and its snapshot was emptied), or while it held only named clusters, a client that
// subscribes by wildcard (or to a name no client of the group wanted) used to be answered at once from that view:
// a SotW Cluster answer without the other clusters means "deleted", so an Envoy dropped them, under the origin's
// version of the full set. Each case runs a real origin and a real relay, for both upstream and both downstream
// protocols, and checks the FIRST answer the new client gets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import type { Protocol } from '@xds/client';
import { XdsTestClient } from '@xds/testing';
import { closeAfterAll, relayWaitMs, startOriginAndRelay, until } from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

const protocols: readonly Protocol[] = ['delta', 'sotw'];

/** A downstream client of group `web` (the relay groups by cluster) speaking `protocol`. */
function client(address: string, id: string, protocol: Protocol): XdsTestClient {
  return track(
    new XdsTestClient({ address, node: { id, cluster: 'web' }, protocol, timeoutMs: relayWaitMs }),
  );
}

/** Subscribes a client to every Cluster: `"*"` in delta, the legacy wildcard (no names) in SotW. */
function subscribeAll(downstream: XdsTestClient, protocol: Protocol): void {
  downstream.subscribe(TypeUrl.Cluster, protocol === 'delta' ? ['*'] : []);
}

/** The names of a client's next Cluster answer, sorted. */
async function nextClusters(downstream: XdsTestClient): Promise<string[]> {
  const answer = await downstream.next(TypeUrl.Cluster);
  return [...answer.names].sort();
}

describe('relay: a watch is answered only from a view that covers it (probe5 P1)', () => {
  for (const upstreamProtocol of protocols)
    for (const down of protocols) {
      const how = `upstream ${upstreamProtocol}, downstream ${down}`;

      it(`S7a, X4: a wildcard client rejoining an idle group gets every cluster first (${how})`, async () => {
        const { relay, address } = await startOriginAndRelay(closers, {
          upstreamProtocol,
          groupIdleMs: 600_000,
        });
        const first = client(address, 'first', down);
        subscribeAll(first, down);
        assert.deepEqual(await nextClusters(first), ['c1', 'c2']);
        const group = relay.groups()[0]?.group;
        assert.ok(group !== undefined, 'the relay opened a group');
        await first.close();
        // Idle: the group's upstream left the wildcard and its snapshot holds no cluster, its upstream stays open.
        await until(
          'the idle group to hold no cluster',
          () =>
            !relay.cache.groups().includes(group) &&
            (relay.cache.getSnapshot(group)?.entries(TypeUrl.Cluster).size ?? 0) === 0,
        );
        assert.equal(relay.groups().length, 1, 'the idle group keeps its upstream stream');
        const again = client(address, 'again', down);
        subscribeAll(again, down);
        assert.deepEqual(await nextClusters(again), ['c1', 'c2'], 'the first answer after the rejoin');
      });

      it(`S7a, X4: a wildcard client joining a group that named one cluster gets every cluster first (${how})`, async () => {
        const { address } = await startOriginAndRelay(closers, { upstreamProtocol });
        const named = client(address, 'named', down);
        named.subscribe(TypeUrl.Cluster, ['c1']);
        assert.deepEqual(await nextClusters(named), ['c1']);
        const wild = client(address, 'wild', down);
        subscribeAll(wild, down);
        assert.deepEqual(await nextClusters(wild), ['c1', 'c2'], 'the wildcard client first answer');
      });

      it(`S7a, S10, X4: a client naming a cluster new to its group is first answered with it (${how})`, async () => {
        const { address } = await startOriginAndRelay(closers, { upstreamProtocol });
        const named = client(address, 'named', down);
        named.subscribe(TypeUrl.Cluster, ['c1']);
        assert.deepEqual(await nextClusters(named), ['c1']);
        const other = client(address, 'other', down);
        other.subscribe(TypeUrl.Cluster, ['c2']);
        const answer = await other.next(TypeUrl.Cluster);
        assert.deepEqual([...answer.names], ['c2'], 'the first answer holds the newly named cluster');
        assert.deepEqual([...answer.removed], [], 'nor says it does not exist');
      });
    }

  it('S7a, D3: a delta origin with nothing new for the wildcard does not hold the wildcard client back for ever', async () => {
    // The group names both clusters: the origin has nothing to add for "*", and a delta origin need not answer.
    const { address } = await startOriginAndRelay(closers, {
      upstreamProtocol: 'delta',
      upstreamAnswerWaitMs: 50,
    });
    const named = client(address, 'named', 'sotw');
    named.subscribe(TypeUrl.Cluster, ['c1', 'c2']);
    assert.deepEqual(await nextClusters(named), ['c1', 'c2']);
    const wild = client(address, 'wild', 'sotw');
    subscribeAll(wild, 'sotw');
    assert.deepEqual(await nextClusters(wild), ['c1', 'c2']);
  });
});
