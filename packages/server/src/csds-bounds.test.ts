// Rule L2 for CSDS answers (probe4 F6): an answer is bounded while it is built, not after. Subscribed names with no
// resource are listed up to limits.maxStatusUnknownNames per stream and type and counted past it; an answer past
// limits.maxStatusConfigs or maxStatusBytes (never more than maxMessageBytes) ends the call with RESOURCE_EXHAUSTED
// naming the limit; answers are built in slices that give way to other work, at most
// limits.maxConcurrentStatusCalls at once (counted in csds-gate.test.ts). Over a real grpc-js server and real xDS
// clients.
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

/**
 * A server started with `options`, node n1 holding `missing` names with no resource (see {@link holder}), and a CSDS
 * client: runs `body`, then closes both.
 */
async function withHolder(
  options: Parameters<typeof start>[0],
  missing: number,
  body: (h: Harness, csds: ReturnType<typeof csdsClient>) => Promise<void>,
): Promise<void> {
  const h = await start(options);
  const csds = csdsClient(h.address, 30_000);
  try {
    await holder(h, missing);
    await body(h, csds);
  } finally {
    csds.close();
    await h.close();
  }
}

const exhausted = (limit: RegExp) => (e: ServiceError) => {
  assert.equal(e.code, status.RESOURCE_EXHAUSTED, e.details);
  assert.match(e.details, limit);
  return true;
};

describe('L2: CSDS answers are bounded while they are built (probe4 F6)', () => {
  it('L2: subscribed names with no resource are listed up to maxStatusUnknownNames and counted past it', async () => {
    await withHolder({ limits: { maxStatusUnknownNames: 10 } }, 1000, async (_h, csds) => {
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
    });
  });

  it('L2: an answer past limits.maxStatusConfigs ends the call with RESOURCE_EXHAUSTED naming it; other answers go on', async () => {
    await withHolder({ limits: { maxStatusConfigs: 50 } }, 1000, async (h, csds) => {
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
    });
  });

  it('L2: an answer past limits.maxStatusBytes, or past maxMessageBytes, ends the call with RESOURCE_EXHAUSTED naming maxStatusBytes', async () => {
    for (const options of [{ limits: { maxStatusBytes: 2000 } }, { maxMessageBytes: 2000 }]) {
      await withHolder(options, 100, async (h, csds) => {
        await assert.rejects(csds.fetch({}), exhausted(/limits\.maxStatusBytes \(2000 bytes\)/));
        assert.equal(h.server.streamStats().endedByLimit.maxStatusBytes, 1);
        // The same node with a few names fits.
        const small = await csds.fetch({ ...forNodes('nobody') });
        assert.deepEqual(small.config, []);
      });
    }
  });
});

describe('L2: the pieces that keep a CSDS build from stalling others', () => {
  it('L2: StatusGate runs at most max at once, queues up to maxWaiting, refuses past that naming the limit', async () => {
    const gate = new StatusGate({ max: 1, maxPerCaller: 10, maxWaiting: 1 });
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
    assert.deepEqual(gate.stats, { running: 1, waiting: 1, callers: 0 });
    assert.deepEqual(order, []);
    release();
    assert.deepEqual(await Promise.all([first, second]), ['first', 'second']);
    assert.deepEqual(gate.stats, { running: 0, waiting: 0, callers: 0 });
  });

  it('L2: StatusGate gives a caller at most maxPerCaller calls in flight, refusing the next naming the limit and the caller, so another caller still gets a place in the queue and its turn', async () => {
    const gate = new StatusGate({ max: 1, maxPerCaller: 2, maxWaiting: 2 });
    const hostile = 'peer 127.0.0.2';
    const letGo: (() => void)[] = [];
    const call = (caller: string, label: string) => {
      const done = gate.admit(caller);
      return gate.run(() => new Promise<string>((resolve) => letGo.push(() => resolve(label)))).finally(done);
    };
    const held = [call(hostile, 'a'), call(hostile, 'b')];
    const refused: string[] = [];
    assert.throws(
      () => gate.admit(hostile, (limit) => refused.push(limit)),
      (e: XdsError) =>
        e.code === Code.ResourceExhausted &&
        /^peer 127\.0\.0\.2 has 2 CSDS calls in flight, limits\.maxStatusCallsPerCaller \(2\)/.test(
          e.message,
        ),
    );
    assert.deepEqual(refused, ['maxStatusCallsPerCaller']);
    assert.deepEqual(gate.stats, { running: 1, waiting: 1, callers: 1 });
    // The operator's call is queued, not refused, and runs in its turn.
    const operator = call('identity spiffe://example.org/ns/ops/sa/admin', 'operator');
    assert.deepEqual(gate.stats, { running: 1, waiting: 2, callers: 2 });
    for (let turn = 0; turn < 3; turn++) {
      for (let i = 0; letGo.length <= turn && i < 1000; i++) await new Promise(setImmediate);
      letGo[turn]!();
    }
    assert.deepEqual(await Promise.all([...held, operator]), ['a', 'b', 'operator']);
    assert.deepEqual(gate.stats, { running: 0, waiting: 0, callers: 0 });
    // Its calls answered, the caller has its share again.
    gate.admit(hostile)();
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
