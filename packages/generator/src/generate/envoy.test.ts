import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cluster_DiscoveryType, Cluster_LbPolicy, HealthStatus } from '@xds/api';
import { validateModel } from '../model/validate.js';
import { bookinfo } from '../test-bookinfo.js';
import { addressesOf, hcmOf, rdsSourceOf, split, tcpProxyOf } from '../test-resources.js';
import { generateEnvoy } from './envoy.js';
import { ResourceMemo } from './memo.js';
import { buildSnapshot } from './snapshot.js';

const fqdn = (name: string) => `${name}.default.svc.cluster.local`;

describe('generateEnvoy (Bookinfo golden)', () => {
  const resources = generateEnvoy(bookinfo(), { memo: new ResourceMemo() });
  const { clusters, assignments, listeners, routes } = split(resources);

  it('one outbound listener for port 9080, taking route "9080" by RDS over ADS', () => {
    assert.deepEqual(
      listeners.map((l) => l.name),
      ['0.0.0.0_9080'],
    );
    const [listener] = listeners;
    const socket = listener?.address?.address;
    assert.equal(socket?.case, 'socketAddress');
    assert.equal(socket?.value.address, '0.0.0.0');
    assert.deepEqual(socket?.value.portSpecifier, { case: 'portValue', value: 9080 });
    const hcm = hcmOf(listener!);
    assert.equal(hcm?.routeSpecifier.case, 'rds');
    assert.equal(hcm?.routeSpecifier.value?.routeConfigName, '9080');
    assert.equal(rdsSourceOf(hcm), 'ads');
    assert.equal(hcm?.httpFilters.at(-1)?.name, 'envoy.filters.http.router');
  });

  it('one RouteConfiguration "9080" with a virtual host per service, domains expanded like Istio', () => {
    assert.deepEqual(
      routes.map((r) => r.name),
      ['9080'],
    );
    const hosts = routes[0]!.virtualHosts;
    assert.deepEqual(
      hosts.map((h) => h.name),
      [
        'details.default.svc.cluster.local:9080',
        'productpage.default.svc.cluster.local:9080',
        'ratings.default.svc.cluster.local:9080',
        'reviews.default.svc.cluster.local:9080',
      ],
    );
    assert.deepEqual(hosts[3]?.domains, [
      'reviews.default.svc.cluster.local',
      'reviews.default.svc.cluster.local:9080',
      'reviews',
      'reviews:9080',
      'reviews.default',
      'reviews.default:9080',
      'reviews.default.svc',
      'reviews.default.svc:9080',
    ]);
    assert.deepEqual(hosts[1]?.domains, [
      'productpage.default.svc.cluster.local',
      'productpage.default.svc.cluster.local:9080',
      'productpage',
      'productpage:9080',
      'productpage.default',
      'productpage.default:9080',
      'productpage.default.svc',
      'productpage.default.svc:9080',
    ]);
  });

  it('routes: the model routes for reviews, one default route for the others', () => {
    const hosts = routes[0]!.virtualHosts;
    const details = hosts[0]!.routes;
    assert.equal(details.length, 1);
    assert.deepEqual(details[0]?.match?.pathSpecifier, { case: 'prefix', value: '/' });
    const action = details[0]?.action;
    assert.equal(
      action?.case === 'route' && action.value.clusterSpecifier.value,
      'outbound|9080||details.default.svc.cluster.local',
    );

    const [jason, split] = hosts[3]!.routes;
    assert.equal(jason?.match?.headers[0]?.name, 'end-user');
    const exact = jason?.match?.headers[0]?.headerMatchSpecifier;
    assert.equal(exact?.case === 'stringMatch' && exact.value.matchPattern.value, 'jason');
    assert.equal(
      jason?.action.case === 'route' && jason.action.value.clusterSpecifier.value,
      'outbound|9080|v2|reviews.default.svc.cluster.local',
    );
    const weighted = split?.action.case === 'route' ? split.action.value : undefined;
    assert.equal(weighted?.clusterSpecifier.case, 'weightedClusters');
    assert.equal(
      weighted?.clusterSpecifier.case === 'weightedClusters' && weighted.clusterSpecifier.value.totalWeight,
      undefined,
      'Envoy 1.24+ warns about the deprecated total_weight and uses the sum of the weights',
    );
    assert.deepEqual(
      weighted?.clusterSpecifier.case === 'weightedClusters' &&
        weighted.clusterSpecifier.value.clusters.map((c) => `${c.name}=${c.weight}`),
      [`outbound|9080|v1|${fqdn('reviews')}=50`, `outbound|9080|v3|${fqdn('reviews')}=50`],
    );
    assert.equal(weighted?.timeout?.seconds, 2n);
    assert.equal(weighted?.retryPolicy?.numRetries, 2);
    assert.equal(weighted?.retryPolicy?.perTryTimeout?.nanos, 500_000_000);
  });

  it('clusters for each service and each reviews subset, EDS over ADS with service_name = cluster name', () => {
    assert.deepEqual(
      clusters.map((c) => c.name),
      [
        'outbound|9080||productpage.default.svc.cluster.local',
        'outbound|9080||details.default.svc.cluster.local',
        'outbound|9080||reviews.default.svc.cluster.local',
        'outbound|9080|v1|reviews.default.svc.cluster.local',
        'outbound|9080|v2|reviews.default.svc.cluster.local',
        'outbound|9080|v3|reviews.default.svc.cluster.local',
        'outbound|9080||ratings.default.svc.cluster.local',
      ],
    );
    for (const cluster of clusters) {
      assert.deepEqual(cluster.clusterDiscoveryType, { case: 'type', value: Cluster_DiscoveryType.EDS });
      assert.equal(cluster.edsClusterConfig?.serviceName, cluster.name);
      assert.equal(cluster.edsClusterConfig?.edsConfig?.configSourceSpecifier.case, 'ads');
      assert.equal(cluster.lbPolicy, Cluster_LbPolicy.ROUND_ROBIN);
    }
  });

  it('assignments grouped by locality, weighted by their endpoints, subsets holding their endpoints only', () => {
    assert.deepEqual(
      assignments.map((a) => a.clusterName),
      clusters.map((c) => c.name),
    );
    const reviews = assignments.find((a) => a.clusterName === `outbound|9080||${fqdn('reviews')}`)!;
    assert.deepEqual(
      reviews.endpoints.map((l) => [l.locality?.region, l.locality?.zone, l.loadBalancingWeight, l.priority]),
      [
        ['r1', 'z1', 2, 0],
        ['r1', 'z2', 1, 0],
      ],
    );
    assert.deepEqual(addressesOf(reviews), ['127.0.0.1:9083', '127.0.0.1:9084', '127.0.0.1:9085']);
    const v2 = assignments.find((a) => a.clusterName === `outbound|9080|v2|${fqdn('reviews')}`)!;
    assert.deepEqual(addressesOf(v2), ['127.0.0.1:9084']);
    assert.equal(v2.endpoints[0]?.lbEndpoints[0]?.healthStatus, HealthStatus.HEALTHY);
    assert.equal(v2.endpoints[0]?.lbEndpoints[0]?.loadBalancingWeight, 1);
  });

  it('R2: the snapshot is consistent', () => {
    assert.deepEqual(buildSnapshot(bookinfo(), 'envoy').check(), []);
  });
});

