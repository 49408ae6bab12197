import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discoveryMethods, discoveryServices, methodPath } from './methods.js';
import { xdsRegistry } from './registry.js';
import { TypeUrl } from './type-url.js';

describe('discovery methods', () => {
  it('S1: every method path is /<proto service>/<proto method> of a registered service', () => {
    // ADS: 2; CDS, EDS, LDS, RDS, SRDS, SDS, RTDS, ECDS: stream, delta and fetch each; VHDS, LEDS: delta only.
    assert.equal(discoveryMethods.length, 2 + 8 * 3 + 2);
    assert.ok(
      discoveryMethods.some(
        (m) =>
          m.path === '/envoy.service.endpoint.v3.LocalityEndpointDiscoveryService/DeltaLocalityEndpoints' &&
          m.kind === 'delta' &&
          m.typeUrl === TypeUrl.LbEndpoint,
      ),
    );
    for (const m of discoveryMethods) {
      const [, service, name] = m.path.split('/');
      const desc = xdsRegistry.getService(service ?? '');
      assert.ok(desc, `service of ${m.path}`);
      assert.ok(
        desc.methods.some((x) => x.name === name),
        m.path,
      );
      assert.equal(methodPath(m.method), m.path);
    }
  });

  it('S1, D1: ADS and each per-type service have their SotW and delta streams', () => {
    const paths = new Set(discoveryMethods.map((m) => m.path));
    const expected = [
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
      '/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters',
      '/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters',
      '/envoy.service.cluster.v3.ClusterDiscoveryService/FetchClusters',
      '/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints',
      '/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners',
      '/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes',
      '/envoy.service.route.v3.ScopedRoutesDiscoveryService/StreamScopedRoutes',
      '/envoy.service.route.v3.VirtualHostDiscoveryService/DeltaVirtualHosts',
      '/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets',
      '/envoy.service.runtime.v3.RuntimeDiscoveryService/StreamRuntime',
      '/envoy.service.extension.v3.ExtensionConfigDiscoveryService/StreamExtensionConfigs',
    ];
    for (const path of expected) assert.ok(paths.has(path), path);
  });

  it('classifies methods by kind and type', () => {
    const byPath = new Map(discoveryMethods.map((m) => [m.path, m]));
    const ads = byPath.get('/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources');
    assert.equal(ads?.kind, 'delta');
    assert.equal(ads?.typeUrl, undefined);
    const fetch = byPath.get('/envoy.service.endpoint.v3.EndpointDiscoveryService/FetchEndpoints');
    assert.equal(fetch?.kind, 'fetch');
    assert.equal(fetch?.typeUrl, TypeUrl.Endpoint);
    assert.equal(fetch?.method.input.typeName, 'envoy.service.discovery.v3.DiscoveryRequest');
    const sotw = byPath.get('/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes');
    assert.equal(sotw?.kind, 'sotw');
    assert.equal(sotw?.typeUrl, TypeUrl.Route);
    assert.equal(discoveryServices.filter((s) => s.typeUrl === undefined).length, 1);
  });
});
