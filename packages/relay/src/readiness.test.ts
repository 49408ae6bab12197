// The relay's readiness (`/readyz`, readiness.ts): ready when it can serve, which is more than a channel to the
// origin being up. Not ready while no upstream is reachable, nor when every group's upstream stream has failed for
// longer than readyGraceMs although the origin's port answers; ready as soon as a group's upstream is live. Clients
// it has keep being served what it holds either way (rule X3). A real origin, the real relay, real clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import { holdPort } from '../../../scripts/registries/held-port.mjs';
import type { Readiness } from './readiness.js';
import type { Relay } from './relay.js';
import {
  closeAfterAll,
  downstream,
  originKey,
  originSnapshot,
  startOrigin,
  startRelay,
} from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

/** Polls the relay's readiness until `check` holds (30 s deadline); returns the last answer. */
async function readinessUntil(
  relay: Relay,
  what: string,
  check: (r: Readiness) => boolean,
): Promise<Readiness> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const readiness = await relay.readiness();
    if (check(readiness)) return readiness;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(readiness)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('relay: readiness', () => {
  it('X3: not ready while no upstream is reachable, with or without groups; ready once a group is live', async () => {
    // A port this process holds, with nothing behind it yet (each connection is reset), that the origin takes over
    // later: a port given back could be taken by another test process meanwhile (held-port.mjs).
    const front = await holdPort();
    closers.push(() => front.close());
    const port = front.port;
    const { relay, address } = await startRelay([`127.0.0.1:${port}`]);
    closers.push(() => relay.close());
    const none = await relay.readiness();
    assert.equal(none.ready, false, none.reason);
    assert.match(none.reason, new RegExp(`^no upstream reachable: 127\\.0\\.0\\.1:${port}: `));
    const client = track(downstream(address, 'early'));
    client.subscribe(TypeUrl.Cluster, ['*']);
    await readinessUntil(
      relay,
      'a group without origin, still not ready',
      (r) => !r.ready && relay.groups().length === 1,
    );

    const origin = await startOrigin();
    closers.push(() => origin.server.close());
    front.forwardTo(origin.port);
    await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
    const ready = await readinessUntil(
      relay,
      'a live group',
      (r) => r.ready && r.reason.startsWith('1 of 1'),
    );
    assert.equal(ready.reason, '1 of 1 groups have a live upstream stream');
    assert.equal((await relay.readiness(true)).reason, 'draining');
  });

  it('X3: not ready when every group has failed upstream past readyGraceMs, although the origin answers gRPC', async () => {
    // The origin refuses every relay stream (its node ids are longer than it allows) but its port answers.
    const cache = new SnapshotCache({ nodeKey: () => originKey });
    cache.setSnapshot(originKey, originSnapshot());
    const origin = new XdsServer({ cache, closeGraceMs: 200, limits: { maxNodeIdBytes: 5 } });
    const port = await origin.listen('127.0.0.1:0');
    closers.push(() => origin.close());
    const { relay, address } = await startRelay([`127.0.0.1:${port}`], { readyGraceMs: 300 });
    closers.push(() => relay.close());
    const idle = await relay.readiness();
    assert.equal(idle.ready, true, idle.reason);
    assert.match(idle.reason, /^no group yet; upstream reachable/);

    const client = track(downstream(address, 'refused'));
    client.subscribe(TypeUrl.Cluster, ['*']);
    const failing = await readinessUntil(relay, 'not ready', (r) => !r.ready);
    assert.equal(failing.reason, 'none of 1 groups has had a live upstream stream for 300 ms or more');
  });
});