describe('generateEnvoy (protocols, VIPs, namespaces)', () => {
  const result = validateModel({
    services: [
      {
        name: 'web',
        namespace: 'a',
        addresses: ['10.96.0.10', 'fd00::10'],
        ports: [{ name: 'http-web', port: 8080 }],
        endpoints: [
          { address: '10.0.0.1', weight: 3, locality: { region: 'r1' } },
          { address: '10.0.0.2', weight: 2, locality: { region: 'r1' }, healthy: false },
          { address: '10.0.1.1', locality: { region: 'r2' }, priority: 5 },
        ],
      },
      { name: 'web', namespace: 'b', ports: [{ name: 'http', port: 8080 }] },
      {
        name: 'db',
        ports: [{ name: 'mysql', port: 3306, protocol: 'TCP' }],
        endpoints: [{ address: '10.0.2.1' }],
      },
      { name: 'cache', ports: [{ name: 'redis', port: 6379 }] },
      { name: 'dns', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
      { name: 'api', ports: [{ name: 'grpc', port: 50051 }] },
    ],
  });
  assert.ok(result.ok, JSON.stringify(result));
  const { clusters, assignments, listeners, routes } = split(
    generateEnvoy(result.model, { memo: new ResourceMemo() }),
  );

  it('TCP-like ports get a TCP proxy listener to the whole service; UDP ports get none', () => {
    assert.deepEqual(
      listeners.map((l) => l.name),
      ['0.0.0.0_3306', '0.0.0.0_6379', '0.0.0.0_8080', '0.0.0.0_50051'],
    );
    const db = listeners.find((l) => l.name === '0.0.0.0_3306')!;
    assert.deepEqual(tcpProxyOf(db)?.clusterSpecifier, {
      case: 'cluster',
      value: 'outbound|3306||db.default.svc.cluster.local',
    });
    assert.equal(
      tcpProxyOf(listeners.find((l) => l.name === '0.0.0.0_6379')!)?.clusterSpecifier.value,
      'outbound|6379||cache.default.svc.cluster.local',
    );
    assert.ok(clusters.some((c) => c.name === 'outbound|53||dns.default.svc.cluster.local'));
  });

  it('HTTP2 and GRPC clusters speak HTTP/2', () => {
    assert.notEqual(
      clusters.find((c) => c.name.startsWith('outbound|50051|'))?.http2ProtocolOptions,
      undefined,
    );
    assert.equal(clusters.find((c) => c.name.startsWith('outbound|8080|'))?.http2ProtocolOptions, undefined);
  });

  it('short names two namespaces share are left out; VIPs are domains with and without the port', () => {
    assert.deepEqual(
      routes.map((r) => r.name),
      ['8080', '50051'],
    );
    const [a, b] = routes[0]!.virtualHosts;
    assert.deepEqual(a?.domains, [
      'web.a.svc.cluster.local',
      'web.a.svc.cluster.local:8080',
      'web.a',
      'web.a:8080',
      'web.a.svc',
      'web.a.svc:8080',
      '10.96.0.10',
      '10.96.0.10:8080',
      'fd00::10',
      '[fd00::10]:8080',
    ]);
    assert.equal(b?.name, 'web.b.svc.cluster.local:8080');
    assert.ok(!b?.domains.includes('web'));
    const all = routes[0]!.virtualHosts.flatMap((h) => h.domains);
    assert.equal(new Set(all).size, all.length, 'no domain in two virtual hosts');
  });

  it('locality weights sum endpoint weights; health; priorities renumbered without gaps', () => {
    const web = assignments.find((a) => a.clusterName === 'outbound|8080||web.a.svc.cluster.local')!;
    assert.deepEqual(
      web.endpoints.map((l) => [l.locality?.region, l.loadBalancingWeight, l.priority]),
      [
        ['r1', 5, 0],
        ['r2', 1, 1],
      ],
    );
    assert.deepEqual(
      web.endpoints[0]?.lbEndpoints.map((e) => [e.loadBalancingWeight, e.healthStatus]),
      [
        [3, HealthStatus.HEALTHY],
        [2, HealthStatus.UNHEALTHY],
      ],
    );
    const empty = assignments.find((a) => a.clusterName === 'outbound|8080||web.b.svc.cluster.local');
    assert.deepEqual(empty?.endpoints, []);
  });

  it('R2: the snapshot is consistent', () => {
    assert.deepEqual(buildSnapshot(result.model, 'envoy').check(), []);
  });
});
