import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
  RouterSchema,
} from '@xds/api';
import { validateModel } from '../model/validate.js';
import { bookinfo } from '../test-bookinfo.js';
import { filterTypeUrls, hcmOf, rdsSourceOf, split } from '../test-resources.js';
import { generateGrpc } from './grpc.js';
import { ResourceMemo } from './memo.js';
import { buildSnapshot } from './snapshot.js';

/** The reasons a gRPC client would NACK an assignment (see xds-protocol.md), empty when it accepts it. */
function claProblems(cla: ClusterLoadAssignment): string[] {
  const decoded = fromBinary(ClusterLoadAssignmentSchema, toBinary(ClusterLoadAssignmentSchema, cla));
  const problems: string[] = [];
  const seen = new Set<string>();
  const groups = new Set<string>();
  const priorities = new Set<number>();
  for (const group of decoded.endpoints) {
    if (group.locality === undefined) problems.push('locality unset');
    if (!(group.loadBalancingWeight !== undefined && group.loadBalancingWeight > 0))
      problems.push('no weight');
    const key = JSON.stringify([
      group.locality?.region,
      group.locality?.zone,
      group.locality?.subZone,
      group.priority,
    ]);
    if (groups.has(key)) problems.push(`locality twice: ${key}`);
    groups.add(key);
    priorities.add(group.priority);
    for (const lb of group.lbEndpoints) {
      const address =
        lb.hostIdentifier.case === 'endpoint' ? lb.hostIdentifier.value.address?.address : undefined;
      if (address?.case !== 'socketAddress') {
        problems.push('not a socket address');
        continue;
      }
      if (address.value.portSpecifier.case !== 'portValue') problems.push('no port_value');
      if (isIP(address.value.address) === 0) problems.push(`not an IP: ${address.value.address}`);
      const id = `${address.value.address}:${address.value.portSpecifier.value}`;
      if (seen.has(id)) problems.push(`duplicate ${id}`);
      seen.add(id);
    }
  }
  for (const p of priorities)
    if (p > 0 && !priorities.has(p - 1)) problems.push(`priority ${p} skips ${p - 1}`);
  return problems;
}

describe('generateGrpc (Bookinfo)', () => {
  const { clusters, assignments, listeners, routes } = split(
    generateGrpc(bookinfo(), { memo: new ResourceMemo() }),
  );

  it('a Listener per service port, named by the xds:/// target, api_listener HCM, RDS over ADS, router last', () => {
    assert.deepEqual(
      listeners.map((l) => l.name),
      [
        'productpage.default.svc.cluster.local:9080',
        'details.default.svc.cluster.local:9080',
        'reviews.default.svc.cluster.local:9080',
        'ratings.default.svc.cluster.local:9080',
      ],
    );
    for (const listener of listeners) {
      assert.equal(listener.filterChains.length, 0);
      assert.notEqual(listener.apiListener?.apiListener, undefined);
      const hcm = hcmOf(listener);
      assert.equal(hcm?.routeSpecifier.case, 'rds');
      assert.equal(rdsSourceOf(hcm), 'ads');
      const host = listener.name.slice(0, listener.name.lastIndexOf(':'));
      assert.equal(hcm?.routeSpecifier.value?.routeConfigName, `outbound|9080||${host}`);
      const filters = filterTypeUrls(hcm);
      assert.equal(filters.at(-1), `type.googleapis.com/${RouterSchema.typeName}`);
      assert.equal(filters.filter((url) => url === `type.googleapis.com/${RouterSchema.typeName}`).length, 1);
    }
  });

  it('a RouteConfiguration per listener with one virtual host whose domains are host:port forms', () => {
    assert.deepEqual(
      routes.map((r) => r.name),
      [
        'outbound|9080||productpage.default.svc.cluster.local',
        'outbound|9080||details.default.svc.cluster.local',
        'outbound|9080||reviews.default.svc.cluster.local',
        'outbound|9080||ratings.default.svc.cluster.local',
      ],
    );
    const reviews = routes[2]!;
    assert.equal(reviews.virtualHosts.length, 1);
    assert.equal(reviews.virtualHosts[0]?.name, 'reviews.default.svc.cluster.local:9080');
    assert.deepEqual(reviews.virtualHosts[0]?.domains, [
      'reviews.default.svc.cluster.local:9080',
      'reviews:9080',
      'reviews.default:9080',
      'reviews.default.svc:9080',
    ]);
    const [jason, weighted] = reviews.virtualHosts[0]!.routes;
    const action = weighted?.action.case === 'route' ? weighted.action.value : undefined;
    assert.equal(action?.timeout, undefined, 'gRPC clients take the timeout from max_stream_duration');
    assert.equal(action?.maxStreamDuration?.maxStreamDuration?.seconds, 2n);
    assert.equal(action?.clusterSpecifier.case, 'weightedClusters');
    // The fields every gRPC client reads (README, "Client compatibility"): C-core 1.51 knows no string_match and
    // reads an unset total_weight as 100.
    assert.deepEqual(jason?.match?.headers[0]?.headerMatchSpecifier, { case: 'exactMatch', value: 'jason' });
    assert.equal(
      action?.clusterSpecifier.case === 'weightedClusters' && action.clusterSpecifier.value.totalWeight,
      100,
    );
  });

  it('EDS clusters over ADS with ROUND_ROBIN, shared with the Envoy flavour', () => {
    assert.equal(clusters.length, 7);
    for (const cluster of clusters) {
      assert.deepEqual(cluster.clusterDiscoveryType, { case: 'type', value: Cluster_DiscoveryType.EDS });
      assert.equal(cluster.edsClusterConfig?.edsConfig?.configSourceSpecifier.case, 'ads');
      assert.equal(cluster.lbPolicy, Cluster_LbPolicy.ROUND_ROBIN);
    }
  });

  it('assignments a gRPC client accepts', () => {
    assert.equal(assignments.length, 7);
    for (const cla of assignments) assert.deepEqual(claProblems(cla), [], cla.clusterName);
  });

  it('R2: the snapshot is consistent', () => {
    assert.deepEqual(buildSnapshot(bookinfo(), 'grpc').check(), []);
  });
});

