// publishModelAsync (rule L4): a model at the limits is generated in slices with turns of the event loop between
// them, sets the same snapshots as publishModel (the very same objects for unchanged resources), sets nothing until
// every flavour is complete, and is superseded by a newer publish to the same cache.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, TypeUrl, XdsError } from '@xds/api';
import { type Snapshot, SnapshotCache } from '@xds/cache';
import { nodeKeyByFlavour } from '../generate/flavour.js';
import { ResourceMemo } from '../generate/memo.js';
import { bookinfo, limitsModel, withEndpointPort } from '../test-bookinfo.js';
import { publishModel } from './publish.js';
import { publishModelAsync } from './publish-async.js';

const types = [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route] as const;

function versions(snapshot: Snapshot | undefined): string[] {
  return types.map((typeUrl) => snapshot?.version(typeUrl) ?? 'none');
}

function newCache(): SnapshotCache {
  return new SnapshotCache({ nodeKey: nodeKeyByFlavour });
}

/** Rejects like a superseded publish: CANCELLED, naming it. */
async function superseded(publish: Promise<unknown>): Promise<void> {
  await assert.rejects(publish, (error: unknown) => {
    assert.ok(error instanceof XdsError, String(error));
    assert.equal(error.code, Code.Cancelled);
    assert.match(error.message, /publish superseded/);
    return true;
  });
}

