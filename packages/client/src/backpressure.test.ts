// Rule L2 from the client's side, against an origin that stops reading (probe5 P7): a real gRPC server behind a TCP
// proxy that stops reading the client's socket, so the kernel's buffers and HTTP/2 flow control fill and the client's
// writes back up for real. The client must not queue every request it would send: past
// `limits.maxQueuedRequestBytes` it coalesces what each type owes (rules S4, S5, D8: only the latest nonce is
// answered; the subscription is sent as its net change or, in SotW, its latest whole; S7, D3: a name dropped and asked
// again meanwhile is asked anew), and writes it when the stream drains; past `limits.drainTimeoutMs` it ends the
// stream naming the limit and presents its state on the next (S13, D6, X3).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryResponseSchema,
  type DiscoveryRequest,
  DiscoveryResponseSchema,
  TypeUrl,
} from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { type ClientLimits, resolveClientLimits, type WatchHandle, XdsClient } from './index.js';
import { type AnyRequest, hostileServer } from './test-hostile-server.js';
import { pausingProxy } from './test-pausing-proxy.js';
import { sample, serve } from './test-support.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

type Protocol = 'sotw' | 'delta';

/** An empty Cluster response of `protocol` with `nonce` (and the same version). */
function emptyResponse(protocol: Protocol, nonce: string): Uint8Array {
  if (protocol === 'sotw')
    return toBinary(
      DiscoveryResponseSchema,
      create(DiscoveryResponseSchema, { typeUrl: TypeUrl.Cluster, versionInfo: nonce, nonce }),
    );
  return toBinary(
    DeltaDiscoveryResponseSchema,
    create(DeltaDiscoveryResponseSchema, { typeUrl: TypeUrl.Cluster, systemVersionInfo: nonce, nonce }),
  );
}

/** The Cluster subscription a server holds after reading `requests` in order (one stream). */
function subscribed(protocol: Protocol, requests: readonly AnyRequest[]): Set<string> {
  let names = new Set<string>();
  for (const request of requests) {
    if (request.typeUrl !== TypeUrl.Cluster) continue;
    if (protocol === 'sotw') names = new Set((request as DiscoveryRequest).resourceNames);
    else {
      const delta = request as DeltaDiscoveryRequest;
      for (const name of delta.resourceNamesSubscribe) names.add(name);
      for (const name of delta.resourceNamesUnsubscribe) names.delete(name);
    }
  }
  return names;
}

/** 200 names of about 100 bytes each, distinct per `round` (a SotW request of some 20 KB, a delta change 40 KB). */
function bigNames(round: number): string[] {
  return Array.from({ length: 200 }, (_, i) => `r${round}-${i}-${'x'.repeat(90)}`);
}

/** Gives grpc-js and the sockets a turn (a yield between changes; the conditions below are the signal). */
const yieldTurn = () => new Promise((resolve) => setTimeout(resolve, 2));

