import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import {
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  HealthStatus,
  HttpConnectionManagerSchema,
  RouterSchema,
  UpstreamTlsContextSchema,
} from '@xds/api';
import { Snapshot } from '@xds/cache';
import { filterTypeUrls, hcmOf, rdsSourceOf, tcpProxyOf } from '../test-resources.js';
import { makeCluster } from './cluster.js';
import { makeClusterLoadAssignment } from './cluster-load-assignment.js';
import { makeApiListener, makeHttpListener, makeTcpListener } from './listener.js';
import { makeRouteConfiguration } from './route-configuration.js';
import { makeSecret } from './secret.js';

describe('makeCluster', () => {
  it('builds an EDS cluster over ADS whose service name defaults to its name', () => {
    const c = makeCluster({ name: 'backend' });
    assert.equal(c.name, 'backend');
    assert.deepEqual(c.clusterDiscoveryType, { case: 'type', value: Cluster_DiscoveryType.EDS });
    assert.equal(c.edsClusterConfig?.serviceName, 'backend');
    assert.equal(c.edsClusterConfig?.edsConfig?.configSourceSpecifier.case, 'ads');
    assert.equal(c.lbPolicy, Cluster_LbPolicy.ROUND_ROBIN);
    assert.equal(c.connectTimeout?.seconds, 5n);
    assert.equal(c.http2ProtocolOptions, undefined);
    assert.equal(c.transportSocket, undefined);
  });

  it('takes a service name, RING_HASH, a connect timeout, HTTP/2 and TLS with SDS secrets', () => {
    const c = makeCluster({
      name: 'a',
      serviceName: 'a-eds',
      lbPolicy: 'RING_HASH',
      connectTimeoutMs: 1500,
      http2: true,
      tls: { sni: 'a.example', secretName: 'client-cert', caSecretName: 'ca' },
    });
    assert.equal(c.edsClusterConfig?.serviceName, 'a-eds');
    assert.equal(c.lbPolicy, Cluster_LbPolicy.RING_HASH);
    assert.equal(c.connectTimeout?.seconds, 1n);
    assert.equal(c.connectTimeout?.nanos, 500_000_000);
    assert.notEqual(c.http2ProtocolOptions, undefined);
    const socket = c.transportSocket;
    assert.equal(socket?.configType.case, 'typedConfig');
    const tls = anyUnpack(socket!.configType.value!, UpstreamTlsContextSchema)!;
    assert.equal(tls.sni, 'a.example');
    assert.deepEqual(
      tls.commonTlsContext?.tlsCertificateSdsSecretConfigs.map((s) => s.name),
      ['client-cert'],
    );
    const validation = tls.commonTlsContext?.validationContextType;
    assert.equal(validation?.case, 'validationContextSdsSecretConfig');
    assert.equal(validation?.value.name, 'ca');
  });
});

describe('makeClusterLoadAssignment', () => {
  it('builds localities with weights and priorities, endpoints with weight, health and labels', () => {
    const cla = makeClusterLoadAssignment('backend', [
      {
        locality: { region: 'r1', zone: 'z1', subZone: 's1' },
        weight: 3,
        endpoints: [
          { address: '10.0.0.1', port: 80, weight: 2, healthy: true, labels: { version: 'v1' } },
          { address: '10.0.0.2', port: 80, healthy: false },
          { address: '10.0.0.3', port: 81 },
        ],
      },
      { locality: { region: 'r2' }, weight: 1, priority: 1, endpoints: [{ address: '::1', port: 90 }] },
    ]);
    assert.equal(cla.clusterName, 'backend');
    const [first, second] = cla.endpoints;
    assert.deepEqual(
      { region: first?.locality?.region, zone: first?.locality?.zone, subZone: first?.locality?.subZone },
      { region: 'r1', zone: 'z1', subZone: 's1' },
    );
    assert.equal(first?.loadBalancingWeight, 3);
    assert.equal(first?.priority, 0);
    assert.deepEqual(
      first?.lbEndpoints.map((e) => e.healthStatus),
      [HealthStatus.HEALTHY, HealthStatus.UNHEALTHY, HealthStatus.UNKNOWN],
    );
    assert.deepEqual(
      first?.lbEndpoints.map((e) => e.loadBalancingWeight),
      [2, undefined, undefined],
    );
    assert.deepEqual(first?.lbEndpoints[0]?.metadata?.filterMetadata['envoy.lb'], { version: 'v1' });
    const endpoint = first?.lbEndpoints[0]?.hostIdentifier;
    assert.equal(endpoint?.case, 'endpoint');
    const address = endpoint?.case === 'endpoint' ? endpoint.value.address?.address : undefined;
    assert.equal(address?.case, 'socketAddress');
    assert.equal(address?.value.address, '10.0.0.1');
    assert.deepEqual(address?.value.portSpecifier, { case: 'portValue', value: 80 });
    assert.equal(second?.priority, 1);
    assert.equal(second?.locality?.zone, '');
  });
});

