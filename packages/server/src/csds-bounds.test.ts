// Rule L2 for CSDS answers (probe4 F6): an answer is bounded while it is built, not after. Subscribed names with no
// resource are listed up to limits.maxStatusUnknownNames per stream and type and counted past it; an answer past
// limits.maxStatusConfigs or maxStatusBytes (never more than maxMessageBytes) ends the call with RESOURCE_EXHAUSTED
// naming the limit; answers are built in slices that give way to other work, at most
// limits.maxConcurrentStatusCalls at once. Over a real grpc-js server and real xDS clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { ClientResourceStatus, Code, TypeUrl, XdsError } from '@xds/api';
import { StatusGate } from './csds-gate.js';
import { statusSlices } from './status-slices.js';
import { csdsClient, forNodes } from './test-csds-client.js';
import { type Harness, start } from './test-harness.js';

const { Endpoint } = TypeUrl;

/** Node n1 (which has the sample snapshot) subscribes to assignment c1 and `missing` names with no resource. */
async function holder(h: Harness, missing: number): Promise<void> {
  const client = h.client({ node: 'n1', timeoutMs: 30_000 });
  client.subscribe(Endpoint, ['c1', ...Array.from({ length: missing }, (_, i) => `missing-${i}`)]);
  await client.next(Endpoint, { timeoutMs: 30_000 });
  const deadline = Date.now() + 30_000;
  // The ACK of that response is in once the type is SYNCED.
  while (h.server.clientOf('n1', { maxSubscribedNames: 0 })?.types[Endpoint]?.status !== 'SYNCED') {
    if (Date.now() > deadline) throw new Error('the holder never ACKed');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const exhausted = (limit: RegExp) => (e: ServiceError) => {
  assert.equal(e.code, status.RESOURCE_EXHAUSTED, e.details);
  assert.match(e.details, limit);
  return true;
};

describe('L2: CSDS answers are bounded while they are built (probe4 F6)', () => {
  it('L2: subscribed names with no resource are listed up to maxStatusUnknownNames and counted past it', async () => {
    const h = await start({ limits: { maxStatusUnknownNames: 10 } });
    const csds = csdsClient(h.address, 30_000);
    try {
      await holder(h, 1000);
      for (const answer of [await csds.fetch(forNodes('n1')), ...(await csds.stream([forNodes('n1')]))]) {
        const configs = answer.config[0]!.genericXdsConfigs.filter((c) => c.typeUrl === Endpoint);
        assert.equal(configs.length, 1 + 10 + 1);
        const c1 = configs.find((c) => c.name === 'c1');
        assert.equal(c1?.clientStatus, ClientResourceStatus.ACKED);
        assert.ok(c1?.xdsConfig !== undefined);
        const listed = configs.filter((c) => c.name.startsWith('missing-'));
        assert.equal(listed.length, 10);
        assert.ok(listed.every((c) => c.clientStatus === ClientResourceStatus.DOES_NOT_EXIST));
        const note = configs.at(-1)!;
        assert.match(
          note.name,
          /^\[990 more subscribed names with no resource, not listed: limits\.maxStatusUnknownNames is 10\]$/,
        );
        assert.equal(note.clientStatus, ClientResourceStatus.DOES_NOT_EXIST);
      }
    } finally {
      csds.close();
      await h.close();
    }
  });

  it('L2: an answer past limits.maxStatusConfigs ends the call with RESOURCE_EXHAUSTED naming it; other answers go on', async () => {
    const h = await start({ limits: { maxStatusConfigs: 50 } });
    const csds = csdsClient(h.address, 30_000);
    try {
      await holder(h, 1000);
      const other = h.client({ node: 'other' });
      h.cache.setSnapshot('other', h.cache.getSnapshot('n1')!);
      other.subscribe(TypeUrl.Cluster, []);
      await other.next(TypeUrl.Cluster);
      // 1 + 100 listed + 1 note = 102 entries for n1.
      await assert.rejects(csds.fetch({}), exhausted(/limits\.maxStatusConfigs \(50\)/));
      await assert.rejects(csds.stream([forNodes('n1')]), exhausted(/limits\.maxStatusConfigs \(50\)/));
      assert.equal(h.server.streamStats().endedByLimit.maxStatusConfigs, 2);
      const answer = await csds.fetch(forNodes('other'));
      assert.deepEqual(
        answer.config.map((c) => c.node?.id),
        ['other'],
      );
    } finally {
      csds.close();
      await h.close();
    }
  });

  it('L2: an answer past limits.maxStatusBytes, or past maxMessageBytes, ends the call with RESOURCE_EXHAUSTED naming maxStatusBytes', async () => {
    for (const options of [{ limits: { maxStatusBytes: 2000 } }, { maxMessageBytes: 2000 }]) {
      const h = await start(options);
      const csds = csdsClient(h.address, 30_000);
      try {
        await holder(h, 100);
        await assert.rejects(csds.fetch({}), exhausted(/limits\.maxStatusBytes \(2000 bytes\)/));
        assert.equal(h.server.streamStats().endedByLimit.maxStatusBytes, 1);
        // The same node with a few names fits.
        const small = await csds.fetch({ ...forNodes('nobody') });
        assert.deepEqual(small.config, []);
      } finally {
        csds.close();
        await h.close();
      }
    }
  });

  it('L2: concurrent calls past maxConcurrentStatusCalls wait their turn and are all answered', async () => {
    const h = await start({ limits: { maxConcurrentStatusCalls: 1 } });
    const csds = csdsClient(h.address, 30_000);
    try {
      await holder(h, 500);
      const answers = await Promise.all(Array.from({ length: 6 }, () => csds.fetch(forNodes('n1'))));
      for (const answer of answers) assert.equal(answer.config[0]?.genericXdsConfigs.length, 102);
    } finally {
      csds.close();
      await h.close();
    }
  });
});

describe('L2: the pieces that keep a CSDS build from stalling others', () => {
  it('L2: StatusGate runs at most max at once, queues up to maxWaiting, refuses past that naming the limit', async () => {
    const gate = new StatusGate(1, 1);
    let release!: () => void;
    const first = gate.run(() => new Promise<string>((resolve) => (release = () => resolve('first'))));
    const order: string[] = [];
    const second = gate.run(async () => {
      order.push('second');
      return 'second';
    });
    let refused = 0;
    await assert.rejects(
      gate.run(
        async () => 'third',
        () => refused++,
      ),
      (e: XdsError) =>
        e instanceof XdsError &&
        e.code === Code.ResourceExhausted &&
        /limits\.maxConcurrentStatusCalls \(1\)/.test(e.message),
    );
    assert.equal(refused, 1);
    assert.deepEqual(gate.stats, { running: 1, waiting: 1 });
    assert.deepEqual(order, []);
    release();
    assert.deepEqual(await Promise.all([first, second]), ['first', 'second']);
    assert.deepEqual(gate.stats, { running: 0, waiting: 0 });
  });

  it('L2: a slice gives way to work queued before its pause, and stops when the caller left', async () => {
    let left = false;
    const slices = statusSlices(0, () => left);
    let due = 0;
    for (let i = 0; i < 128; i++) if (slices.due()) due++;
    assert.equal(due, 2);
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    await slices.pause();
    assert.equal(ran, true);
    left = true;
    await assert.rejects(slices.pause(), (e: XdsError) => e.code === Code.Cancelled);
  });
});