/** Runs `step` until it returns true, at most `rounds` times and `ms` long. */
async function until(what: string, step: () => boolean, rounds = 1500, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < rounds; i++) {
    if (step()) return;
    if (Date.now() > deadline) break;
    await yieldTurn();
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * Changes `churn`'s names round after round until the client holds a request it cannot write, then until 20 changes
 * in a row wrote nothing (the connection takes no more: the proxy is paused). Returns the last round.
 */
async function fillUntilBlocked(client: XdsClient, churn: WatchHandle, first: number): Promise<number> {
  let round = first;
  await until('a request the client cannot write', () => {
    churn.setNames(bigNames(++round));
    return client.requestBacklog().waitingTypes > 0;
  });
  let still = 0;
  let written = client.requestBacklog().written;
  await until('20 changes in a row that wrote nothing', () => {
    churn.setNames(bigNames(++round));
    const now = client.requestBacklog().written;
    still = now === written ? still + 1 : 0;
    written = now;
    return still >= 20;
  });
  return round;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

async function setUp(protocol: Protocol, limits: ClientLimits) {
  let respond: (bytes: Uint8Array) => void = () => {};
  const origin = await hostileServer(protocol, (_request, index, write) => {
    if (index === 0) respond = write;
  });
  closers.push(() => origin.close());
  const proxy = await pausingProxy(origin.address);
  closers.push(() => proxy.close());
  const client = new XdsClient({
    servers: [proxy.address],
    node: 'n1',
    protocol,
    backoff: { initialMs: 10, maxMs: 50 },
    limits,
  });
  closers.push(() => client.close());
  client.watch(TypeUrl.Cluster, ['base'], () => {});
  await until('the first request', () => origin.requests.length >= 1);
  return { origin, proxy, client, respond: (bytes: Uint8Array) => respond(bytes) };
}

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient writes with backpressure (${protocol})`, () => {
    it('L2, S4, S5, D8: behind an origin that stops reading, the client holds at most its bound and the origin gets the latest state exactly', async () => {
      const limit = 64 * 1024;
      const { origin, proxy, client, respond } = await setUp(protocol, {
        maxQueuedRequestBytes: limit,
        drainTimeoutMs: 600_000,
      });
      proxy.pause();
      const readAtPause = origin.requests.length;
      const churn = client.watch(TypeUrl.Cluster, bigNames(0), () => {});
      const last = await fillUntilBlocked(client, churn, 0);
      const backlog = client.requestBacklog();
      // Past the bound nothing more is written: what is held is the bound and the one request that crossed it.
      assert.ok(backlog.queuedBytes >= limit, `${backlog.queuedBytes} bytes queued`);
      assert.ok(
        backlog.queuedBytes < limit + 48 * 1024,
        `${backlog.queuedBytes} bytes queued, over the bound`,
      );
      assert.ok(backlog.coalesced >= 20, `${backlog.coalesced} requests coalesced`);

      // A type watched and given up while the stream is full is never told: an empty first request would mean the
      // wildcard (rules S9, D7).
      client.watch(TypeUrl.Endpoint, ['e1'], () => {})();

      // The origin answers 10 times meanwhile (its responses still reach the client): only the last nonce may be
      // answered once the stream drains (S4).
      let acks = 0;
      client.on('ack', () => acks++);
      for (let i = 1; i <= 10; i++) respond(emptyResponse(protocol, `n${i}`));
      await until('the client to judge the 10 responses', () => acks === 10);

      proxy.resume();
      const want = new Set(['base', ...bigNames(last)]);
      await until(
        'the origin to hold the final subscription and the ACK of n10',
        () =>
          origin.requests.some((r) => r.responseNonce === 'n10' && r.errorDetail === undefined) &&
          sameSet(subscribed(protocol, origin.requests), want),
      );
      const read = origin.requests.slice(readAtPause);
      const nonces = read.map((r) => r.responseNonce).filter((n) => n !== '' && n !== 'n10');
      assert.deepEqual(nonces, [], 'no request answers a stale nonce (S4)');
      assert.ok(
        read.length < last,
        `the origin read ${read.length} requests for ${last} changes and 10 responses: they were coalesced`,
      );
      assert.deepEqual(
        read.filter((r) => r.typeUrl === TypeUrl.Endpoint),
        [],
        'the type given up was never told',
      );
      assert.equal(proxy.connections, 1, 'the stream was not ended: it drained');
      assert.equal(client.requestBacklog().waitingTypes, 0);
    });

    it('L2, S7, D3: a name dropped and asked again while the stream is full is sent again once it drains', async () => {
      const cache = new SnapshotCache();
      cache.setSnapshot('n1', sample());
      const { server, address } = await serve(cache);
      closers.push(() => server.close());
      const proxy = await pausingProxy(address);
      closers.push(() => proxy.close());
      const client = new XdsClient({
        servers: [proxy.address],
        node: 'n1',
        protocol,
        limits: { maxQueuedRequestBytes: 16 * 1024, drainTimeoutMs: 600_000 },
      });
      closers.push(() => client.close());
      // Endpoints: a server sends them only when asked (a Cluster response repeats every subscribed cluster).
      const first = client.watch(TypeUrl.Endpoint, ['c1'], () => {});
      await until('c1', () => client.resource(TypeUrl.Endpoint, 'c1') !== undefined);
      proxy.pause();
      const churn = client.watch(TypeUrl.Cluster, bigNames(0), () => {});
      await fillUntilBlocked(client, churn, 0);
      // Dropped (the client forgets c1), then asked again: the net change is none, but the client no longer has it.
      first();
      assert.equal(client.resource(TypeUrl.Endpoint, 'c1'), undefined, 'c1 was forgotten');
      const updates: string[] = [];
      client.watch(TypeUrl.Endpoint, ['c1'], (update) => updates.push(...update.updated.map((r) => r.name)));
      proxy.resume();
      await until('c1 to be sent again', () => updates.includes('c1'));
      assert.notEqual(client.resource(TypeUrl.Endpoint, 'c1'), undefined);
    });

    it('L2, X3: a stream that does not drain within limits.drainTimeoutMs is ended naming it, and the next presents the state (S13, D6)', async () => {
      const { origin, proxy, client } = await setUp(protocol, {
        maxQueuedRequestBytes: 16 * 1024,
        drainTimeoutMs: 500,
      });
      proxy.pause();
      let disconnected: { details: string } | undefined;
      client.once('disconnected', (event) => {
        disconnected = event;
      });
      const churn = client.watch(TypeUrl.Cluster, bigNames(0), () => {});
      let round = 0;
      // Changes go on until the client gives the stream up: it never drains, as the proxy never reads it again.
      await until(
        'the stream to be ended',
        () => {
          if (disconnected !== undefined) return true;
          churn.setNames(bigNames(++round));
          return false;
        },
        20_000,
      );
      assert.match(disconnected?.details ?? '', /limits\.drainTimeoutMs=500 ms/);
      const want = new Set(['base', ...bigNames(round)]);
      await until('the next stream to be told the whole subscription', () => {
        const opening = origin.requests.findLast((r) => r.node?.id === 'n1');
        return (
          proxy.connections >= 2 && opening !== undefined && sameSet(subscribed(protocol, [opening]), want)
        );
      });
    });
  });
}

describe('client limits', () => {
  it('L2: maxQueuedRequestBytes and drainTimeoutMs are validated like every client limit', () => {
    assert.equal(resolveClientLimits(undefined).maxQueuedRequestBytes, 4 * 1024 * 1024);
    assert.equal(resolveClientLimits(undefined).drainTimeoutMs, 60_000);
    assert.throws(
      () => resolveClientLimits({ maxQueuedRequestBytes: 0 }),
      /limits\.maxQueuedRequestBytes must be a positive integer, got 0/,
    );
    assert.throws(
      () => resolveClientLimits({ drainTimeoutMs: 2 ** 31 }),
      /limits\.drainTimeoutMs must be at most 2147483647/,
    );
  });
});
