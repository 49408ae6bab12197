// Rule S13 from the client's side: on a new SotW stream the client presents a `version_info` only when what it holds
// is the whole state at that version for the subscription it asks, since a server may then leave the request
// unanswered (ours does for a wildcard; Envoy's xds_protocol.rst allows it whenever the client subscribes to nothing
// new). Each case reconnects to a real XdsServer whose version of the type equals the one the client last accepted,
// and ends with the client holding that server's resources.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, type DiscoveryRequest, DiscoveryResponseSchema, TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import type { XdsServer } from '@xds/server';
import { until } from '@xds/testing';
import { XdsClient } from './index.js';
import { hostileServer } from './test-hostile-server.js';
import { assignment, cluster, nextEvent, sample, serve } from './test-support.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

/** A real server holding `snapshot` for node n1. */
async function origin(snapshot: Snapshot) {
  const cache = new SnapshotCache();
  cache.setSnapshot('n1', snapshot);
  const served = await serve(cache);
  closers.push(() => served.server.close());
  return { ...served, cache };
}

/** What a test's client is made with: a validation by name, and the protocol (SotW unless said). */
interface ClientChoice {
  readonly validate?: (name: string) => string | null;
  readonly protocol?: 'sotw' | 'delta';
}

/** A client of node n1 that goes to the next of `servers` when a stream ends. */
function client(servers: string[], { validate, protocol = 'sotw' }: ClientChoice = {}): XdsClient {
  const c = new XdsClient({
    servers,
    node: 'n1',
    protocol,
    backoff: { initialMs: 5, maxMs: 20 },
    ...(validate === undefined ? {} : { validate: (_typeUrl, resource) => validate(resource.name) }),
  });
  closers.push(() => c.close());
  return c;
}

/** Two servers holding `snapshot`, and a client of both that holds what it watches (`names`) of the first. */
async function twoOrigins(snapshot: Snapshot, names: string[] | '*', choice: ClientChoice = {}) {
  const first = await origin(snapshot);
  const second = await origin(snapshot);
  const c = client([first.address, second.address], choice);
  const got = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Cluster);
  const watch = c.watch(TypeUrl.Cluster, names, () => {});
  await got;
  return { first, second, c, watch };
}

/** The resources of a type (Cluster unless said) the client holds, as `name@version`, sorted. */
const held = (c: XdsClient, typeUrl: TypeUrl = TypeUrl.Cluster) =>
  [...c.resources(typeUrl).values()].map((r) => `${r.name}@${r.version}`).sort();

/** The resources of a type of `snapshot`, as {@link held} says them. */
const current = (snapshot: Snapshot, typeUrl: TypeUrl = TypeUrl.Cluster) =>
  [...snapshot.entries(typeUrl).entries()].map(([name, r]) => `${name}@${r.version}`).sort();

/** The first request of a type of `server`'s next stream. */
const firstRequest = (server: XdsServer, typeUrl: TypeUrl = TypeUrl.Cluster) =>
  nextEvent(server, 'request', (e) => e.initial && e.typeUrl === typeUrl);