describe('listeners', () => {
  it('makeHttpListener: one filter chain with an HCM taking RDS over ADS, router last', () => {
    const l = makeHttpListener({ name: 'http', address: '0.0.0.0', port: 8080, routeName: 'local' });
    assert.equal(l.address?.address.case, 'socketAddress');
    assert.deepEqual(l.address?.address.value?.portSpecifier, { case: 'portValue', value: 8080 });
    const filter = l.filterChains[0]?.filters[0];
    assert.equal(filter?.name, 'envoy.filters.network.http_connection_manager');
    assert.equal(filter?.configType.case, 'typedConfig');
    const hcm = hcmOf(l)!;
    assert.equal(hcm.statPrefix, 'http');
    assert.equal(hcm.routeSpecifier.case, 'rds');
    assert.equal(hcm.routeSpecifier.value?.routeConfigName, 'local');
    assert.equal(rdsSourceOf(hcm), 'ads');
    assert.deepEqual(filterTypeUrls(hcm), [`type.googleapis.com/${RouterSchema.typeName}`]);
  });

  it('makeApiListener: api_listener with an HCM, RDS over ADS, router as the last HTTP filter', () => {
    const l = makeApiListener({ name: 'svc.ns.svc.cluster.local:50051', routeName: 'rc' });
    assert.equal(l.address, undefined);
    assert.equal(l.filterChains.length, 0);
    const hcm = anyUnpack(l.apiListener!.apiListener!, HttpConnectionManagerSchema)!;
    assert.equal(rdsSourceOf(hcm), 'ads');
    assert.equal(hcm.routeSpecifier.case === 'rds' && hcm.routeSpecifier.value.routeConfigName, 'rc');
    assert.equal(filterTypeUrls(hcm).at(-1), `type.googleapis.com/${RouterSchema.typeName}`);
  });

  it('makeTcpListener: a TCP proxy to one cluster', () => {
    const l = makeTcpListener({ name: 'db', address: '0.0.0.0', port: 3306, cluster: 'mysql' });
    const filter = l.filterChains[0]?.filters[0];
    assert.equal(filter?.name, 'envoy.filters.network.tcp_proxy');
    const proxy = tcpProxyOf(l)!;
    assert.deepEqual(proxy.clusterSpecifier, { case: 'cluster', value: 'mysql' });
    assert.equal(proxy.statPrefix, 'mysql');
  });
});

describe('makeRouteConfiguration', () => {
  it('builds prefix, path and header matches, weighted clusters, timeouts and retries', () => {
    const rc = makeRouteConfiguration({
      name: 'rc',
      virtualHosts: [
        {
          name: 'vh',
          domains: ['a', 'a:80'],
          routes: [
            { match: { path: '/exact', headers: { 'x-user': { exact: 'jason' } } }, cluster: 'a-v2' },
            {
              match: { prefix: '/api' },
              clusters: [
                { name: 'a-v1', weight: 90 },
                { name: 'a-v3', weight: 10 },
              ],
              timeoutMs: 2000,
              maxStreamDurationMs: 2500,
              retries: { attempts: 3, perTryTimeoutMs: 250, retryOn: 'unavailable' },
            },
            { cluster: 'a' },
          ],
        },
      ],
    });
    const routes = rc.virtualHosts[0]!.routes;
    assert.deepEqual(routes[0]?.match?.pathSpecifier, { case: 'path', value: '/exact' });
    assert.equal(routes[0]?.match?.headers[0]?.name, 'x-user');
    assert.equal(routes[0]?.action.case, 'route');
    const a1 = routes[1]?.action.case === 'route' ? routes[1].action.value : undefined;
    assert.equal(a1?.clusterSpecifier.case, 'weightedClusters');
    assert.deepEqual(
      a1?.clusterSpecifier.case === 'weightedClusters' &&
        a1.clusterSpecifier.value.clusters.map((c) => [c.name, c.weight]),
      [
        ['a-v1', 90],
        ['a-v3', 10],
      ],
    );
    assert.equal(a1?.timeout?.seconds, 2n);
    assert.equal(a1?.maxStreamDuration?.maxStreamDuration?.nanos, 500_000_000);
    assert.equal(a1?.retryPolicy?.numRetries, 3);
    assert.equal(a1?.retryPolicy?.retryOn, 'unavailable');
    assert.equal(a1?.retryPolicy?.perTryTimeout?.nanos, 250_000_000);
    assert.deepEqual(routes[2]?.match?.pathSpecifier, { case: 'prefix', value: '/' });
  });
});

describe('makeSecret', () => {
  it('builds a certificate with its key, or a trusted CA', () => {
    const cert = makeSecret('cert', { certificateChain: 'PEM', privateKey: { filename: '/etc/key.pem' } });
    assert.equal(cert.type.case, 'tlsCertificate');
    assert.deepEqual(cert.type.value?.certificateChain?.specifier, { case: 'inlineString', value: 'PEM' });
    assert.deepEqual(cert.type.case === 'tlsCertificate' && cert.type.value.privateKey?.specifier, {
      case: 'filename',
      value: '/etc/key.pem',
    });
    const ca = makeSecret('ca', { trustedCa: 'CA PEM' });
    assert.equal(ca.type.case, 'validationContext');
  });
});

describe('hand-built snapshot', () => {
  it('R2: builders compose into a consistent snapshot', () => {
    const snapshot = Snapshot.create([
      makeCluster({ name: 'a', tls: { secretName: 'cert', caSecretName: 'ca' } }),
      makeClusterLoadAssignment('a', [
        { locality: {}, weight: 1, endpoints: [{ address: '127.0.0.1', port: 1 }] },
      ]),
      makeHttpListener({ name: 'l', address: '0.0.0.0', port: 80, routeName: 'r' }),
      makeApiListener({ name: 'g', routeName: 'r' }),
      makeTcpListener({ name: 't', address: '0.0.0.0', port: 81, cluster: 'a' }),
      makeRouteConfiguration({
        name: 'r',
        virtualHosts: [{ name: 'v', domains: ['*'], routes: [{ cluster: 'a' }] }],
      }),
      makeSecret('cert', { certificateChain: 'c', privateKey: 'k' }),
      makeSecret('ca', { trustedCa: 'ca' }),
    ]);
    assert.deepEqual(snapshot.check(), []);
  });
});
