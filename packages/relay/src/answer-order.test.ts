// Which upstream response answers which of a group's requests (rule S7a across a relay; rules S4, D2; review R2,
// R3). A response that crossed a request in flight (the origin sent it before it read the request) used to be taken
// as the request's answer, so a wildcard client was answered from a view that did not cover it (SotW: the other
// clusters "deleted"). And every request the group sent restarted the answer wait, so a steady flow of requests of
// another type held a waiting client back for as long as it lasted. A real origin behind a forwarder that holds its
// responses, a real relay, real downstream clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import type { Protocol } from '@xds/client';
import { makeCluster } from '@xds/generator';
import { XdsTestClient } from '@xds/testing';
import { forwarder } from './test-proxy.js';
import {
  closeAfterAll,
  nextEvent,
  originKey,
  relayWaitMs,
  startOrigin,
  startOriginAndRelay,
  startRelay,
  until,
} from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

const protocols: readonly Protocol[] = ['sotw', 'delta'];

function client(address: string, id: string, protocol: Protocol = 'sotw'): XdsTestClient {
  return track(
    new XdsTestClient({ address, node: { id, cluster: 'web' }, protocol, timeoutMs: relayWaitMs }),
  );
}

/** An origin serving clusters c1-c3 behind a forwarder that can hold its answers (closed after all). */
async function originBehindForwarder() {
  const cache = new SnapshotCache({ nodeKey: () => originKey });
  cache.setSnapshot(originKey, Snapshot.create(['c1', 'c2', 'c3'].map((name) => makeCluster({ name }))));
  const origin = await startOrigin(cache);
  closers.push(() => origin.server.close());
  const hop = await forwarder(origin.address);
  closers.push(() => hop.close());
  return { origin, hop };
}

/** A relay whose upstream is `hop` (closed after all). */
async function relayTo(hop: { address: string }, options: Parameters<typeof startRelay>[1]) {
  const started = await startRelay([hop.address], options);
  closers.push(() => started.relay.close());
  return started;
}