/** Polls, with a deadline, until the client holds `snapshot`'s resources of a type. */
const holds = (c: XdsClient, snapshot: Snapshot, typeUrl: TypeUrl = TypeUrl.Cluster) =>
  until(
    `the client to hold the server's ${typeUrl}`,
    () => held(c, typeUrl).join() === current(snapshot, typeUrl).join(),
  );

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient resumes a changed or NACKed state over ${protocol}`, () => {
    it('S13, D6: names changed to the wildcard while disconnected present no version, and the client gets the whole type', async () => {
      const snapshot = sample();
      const { first, second, c, watch } = await twoOrigins(snapshot, ['c1'], { protocol });
      if (protocol === 'sotw') assert.equal(c.version(TypeUrl.Cluster), snapshot.version(TypeUrl.Cluster));
      // Changed between the streams: the next stream's first request asks ['*'], which the server may leave
      // unanswered when the version presented is its own.
      c.once('disconnected', () => watch.setNames('*'));
      const presented = firstRequest(second.server);
      await first.server.close();
      const request = await presented;
      assert.deepEqual(request.names, ['*']);
      // Delta presents the version of each resource held instead (rule D6), and never a version_info.
      assert.equal(request.versionInfo, '', 'the version held was accepted for c1 alone');
      await holds(c, snapshot);
    });

    it('S13, D6, S5: after a NACK that applied part of a response, a reconnect presents no version', async () => {
      const before = sample();
      const validate = (name: string) => (name === 'bad' ? 'bad is refused' : null);
      const { first, second, c } = await twoOrigins(before, '*', { validate, protocol });
      const version = c.version(TypeUrl.Cluster);
      // c2 changes and comes with a bad cluster: the new c2 is applied, the response NACKed and the version kept, so
      // the client holds a state no version describes.
      const nacked = nextEvent(c, 'nack');
      first.cache.setSnapshot('n1', Snapshot.create([cluster('c1'), cluster('c2', 'other'), cluster('bad')]));
      await nacked;
      assert.equal(c.version(TypeUrl.Cluster), version);
      assert.notDeepEqual(held(c), current(before), 'the new c2 was applied');
      // The second server holds the state of that version.
      if (protocol === 'sotw') assert.equal(before.version(TypeUrl.Cluster), version);
      const presented = firstRequest(second.server);
      await first.server.close();
      assert.equal((await presented).versionInfo, '', 'no version describes what the client holds');
      await holds(c, before);
    });
  });
}

describe('XdsClient presents a version on reconnect only for a complete state (SotW)', () => {
  it('S13: a response that answered the subscription before the wildcard covers only that subscription', async () => {
    const snapshot = sample();
    const version = snapshot.version(TypeUrl.Cluster);
    // Answers the first request, and then the first one that asks the wildcard, with c1 alone: a push that crossed
    // the request, answering the subscription the server knew (the client cannot tell the two apart).
    const c1 = toBinary(
      DiscoveryResponseSchema,
      create(DiscoveryResponseSchema, {
        typeUrl: TypeUrl.Cluster,
        versionInfo: version,
        resources: [anyPack(ClusterSchema, cluster('c1'))],
      }),
    );
    let crossed = false;
    const first = await hostileServer('sotw', (request, index, write) => {
      const names = (request as DiscoveryRequest).resourceNames;
      if (index === 0) write(withNonce(c1, 'n1'));
      else if (names.includes('*') && !crossed) {
        crossed = true;
        write(withNonce(c1, 'n2'));
      }
    });
    closers.push(() => first.close());
    const second = await origin(snapshot);
    const c = client([first.address, second.address]);
    const acked = nextEvent(c, 'ack', (e) => e.nonce === 'n1');
    const named = c.watch(TypeUrl.Cluster, ['c1'], () => {});
    await acked;
    const ackedCrossed = nextEvent(c, 'ack', (e) => e.nonce === 'n2');
    c.watch(TypeUrl.Cluster, '*', () => {});
    await ackedCrossed;
    assert.equal(c.version(TypeUrl.Cluster), version);
    // Now the subscription is the wildcard alone, which the server may leave unanswered at its own version.
    named();
    const presented = firstRequest(second.server);
    first.kill();
    assert.equal(
      (await presented).versionInfo,
      '',
      'what the client holds was never answered for the wildcard',
    );
    await holds(c, snapshot);
  });

  it('S13, S6: after a NACK of endpoints (responses carry only changes), a later ACK on that stream presents no version', async () => {
    const endpoints = (c1: number, c2: number) =>
      Snapshot.create([cluster('c1'), cluster('c2'), assignment('c1', c1), assignment('c2', c2)]);
    const last = endpoints(7777, 9999);
    const first = await origin(endpoints(8080, 8081));
    const second = await origin(last);
    let refuse = false;
    const c = client([first.address, second.address], {
      validate: (name) => (refuse && name === 'c2' ? 'c2 is refused' : null),
    });
    const got = nextEvent(c, 'update', (e) => e.typeUrl === TypeUrl.Endpoint);
    c.watch(TypeUrl.Endpoint, ['c1', 'c2'], () => {});
    await got;
    // c2 changes and is refused; then c1 changes and is accepted. The server sends c1 alone, counting the refused c2
    // as sent (rule S6), so the version accepted does not describe the c2 the client holds.
    refuse = true;
    const nacked = nextEvent(c, 'nack');
    first.cache.setSnapshot('n1', endpoints(8080, 9999));
    await nacked;
    const acked = nextEvent(c, 'ack', (e) => e.typeUrl === TypeUrl.Endpoint);
    first.cache.setSnapshot('n1', last);
    assert.equal((await acked).version, last.version(TypeUrl.Endpoint));
    assert.notDeepEqual(
      held(c, TypeUrl.Endpoint),
      current(last, TypeUrl.Endpoint),
      'the refused c2 is not held',
    );
    refuse = false;
    const presented = firstRequest(second.server, TypeUrl.Endpoint);
    await first.server.close();
    assert.equal((await presented).versionInfo, '', 'what the client holds of c2 is older than the version');
    await holds(c, last, TypeUrl.Endpoint);
  });

  it('S13: an unchanged wildcard subscription still presents the version it holds', async () => {
    const snapshot = sample();
    const { first, second, c } = await twoOrigins(snapshot, '*');
    const presented = firstRequest(second.server);
    await first.server.close();
    assert.equal((await presented).versionInfo, snapshot.version(TypeUrl.Cluster));
    assert.deepEqual(held(c), current(snapshot));
  });
});

/** `bytes` of a DiscoveryResponse with its nonce set. */
function withNonce(bytes: Uint8Array, nonce: string): Uint8Array {
  const tail = toBinary(DiscoveryResponseSchema, create(DiscoveryResponseSchema, { nonce }));
  const out = new Uint8Array(bytes.length + tail.length);
  out.set(bytes);
  out.set(tail, bytes.length);
  return out;
}
