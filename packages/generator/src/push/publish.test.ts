import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { nodeKeyByFlavour } from '../generate/flavour.js';
import { ResourceMemo } from '../generate/memo.js';
import { bookinfo, withEndpointPort } from '../test-bookinfo.js';
import { publishModel } from './publish.js';

describe('publishModel', () => {
  it('sets a consistent snapshot for each flavour under the keys nodeKeyByFlavour gives', () => {
    const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
    const result = publishModel(cache, bookinfo(), { memo: new ResourceMemo() });
    for (const flavour of ['envoy', 'grpc'] as const) {
      const snapshot = cache.getSnapshot(flavour);
      assert.ok(snapshot);
      assert.equal(result[flavour]?.snapshot, snapshot);
      assert.equal(result[flavour]?.previous, undefined);
      assert.deepEqual(snapshot.check(), []);
    }
    assert.ok(cache.getSnapshot('envoy')?.resources(TypeUrl.Listener).has('0.0.0.0_9080'));
    assert.ok(
      cache.getSnapshot('grpc')?.resources(TypeUrl.Listener).has('reviews.default.svc.cluster.local:9080'),
    );
  });

  it('an endpoint-only change pushes EDS only: other versions stay, changes list the Endpoint type only', () => {
    const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
    const memo = new ResourceMemo();
    const model = bookinfo();
    publishModel(cache, model, { memo });
    const previous = { envoy: cache.getSnapshot('envoy')!, grpc: cache.getSnapshot('grpc')! };
    const woken: string[] = [];
    cache.on('snapshot', ({ key, snapshot, previous: before }) => {
      woken.push(`${key}:${[...snapshot.changesSince(before).keys()].join(',')}`);
    });
    const result = publishModel(cache, withEndpointPort(model, 'reviews', 2, 9185 + 100), { memo });
    for (const flavour of ['envoy', 'grpc'] as const) {
      const snapshot = cache.getSnapshot(flavour)!;
      assert.notEqual(snapshot, previous[flavour]);
      for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.Route]) {
        assert.equal(snapshot.version(typeUrl), previous[flavour].version(typeUrl), `${flavour} ${typeUrl}`);
      }
      assert.notEqual(snapshot.version(TypeUrl.Endpoint), previous[flavour].version(TypeUrl.Endpoint));
      const changes = snapshot.changesSince(previous[flavour]);
      assert.deepEqual([...changes.keys()], [TypeUrl.Endpoint]);
      assert.deepEqual([...(changes.get(TypeUrl.Endpoint) ?? [])].sort(), [
        'outbound|9080|v3|reviews.default.svc.cluster.local',
        'outbound|9080||reviews.default.svc.cluster.local',
      ]);
      assert.equal(result[flavour]?.changes, changes);
      assert.deepEqual(snapshot.check(), []);
    }
    assert.deepEqual(woken, [`envoy:${TypeUrl.Endpoint}`, `grpc:${TypeUrl.Endpoint}`]);
  });

  it('publishing an equal model changes nothing and sets nothing', () => {
    const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
    const memo = new ResourceMemo();
    publishModel(cache, bookinfo(), { memo });
    const before = cache.getSnapshot('envoy');
    let sets = 0;
    cache.on('snapshot', () => sets++);
    const result = publishModel(cache, structuredClone(bookinfo()), { memo });
    assert.equal(cache.getSnapshot('envoy'), before);
    assert.equal(result.envoy?.changes.size, 0);
    assert.equal(sets, 0);
  });

  it('removing a service removes its resources; one flavour can be published alone', () => {
    const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
    const memo = new ResourceMemo();
    const model = bookinfo();
    publishModel(cache, model, { memo, flavours: ['grpc'] });
    assert.equal(cache.getSnapshot('envoy'), undefined);
    const smaller = { ...model, services: model.services.filter((s) => s.name !== 'ratings') };
    const result = publishModel(cache, smaller, { memo, flavours: ['grpc'] });
    const snapshot = cache.getSnapshot('grpc')!;
    assert.equal(snapshot.resources(TypeUrl.Listener).has('ratings.default.svc.cluster.local:9080'), false);
    assert.equal(
      snapshot.resources(TypeUrl.Cluster).has('outbound|9080||ratings.default.svc.cluster.local'),
      false,
    );
    assert.deepEqual(
      [...(result.grpc?.changes.keys() ?? [])].sort(),
      [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route].sort(),
    );
    assert.deepEqual(snapshot.check(), []);
  });
});
