import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ClusterSchema, Code, DiscoveryRequestSchema, TypeUrl, XdsError } from '@xds/api';
import { encodeCount, encodeResource } from './encoded-resource.js';
import { Snapshot } from './snapshot.js';
import { assignment, cluster, listener, route, secret } from './test-resources.js';

function sample(): Snapshot {
  return Snapshot.create([
    cluster('c1'),
    cluster('c2'),
    assignment('c1', 80),
    assignment('c2', 81),
    listener('l1', 'r1'),
    route('r1', 'c1', 'c2'),
  ]);
}

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(
    fn,
    (error: unknown) =>
      error instanceof XdsError && error.code === Code.InvalidArgument && pattern.test(error.message),
  );
}

describe('Snapshot.create', () => {
  it('R1: infers type and name of each resource', () => {
    const snap = sample();
    assert.deepEqual([...snap.resources(TypeUrl.Cluster).keys()], ['c1', 'c2']);
    assert.deepEqual([...snap.resources(TypeUrl.Endpoint).keys()], ['c1', 'c2']);
    assert.equal(snap.resources(TypeUrl.Route).get('r1')?.virtualHosts.length, 1);
    assert.equal(snap.resources(TypeUrl.Secret).size, 0);
    assert.deepEqual(snap.typeUrls(), [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route]);
  });

  it('throws an XdsError naming the offender', () => {
    rejects(() => Snapshot.create([cluster('a'), cluster('a')]), /duplicate Cluster "a" \(resource #1\)/);
    rejects(
      () => Snapshot.create([cluster('a'), create(DiscoveryRequestSchema)]),
      /resource #1 \(envoy.service.discovery.v3.DiscoveryRequest\) is not an xDS resource type/,
    );
    rejects(() => Snapshot.create([{ name: 'x' } as never]), /resource #0 is not a protobuf-es message/);
    rejects(() => Snapshot.create([create(ClusterSchema)]), /resource #0 \(Cluster\) has no name/);
    rejects(
      () => Snapshot.create([{ resource: cluster('t'), ttlMs: -1 }]),
      /Cluster "t": ttlMs must be a positive number/,
    );
  });

  it('is deeply frozen', () => {
    const snap = sample();
    const c = snap.resources(TypeUrl.Cluster).get('c1')!;
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.edsClusterConfig));
    assert.ok(Object.isFrozen(snap));
    assert.throws(() => {
      (c as { name: string }).name = 'changed';
    }, TypeError);
  });

  it('S14: versions are content hashes, equal for equal content built separately', () => {
    const a = sample();
    const b = sample();
    for (const typeUrl of Object.values(TypeUrl)) assert.equal(a.version(typeUrl), b.version(typeUrl));
    const c = Snapshot.create([cluster('c1'), cluster('c2', 'other')]);
    assert.notEqual(c.version(TypeUrl.Cluster), a.version(TypeUrl.Cluster));
    assert.equal(c.version(TypeUrl.Secret), a.version(TypeUrl.Secret));
  });

  it('S14: versions do not depend on the order of resources', () => {
    const a = Snapshot.create([cluster('x'), cluster('y')]);
    const b = Snapshot.create([cluster('y'), cluster('x')]);
    assert.equal(a.version(TypeUrl.Cluster), b.version(TypeUrl.Cluster));
  });

  it('S14: two processes holding equal snapshots report equal versions', () => {
    const script = fileURLToPath(new URL('./test-versions-child.ts', import.meta.url));
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    const theirs = JSON.parse(output) as Record<string, string>;
    const ours = sample();
    assert.equal(Object.keys(theirs).length, Object.values(TypeUrl).length + 1);
    for (const typeUrl of Object.values(TypeUrl))
      assert.equal(theirs[typeUrl], ours.version(typeUrl), typeUrl);
    assert.equal(theirs['c1'], ours.entries(TypeUrl.Cluster).get('c1')?.version);
  });

  it('a user-given version wins for SotW; per-resource versions stay content hashes (D4)', () => {
    const snap = Snapshot.create([cluster('c1'), assignment('c1', 80)], { version: 'v1' });
    assert.equal(snap.version(TypeUrl.Cluster), 'v1');
    assert.equal(snap.version(TypeUrl.Endpoint), 'v1');
    assert.equal(
      snap.entries(TypeUrl.Cluster).get('c1')?.version,
      sample().entries(TypeUrl.Cluster).get('c1')?.version,
    );
    const per = Snapshot.create([cluster('c1')], { version: { [TypeUrl.Cluster]: 'cds-7' } });
    assert.equal(per.version(TypeUrl.Cluster), 'cds-7');
    assert.notEqual(per.version(TypeUrl.Endpoint), 'cds-7');
  });

  it('S14: a snapshot built with a given version later updates to the content-hash version of its content', () => {
    const given = Snapshot.create([cluster('c1'), cluster('c2'), assignment('c1', 80)], { version: 'v7' });
    assert.equal(given.version(TypeUrl.Cluster), 'v7');
    const updated = given.update((d) => {
      d[TypeUrl.Cluster]['c3'] = cluster('c3');
    });
    const fresh = Snapshot.create([cluster('c1'), cluster('c2'), cluster('c3'), assignment('c1', 80)]);
    assert.equal(updated.version(TypeUrl.Cluster), fresh.version(TypeUrl.Cluster));
    assert.notEqual(updated.version(TypeUrl.Cluster), 'v7');
    assert.equal(updated.version(TypeUrl.Endpoint), 'v7', 'an untouched type keeps its given version');
  });

  it('R3: a resource given the bytes it was decoded from keeps them, with the version equal content gets', () => {
    const original = cluster('from-bytes');
    const bytes = toBinary(ClusterSchema, original);
    const decoded = fromBinary(ClusterSchema, bytes);
    const before = encodeCount();
    const entry = encodeResource(decoded, { bytes });
    assert.equal(entry.bytes, bytes, 'the given bytes are the encoding, not a re-encoding');
    assert.ok(Object.isFrozen(decoded), 'frozen, so that it cannot drift from its bytes');
    assert.equal(
      entry.version,
      encodeResource(cluster('from-bytes')).version,
      'S14: same content, same version',
    );
    const snap = Snapshot.create([decoded]);
    assert.equal(snap.entries(TypeUrl.Cluster).get('from-bytes'), entry, 'Snapshot.create reuses it');
    assert.equal(
      encodeCount() - before,
      2,
      'one per resource object: the decoded one and the one built to compare',
    );
  });

  it('R4: keeps a TTL per resource', () => {
    const snap = Snapshot.create([{ resource: assignment('c1', 80), ttlMs: 30_000 }, assignment('c2', 81)]);
    assert.equal(snap.ttl(TypeUrl.Endpoint, 'c1'), 30_000);
    assert.equal(snap.ttl(TypeUrl.Endpoint, 'c2'), undefined);
    assert.ok(snap.hasTtls(TypeUrl.Endpoint));
    assert.equal(snap.view(TypeUrl.Endpoint).ttl('c1'), 30_000);
  });
});

describe('Snapshot.update', () => {
  it('changes one resource by an immer recipe; untouched types keep their versions', () => {
    const before = sample();
    const after = before.update((draft) => {
      draft[TypeUrl.Endpoint]['c1']!.endpoints[0]!.loadBalancingWeight = 7;
    });
    assert.notEqual(after, before);
    assert.equal(after.resources(TypeUrl.Endpoint).get('c1')?.endpoints[0]?.loadBalancingWeight, 7);
    assert.equal(before.resources(TypeUrl.Endpoint).get('c1')?.endpoints[0]?.loadBalancingWeight, undefined);
    assert.notEqual(after.version(TypeUrl.Endpoint), before.version(TypeUrl.Endpoint));
    for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.Route])
      assert.equal(after.version(typeUrl), before.version(typeUrl));
    assert.equal(after.entries(TypeUrl.Endpoint).get('c2'), before.entries(TypeUrl.Endpoint).get('c2'));
    assert.ok(Object.isFrozen(after.resources(TypeUrl.Endpoint).get('c1')));
    assert.deepEqual(
      [...after.changesSince(before)].map(([t, names]) => [t, [...names]]),
      [[TypeUrl.Endpoint, ['c1']]],
    );
  });

  it('the result has the version a fresh snapshot of the same content has', () => {
    const after = sample().update((draft) => {
      draft[TypeUrl.Cluster]['c3'] = cluster('c3');
      delete draft[TypeUrl.Cluster]['c1'];
    });
    const fresh = Snapshot.create([cluster('c2'), cluster('c3')]);
    assert.equal(after.version(TypeUrl.Cluster), fresh.version(TypeUrl.Cluster));
    assert.deepEqual([...after.resources(TypeUrl.Cluster).keys()].sort(), ['c2', 'c3']);
  });

  it('encodes only what changed', () => {
    const before = sample();
    const count = encodeCount();
    before.update((draft) => {
      draft[TypeUrl.Endpoint]['c2'] = assignment('c2', 99);
    });
    assert.equal(encodeCount() - count, 1);
  });

  it('returns the same snapshot when nothing changed, and when content is set equal', () => {
    const before = sample();
    assert.equal(
      before.update(() => {}),
      before,
    );
    assert.equal(
      before.update((draft) => {
        draft[TypeUrl.Cluster]['c1'] = cluster('c1');
      }),
      before,
    );
  });

  it('adds a resource of a type the snapshot did not have', () => {
    const after = sample().update((draft) => {
      draft[TypeUrl.Secret]['s1'] = secret('s1');
    });
    assert.equal(after.resources(TypeUrl.Secret).size, 1);
  });

  it('refuses a key that does not match the resource', () => {
    rejects(
      () =>
        sample().update((draft) => {
          draft[TypeUrl.Cluster]['x'] = cluster('y');
        }),
      /draft\[Cluster\]\["x"\] holds a resource named "y"/,
    );
    rejects(
      () =>
        sample().update((draft) => {
          (draft[TypeUrl.Cluster] as Record<string, unknown>)['c9'] = assignment('c9');
        }),
      /draft\[Cluster\]\["c9"\] holds envoy.config.endpoint.v3.ClusterLoadAssignment, not a Cluster/,
    );
    rejects(
      () =>
        sample().update((draft) => {
          (draft as unknown as Record<string, unknown>)['nope'] = {};
        }),
      /draft key nope is not an xDS resource type URL/,
    );
  });

  it('a version given per type applies to that type only', () => {
    const after = sample().update(() => {}, { version: { [TypeUrl.Route]: 'r-9' } });
    assert.equal(after.version(TypeUrl.Route), 'r-9');
    assert.equal(after.version(TypeUrl.Cluster), sample().version(TypeUrl.Cluster));
  });
});

describe('Snapshot.check', () => {
  it('R2: a consistent snapshot has no problems', () => {
    assert.deepEqual(sample().check(), []);
  });

  it('R2: names every missing reference', () => {
    const snap = Snapshot.create([
      cluster('c1', 'svc-1'),
      listener('l1', 'r-missing'),
      route('r1', 'c1', 'c-missing'),
    ]);
    const problems = snap.check();
    assert.deepEqual(
      problems.map((p) => [p.typeUrl, p.name, p.missingTypeUrl, p.missing]),
      [
        [TypeUrl.Cluster, 'c1', TypeUrl.Endpoint, 'svc-1'],
        [TypeUrl.Listener, 'l1', TypeUrl.Route, 'r-missing'],
        [TypeUrl.Route, 'r1', TypeUrl.Cluster, 'c-missing'],
      ],
    );
    assert.match(
      problems[0]!.message,
      /Cluster "c1" takes endpoints from ClusterLoadAssignment "svc-1", which does not exist/,
    );
  });
});