describe('publishModelAsync', () => {
  it('L4: a model at the limits is published in slices: the event loop turns between them, nothing is set before the end', async () => {
    const cache = newCache();
    const memo = new ResourceMemo();
    const sets: string[] = [];
    cache.on('snapshot', ({ key }) => sets.push(key));
    let turns = 0;
    let publishing = true;
    const turn = (): void => {
      if (!publishing) return;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    let pauses = 0;
    const setAtPause: number[] = [];
    const result = await publishModelAsync(cache, limitsModel(), {
      memo,
      onPause: () => {
        pauses++;
        setAtPause.push(sets.length);
      },
    }).finally(() => {
      publishing = false;
    });
    // 100 assignments of 1,000 endpoints are at least dozens of slices however fast the machine is
    assert.ok(pauses >= 10, `${pauses} pauses`);
    assert.ok(turns >= pauses, `the event loop turned ${turns} times in ${pauses} pauses`);
    assert.deepEqual(
      new Set(setAtPause),
      new Set([0]),
      'no snapshot was set before every flavour was complete',
    );
    assert.deepEqual(sets, ['envoy', 'grpc']);
    const envoy = cache.getSnapshot('envoy');
    assert.equal(result.envoy?.snapshot, envoy);
    assert.equal(envoy?.resources(TypeUrl.Endpoint).size, 100);
    assert.deepEqual(envoy?.check(), []);
    // the same content as the synchronous publish
    const other = newCache();
    publishModel(other, limitsModel(), { memo: new ResourceMemo() });
    for (const flavour of ['envoy', 'grpc'] as const)
      assert.deepEqual(versions(cache.getSnapshot(flavour)), versions(other.getSnapshot(flavour)), flavour);
  });

  it('S8: an endpoint-only change wakes only EDS; unchanged resources are the very same objects', async () => {
    const cache = newCache();
    const memo = new ResourceMemo();
    const model = bookinfo();
    await publishModelAsync(cache, model, { memo, sliceMs: 0 });
    const before = cache.getSnapshot('envoy')!;
    const woken: string[] = [];
    cache.on('snapshot', ({ key, snapshot, previous }) => {
      woken.push(`${key}:${[...snapshot.changesSince(previous).keys()].join(',')}`);
    });
    const result = await publishModelAsync(cache, withEndpointPort(model, 'reviews', 2, 9285), {
      memo,
      sliceMs: 0,
    });
    assert.deepEqual(woken, [`envoy:${TypeUrl.Endpoint}`, `grpc:${TypeUrl.Endpoint}`]);
    const after = cache.getSnapshot('envoy')!;
    assert.deepEqual([...(result.envoy?.changes.get(TypeUrl.Endpoint) ?? [])].sort(), [
      'outbound|9080|v3|reviews.default.svc.cluster.local',
      'outbound|9080||reviews.default.svc.cluster.local',
    ]);
    for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.Route]) {
      assert.equal(after.version(typeUrl), before.version(typeUrl));
      for (const [name, message] of after.resources(typeUrl))
        assert.equal(message, before.resources(typeUrl).get(name), `${name} is the same object`);
    }
    // publishing the same model again (sync or async) finds every resource and sets nothing
    const again = await publishModelAsync(
      cache,
      structuredClone(withEndpointPort(model, 'reviews', 2, 9285)),
      {
        memo,
        sliceMs: 0,
      },
    );
    assert.equal(again.envoy?.changes.size, 0);
    assert.equal(woken.length, 2);
  });

  it('a newer publish supersedes the one under way: it rejects CANCELLED and sets nothing', async () => {
    const cache = newCache();
    const memo = new ResourceMemo();
    await publishModelAsync(cache, bookinfo(), { memo, sliceMs: 0 });
    const sets: string[] = [];
    cache.on('snapshot', ({ key, snapshot }) =>
      sets.push(`${key}:${snapshot.resources(TypeUrl.Endpoint).size}`),
    );
    // a newer async publish, started while the older one pauses
    let newer: Promise<unknown> | undefined;
    const older = publishModelAsync(cache, limitsModel(1), {
      memo,
      onPause: () => {
        newer ??= publishModelAsync(cache, withEndpointPort(bookinfo(), 'reviews', 0, 9301), {
          memo,
          sliceMs: 0,
        });
      },
    });
    await superseded(older);
    await newer;
    assert.deepEqual(sets, ['envoy:7', 'grpc:7'], 'only the newer model was set');
    const reviews = cache
      .getSnapshot('envoy')!
      .resources(TypeUrl.Endpoint)
      .get('outbound|9080||reviews.default.svc.cluster.local');
    assert.equal(reviews?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier.case, 'endpoint');
    assert.match(
      JSON.stringify(reviews?.endpoints[0]?.lbEndpoints.map((e) => e.hostIdentifier.value)),
      /9301/,
    );

    // publishModel (sync) supersedes too, and so does a snapshot set by someone else
    sets.length = 0;
    let synced = false;
    const overtaken = publishModelAsync(cache, limitsModel(2), {
      memo,
      onPause: () => {
        if (synced) return;
        synced = true;
        publishModel(cache, bookinfo(), { memo });
      },
    });
    await superseded(overtaken);
    assert.deepEqual(sets, ['envoy:7', 'grpc:7']);
    const held = cache.getSnapshot('grpc');
    const replaced = publishModelAsync(cache, limitsModel(3), {
      memo,
      flavours: ['grpc'],
      onPause: () => {
        if (cache.getSnapshot('grpc') === held)
          cache.setSnapshot(
            'grpc',
            held!.update(() => {}, { version: { [TypeUrl.Cluster]: 'by-hand' } }),
          );
      },
    });
    await superseded(replaced);
    assert.equal(cache.getSnapshot('grpc')?.version(TypeUrl.Cluster), 'by-hand');
  });

  it('an aborted or failing publish sets nothing, and the memo keeps what the cache holds', async () => {
    const cache = newCache();
    const memo = new ResourceMemo();
    await publishModelAsync(cache, bookinfo(), { memo, sliceMs: 0 });
    const sets: string[] = [];
    cache.on('snapshot', ({ key }) => sets.push(key));
    const bad = { routeFields: { envoy: 'newest' as never } };
    assert.throws(() => publishModel(newCache(), bookinfo(), { memo, ...bad }), /routeFields.envoy must be/);
    await assert.rejects(publishModelAsync(cache, bookinfo(), { memo, ...bad }), /routeFields.envoy must be/);
    const controller = new AbortController();
    const reason = new Error('stop');
    await assert.rejects(
      publishModelAsync(cache, limitsModel(4), {
        memo,
        signal: controller.signal,
        onPause: () => controller.abort(reason),
      }),
      (error) => error === reason,
    );
    assert.deepEqual(sets, []);
    const { misses } = memo.stats();
    const again = await publishModelAsync(cache, bookinfo(), { memo, sliceMs: 0 });
    assert.equal(again.envoy?.changes.size, 0, 'the snapshot the cache holds is what its memo slot kept');
    assert.equal(memo.stats().misses, misses, 'nothing built again');
    assert.deepEqual(sets, []);
  });
});