describe('relay: which response answers which request (review R2, R3)', () => {
  for (const upstreamProtocol of protocols)
    it(`S4, D2, S7a, X4: a response that crossed a later request does not answer it (upstream ${upstreamProtocol})`, async () => {
      const { origin, hop } = await originBehindForwarder();
      const { address } = await relayTo(hop, { upstreamProtocol });

      const named = client(address, 'named');
      named.subscribe(TypeUrl.Cluster, ['c1']);
      assert.deepEqual([...(await named.next(TypeUrl.Cluster)).names], ['c1']);
      // The origin's answers wait in the forwarder: the group's next two requests are both in flight before the
      // first one's answer reaches the relay.
      hop.hold();
      const asked = (name: string) =>
        nextEvent(
          origin.server,
          'request',
          (e) =>
            e.typeUrl === TypeUrl.Cluster &&
            (e.names.includes(name) || (name === '*' && e.names.length === 0 && !e.initial)),
        );
      const c2Asked = asked('c2');
      const second = client(address, 'second');
      second.subscribe(TypeUrl.Cluster, ['c2']);
      await c2Asked;
      const wildAsked = asked('*');
      const wild = client(address, 'wild');
      wild.subscribe(TypeUrl.Cluster, []);
      await wildAsked;
      hop.release();
      // The answer to the request naming c2 covers c1 and c2 only; the wildcard client is answered from a view that
      // covers every cluster.
      assert.deepEqual([...(await wild.next(TypeUrl.Cluster)).names].sort(), ['c1', 'c2', 'c3']);
      assert.deepEqual([...(await second.next(TypeUrl.Cluster)).names], ['c2']);
    });

  for (const upstreamProtocol of protocols)
    it(`X3, S7a: a gain made while the upstream is down is answered by the next stream's first response (upstream ${upstreamProtocol})`, async () => {
      const { hop } = await originBehindForwarder();
      // A wait that never runs out in a test: the answer must come from the origin.
      const { relay, address } = await relayTo(hop, { upstreamProtocol, upstreamAnswerWaitMs: 600_000 });
      const named = client(address, 'named');
      named.subscribe(TypeUrl.Cluster, ['c1']);
      assert.deepEqual([...(await named.next(TypeUrl.Cluster)).names], ['c1']);
      const down = nextEvent(relay, 'upstreamDisconnected');
      hop.cut();
      await down;
      const wild = client(address, 'wild');
      wild.subscribe(TypeUrl.Cluster, []);
      await until(
        'the wildcard to reach the group',
        () => relay.cache.interest('web', TypeUrl.Cluster).wildcard,
      );
      hop.mend();
      assert.deepEqual([...(await wild.next(TypeUrl.Cluster)).names].sort(), ['c1', 'c2', 'c3']);
    });

  for (const upstreamProtocol of protocols)
    it(`S7a, X4: a new group's wildcard waits for the origin's first answer, not for the answer wait (upstream ${upstreamProtocol})`, async () => {
      // probe7 N3: with the origin connected but jammed, a new node's wildcard CDS was answered empty after the wait,
      // telling it every cluster is gone while the origin had them all.
      const { origin, hop } = await originBehindForwarder();
      const waitMs = 50;
      const { address } = await relayTo(hop, { upstreamProtocol, upstreamAnswerWaitMs: waitMs });
      // The group's first type is answered (the group has a view, as any group with a type served does); its
      // Cluster wildcard is then held at the origin's side.
      const wild = client(address, 'wild');
      wild.subscribe(TypeUrl.Endpoint, ['c1']);
      await wild.next(TypeUrl.Endpoint);
      hop.hold();
      const asked = nextEvent(origin.server, 'request', (e) => e.typeUrl === TypeUrl.Cluster);
      wild.subscribe(TypeUrl.Cluster, []);
      await asked;
      // A negative: nothing may reach the client while the origin's answer is held, for 20 times the answer wait.
      await new Promise((resolve) => setTimeout(resolve, 20 * waitMs));
      assert.equal(
        wild.responses().filter((r) => r.typeUrl === TypeUrl.Cluster).length,
        0,
        'no Cluster answer before the origin answered',
      );
      hop.release();
      assert.deepEqual([...(await wild.next(TypeUrl.Cluster)).names].sort(), ['c1', 'c2', 'c3']);
    });

  it('S7a, D3, L2: requests of another type do not postpone the answer wait (upstream delta)', async () => {
    // The group names both clusters: a delta origin has nothing to add for "*" and need not answer, so the
    // wildcard client is answered after upstreamAnswerWaitMs (1 s), measured from the request that asked for it.
    const { origin, address } = await startOriginAndRelay(closers, {
      upstreamProtocol: 'delta',
      upstreamAnswerWaitMs: 1_000,
    });
    const named = client(address, 'named');
    named.subscribe(TypeUrl.Cluster, ['c1', 'c2']);
    assert.deepEqual([...(await named.next(TypeUrl.Cluster)).names].sort(), ['c1', 'c2']);
    const wild = client(address, 'wild');
    wild.subscribe(TypeUrl.Cluster, []);
    let answered = false;
    const answer = wild.next(TypeUrl.Cluster).then((response) => {
      answered = true;
      return response;
    });
    // A failed wait is reported by the assertion below, not as an unhandled rejection.
    answer.catch(() => {});
    // Meanwhile the group's endpoints subscription grows by a name at a time, one request upstream each: each used to
    // restart the wait. Each is a round trip to the origin; 3,000 of them take far longer than 1 s.
    let changes = 0;
    for (; changes < 3_000 && !answered; changes++) {
      const name = `e${changes}`;
      const seen = nextEvent(
        origin.server,
        'request',
        (e) => e.typeUrl === TypeUrl.Endpoint && e.names.includes(name),
      );
      named.subscribe(TypeUrl.Endpoint, [name]);
      await seen;
    }
    assert.ok(answered, `the wildcard client is still waiting after ${changes} requests of endpoints`);
    assert.deepEqual([...(await answer).names].sort(), ['c1', 'c2']);
  });
});
