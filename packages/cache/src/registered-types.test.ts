// Types registered at run time (go-control-plane #418) and opaque resources, held and served like built-in ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { ClusterSchema, ResourceTypes, RouteSchema, stringField, TypeUrl, XdsError } from '@xds/api';
import { encodeCount } from './encoded-resource.js';
import { LinearCache } from './linear-cache.js';
import { Snapshot } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { cluster, listener, route } from './test-resources.js';
import { delta, sotw } from './test-watch.js';

const routeUrl = 'type.googleapis.com/envoy.config.route.v3.Route';
const quotaUrl = 'type.googleapis.com/acme.quota.v1.Quota';
/** A type with a schema (a Route stands in for a user's message) and an opaque one, wildcard-capable, pushed first. */
const types = ResourceTypes.builtIn.with(
  { typeUrl: routeUrl, schema: RouteSchema },
  { typeUrl: quotaUrl, wildcard: true, pushOrder: -1, nameOfBytes: stringField(1) },
);
/** An encoded "Quota": field 1 is its name. */
const quota = (name: string, limit: number) =>
  new Uint8Array([0x0a, name.length, ...Buffer.from(name), 0x10, limit]);

describe('registered resource types', () => {
  it('a snapshot holds a registered type (messages and bytes) with versions like a built-in one (S14)', () => {
    const snap = Snapshot.create(
      [cluster('c1'), create(RouteSchema, { name: 'r1' }), { typeUrl: quotaUrl, bytes: quota('q1', 5) }],
      { types },
    );
    assert.deepEqual(snap.typeUrls(), [quotaUrl, TypeUrl.Cluster, routeUrl]);
    assert.equal(snap.resources(routeUrl).get('r1')?.$typeName, 'envoy.config.route.v3.Route');
    const q1 = snap.entries(quotaUrl).get('q1')!;
    assert.equal(q1.opaque, true);
    assert.equal(q1.message, undefined);
    assert.deepEqual([...q1.bytes], [...quota('q1', 5)]);
    // Same bytes, same version, in any snapshot (rule S14).
    const again = Snapshot.create([{ typeUrl: quotaUrl, bytes: quota('q1', 5) }], { types });
    assert.equal(again.version(quotaUrl), snap.version(quotaUrl));
    assert.equal(again.entries(quotaUrl).get('q1')?.version, q1.version);
    assert.throws(() => snap.resources(quotaUrl), /opaque type/);
  });

  it('a snapshot refuses a type its ResourceTypes does not have (InvalidArgument)', () => {
    assert.throws(
      () => Snapshot.create([create(RouteSchema, { name: 'r1' })]),
      (e: unknown) =>
        e instanceof XdsError && /envoy.config.route.v3.Route\) is not an xDS resource type/.test(e.message),
    );
    assert.throws(
      () => Snapshot.create([{ typeUrl: quotaUrl, bytes: quota('q', 1) }]),
      /not a known resource type/,
    );
    // No name readable and none given.
    const noNames = ResourceTypes.builtIn.with({ typeUrl: quotaUrl });
    assert.throws(
      () => Snapshot.create([{ typeUrl: quotaUrl, bytes: quota('q', 1) }], { types: noNames }),
      /needs a name/,
    );
    assert.equal(
      Snapshot.create([{ typeUrl: quotaUrl, bytes: quota('q', 1), name: 'given' }], { types: noNames })
        .entries(quotaUrl)
        .has('given'),
      true,
    );
  });

  it('update() changes registered and opaque types; unchanged types keep their version', () => {
    const before = Snapshot.create([cluster('c1'), { typeUrl: quotaUrl, bytes: quota('q1', 5) }], { types });
    const after = before.update((draft) => {
      draft[quotaUrl]!['q2'] = quota('q2', 7);
      draft[routeUrl]!['r1'] = create(RouteSchema, { name: 'r1' });
    });
    assert.equal(after.version(TypeUrl.Cluster), before.version(TypeUrl.Cluster));
    assert.notEqual(after.version(quotaUrl), before.version(quotaUrl));
    assert.deepEqual([...after.entries(quotaUrl).keys()].sort(), ['q1', 'q2']);
    // The draft shows an opaque resource as its bytes: it is not decoded to be updated.
    after.update((draft) => {
      assert.ok(draft[quotaUrl]!['q1'] instanceof Uint8Array);
    });
    assert.deepEqual([...after.changesSince(before).keys()].sort(), [quotaUrl, routeUrl].sort());
  });

  it('opaque resources of a built-in type are served without decoding and decode only when read', () => {
    const bytes = toBinary(ClusterSchema, cluster('c9'));
    const encodesBefore = encodeCount();
    const snap = Snapshot.create([{ typeUrl: TypeUrl.Cluster, bytes }]);
    assert.equal(encodeCount() - encodesBefore, 1);
    const entry = snap.entries(TypeUrl.Cluster).get('c9')!;
    assert.equal(entry.opaque, true);
    assert.equal(entry.decoded, undefined);
    assert.equal(entry.bytes, bytes);
    // R2: check() does not decode it; a route to it is satisfied, the references inside it are not read.
    const withRoute = Snapshot.create([
      { typeUrl: TypeUrl.Cluster, bytes },
      route('r', 'c9'),
      listener('l', 'r'),
    ]);
    assert.deepEqual(withRoute.check(), []);
    assert.equal(withRoute.entries(TypeUrl.Cluster).get('c9')?.decoded, undefined);
    // Reading the message decodes it, once.
    assert.equal(snap.resources(TypeUrl.Cluster).get('c9')?.name, 'c9');
    assert.equal(entry.message, entry.message);
  });

  it('S9, S11: a SnapshotCache serves a registered type over SotW and delta, wildcard and push order', () => {
    const cache = new SnapshotCache({ types });
    const order: string[] = [];
    const q = sotw(cache, 'n', quotaUrl, {}, order);
    const c = sotw(cache, 'n', TypeUrl.Cluster, {}, order);
    const d = delta(cache, 'n', quotaUrl);
    q.request([]);
    c.request([]);
    d.request(['*']);
    cache.setSnapshot(
      'n',
      Snapshot.create([cluster('c1'), { typeUrl: quotaUrl, bytes: quota('q1', 5) }], { types }),
    );
    assert.deepEqual(q.names(), ['q1']);
    assert.deepEqual(d.diff(), [['q1'], []]);
    assert.deepEqual(c.names(), ['c1']);
    order.length = 0;
    cache.setSnapshot(
      'n',
      Snapshot.create([cluster('c2'), { typeUrl: quotaUrl, bytes: quota('q1', 6) }], { types }),
    );
    // Rule S11: the Quota type was registered to push before Clusters.
    assert.deepEqual(order, [quotaUrl, TypeUrl.Cluster]);
    assert.deepEqual(q.names(), ['q1']);
    assert.deepEqual(d.diff(), [['q1'], []]);
  });

  it('a LinearCache holds a registered opaque type and counts its watches', () => {
    const cache = new LinearCache(quotaUrl, {
      types,
      resources: [{ typeUrl: quotaUrl, bytes: quota('a', 1) }],
    });
    const w = delta(cache, 'n', quotaUrl);
    w.request(['a', 'b']);
    assert.deepEqual(w.diff(), [['a'], ['b']]);
    cache.update({ typeUrl: quotaUrl, bytes: quota('b', 2) });
    assert.deepEqual(w.diff(), [['b'], []]);
    assert.equal(cache.entries().size, 2);
    assert.throws(() => cache.update(create(RouteSchema, { name: 'x' })), /got envoy.config.route.v3.Route/);
    assert.throws(() => new LinearCache(quotaUrl), /not an xDS resource type/);
  });
});
