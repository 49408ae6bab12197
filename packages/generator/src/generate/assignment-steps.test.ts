// Assignments in steps of endpointsPerStep endpoints (rule L4): the same message and the same bytes as built and
// encoded whole, and one assignment of 100,000 endpoints (a service at maxGeneratedEndpoints with no subsets) is
// published in hundreds of slices, not in one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { equals, toBinary } from '@bufbuild/protobuf';
import { ClusterLoadAssignmentSchema, TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { makeClusterLoadAssignment } from '../builders/cluster-load-assignment.js';
import type { ServiceEndpoint, ServiceModel } from '../model/types.js';
import { validateModel } from '../model/validate.js';
import { publishModel } from '../push/publish.js';
import { publishModelAsync } from '../push/publish-async.js';
import { bookinfo, limitsModel } from '../test-bookinfo.js';
import { buildAssignmentSteps, encodeAssignmentSteps, endpointsPerStep } from './assignment-steps.js';
import { localitiesOf } from './assignments.js';
import { nodeKeyByFlavour } from './flavour.js';
import { ResourceMemo } from './memo.js';
import { runSteps } from './steps.js';

/** Every service's endpoints, and the same with weights, health, priorities and several localities. */
function endpointLists(model: ServiceModel): (readonly ServiceEndpoint[])[] {
  return model.services.flatMap((service) => [
    service.endpoints,
    service.endpoints.map((e, i) => ({
      ...e,
      weight: i + 1,
      healthy: i % 2 === 0,
      priority: (i % 3) * 10,
      locality: { region: `r${i % 2}`, zone: i % 4 === 0 ? '' : 'z', subZone: i % 5 === 0 ? 's' : '' },
    })),
  ]);
}

/** One service of `count` endpoints and no subsets: one assignment of `count` endpoints. */
function wideService(count: number): ServiceModel {
  const result = validateModel({
    services: [
      {
        name: 'one',
        ports: [{ name: 'http', port: 80 }],
        endpoints: Array.from({ length: count }, (_, i) => ({
          address: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`,
          port: 8080,
        })),
      },
    ],
  });
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.model;
}

describe('assignments in steps', () => {
  it('build and encode the same message and bytes as makeClusterLoadAssignment and toBinary', () => {
    let checked = 0;
    for (const model of [bookinfo(), limitsModel(1)]) {
      for (const endpoints of endpointLists(model)) {
        const port = model.services[0]!.ports[0]!;
        const localities = localitiesOf(endpoints, port);
        const whole = makeClusterLoadAssignment('outbound|80||x', localities);
        const { assignment } = runSteps(buildAssignmentSteps('outbound|80||x', localities));
        assert.ok(equals(ClusterLoadAssignmentSchema, assignment, whole));
        const bytes = runSteps(encodeAssignmentSteps(assignment));
        assert.deepEqual(Buffer.from(bytes), Buffer.from(toBinary(ClusterLoadAssignmentSchema, whole)));
        checked++;
      }
    }
    assert.ok(checked >= 10, `${checked} assignments`);
  });

  it('L4: one assignment of 100,000 endpoints is published in hundreds of slices, as publishModel sets it', async () => {
    const model = wideService(100_000);
    const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
    let pauses = 0;
    await publishModelAsync(cache, model, {
      memo: new ResourceMemo(),
      flavours: ['envoy'],
      sliceMs: 0, // a pause after every step, so that the pauses count the steps
      onPause: () => pauses++,
    });
    // grouping, hashing, building and encoding it each take 100,000 / endpointsPerStep steps (it was 4 in all)
    assert.ok(pauses >= (4 * 100_000) / endpointsPerStep, `${pauses} pauses`);
    const other = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
    publishModel(other, model, { memo: new ResourceMemo(), flavours: ['envoy'] });
    const [ours, theirs] = [cache, other].map((c) => c.getSnapshot('envoy')!);
    for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route])
      assert.equal(ours!.version(typeUrl), theirs!.version(typeUrl), typeUrl);
    const [assignment] = [...ours!.resources(TypeUrl.Endpoint).values()];
    assert.equal(assignment?.endpoints[0]?.lbEndpoints.length, 100_000);
  });
});