describe('generateGrpc (shape rules on a harder model)', () => {
  const result = validateModel({
    domain: 'mesh.example',
    services: [
      {
        name: 'greeter',
        namespace: 'apps',
        addresses: ['10.96.0.20'],
        ports: [
          { name: 'grpc', port: 50051 },
          { name: 'http-admin', port: 8080 },
        ],
        endpoints: [
          { address: '10.0.0.1', ports: { grpc: 7000, 'http-admin': 7001 }, locality: {}, priority: 2 },
          { address: '10.0.0.2', port: 7000, weight: 4, locality: { region: 'r', zone: 'z', subZone: 's' } },
          { address: '::1', port: 7000, healthy: false, priority: 7, labels: { canary: 'true' } },
        ],
        subsets: [{ name: 'canary', labels: { canary: 'true' } }],
      },
    ],
  });
  assert.ok(result.ok, JSON.stringify(result));
  const { assignments, listeners, routes } = split(generateGrpc(result.model, { memo: new ResourceMemo() }));

  it('every port gets a listener and route config named for that port', () => {
    assert.deepEqual(
      listeners.map((l) => l.name),
      ['greeter.apps.svc.mesh.example:50051', 'greeter.apps.svc.mesh.example:8080'],
    );
    assert.deepEqual(routes[1]?.virtualHosts[0]?.domains, [
      'greeter.apps.svc.mesh.example:8080',
      'greeter:8080',
      'greeter.apps:8080',
      'greeter.apps.svc:8080',
    ]);
  });

  it('per-port endpoint ports, locality always set, weights set, priorities 0..n without gaps', () => {
    for (const cla of assignments) assert.deepEqual(claProblems(cla), [], cla.clusterName);
    const grpc = assignments.find((a) => a.clusterName === 'outbound|50051||greeter.apps.svc.mesh.example')!;
    assert.deepEqual(
      grpc.endpoints.map((l) => [l.priority, l.locality?.region, l.loadBalancingWeight]),
      [
        [1, '', 1],
        [0, 'r', 4],
        [2, '', 1],
      ],
    );
    const admin = assignments.find((a) => a.clusterName === 'outbound|8080||greeter.apps.svc.mesh.example')!;
    const first = admin.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
    const socket = first?.case === 'endpoint' ? first.value.address?.address : undefined;
    assert.deepEqual(socket?.case === 'socketAddress' && socket.value.portSpecifier, {
      case: 'portValue',
      value: 7001,
    });
    const canary = assignments.find(
      (a) => a.clusterName === 'outbound|50051|canary|greeter.apps.svc.mesh.example',
    )!;
    assert.deepEqual(
      canary.endpoints.map((l) => l.priority),
      [0],
    );
  });

  it('R2: the snapshot is consistent', () => {
    assert.deepEqual(buildSnapshot(result.model, 'grpc').check(), []);
  });
});
