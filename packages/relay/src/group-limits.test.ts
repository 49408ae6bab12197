// Rules X4 and L2 at the relay's fan-in: a group's union of subscriptions is bounded (`maxNamesPerGroup`), so one
// downstream client asking for too many names is refused alone, and never makes the origin refuse the group's one
// upstream stream (which would freeze every other client of the group). A real origin XdsServer with a small
// maxNamesPerRequest, the real relay, real downstream clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { closeAfterAll, downstream, moveEndpoint, startOrigin, startRelay } from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

/** An origin refusing requests of more than `maxNames` names, holding originSnapshot(). */
async function strictOrigin(maxNames: number) {
  const origin = await startOrigin(undefined, { limits: { maxNamesPerRequest: maxNames } });
  closers.push(() => origin.server.close());
  return origin;
}

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`relay: a group's union of names is bounded (${protocol} downstream)`, () => {
    it('X4, L2: a client asking past maxNamesPerGroup is refused alone; the group keeps its updates', {
      timeout: 30_000,
    }, async () => {
      const origin = await strictOrigin(10);
      const { relay, address } = await startRelay([origin.address], { maxNamesPerGroup: 8 });
      closers.push(() => relay.close());
      const bystander = track(downstream(address, 'bystander', { protocol }));
      bystander.subscribe(TypeUrl.Endpoint, ['c1']);
      await bystander.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c1'));

      // 10 names of its own + the bystander's 1: past the origin's 10 had the relay passed them on.
      const greedy = track(downstream(address, 'greedy', { protocol }));
      greedy.subscribe(
        TypeUrl.Endpoint,
        Array.from({ length: 10 }, (_, i) => `x${i}`),
      );
      const end = await greedy.ended();
      assert.equal(end.code, 8, `RESOURCE_EXHAUSTED: ${end.details}`);
      assert.match(end.details, /maxNamesPerGroup/);
      assert.match(end.details, /--max-names-per-group 8/);

      // The group's upstream still works: an origin change reaches the bystander, a newcomer gets a new name.
      await moveEndpoint(origin, bystander);
      const newcomer = track(downstream(address, 'newcomer', { protocol }));
      newcomer.subscribe(TypeUrl.Endpoint, ['c2']);
      await newcomer.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c2'));
      const upstream = origin.server.clients().find((c) => c.nodeId === 'relay~web');
      assert.ok(upstream !== undefined, 'the group keeps its upstream stream');
    });
  });
}
