import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, equals, fromJson, toJson } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from './gen/envoy/config/listener/v3/listener_pb.js';
import { RouterSchema } from './gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HttpConnectionManagerSchema } from './gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RoundRobinSchema } from './gen/envoy/extensions/load_balancing_policies/round_robin/v3/round_robin_pb.js';
import { UpstreamTlsContextSchema } from './gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { xdsRegistry } from './registry.js';
import { resourceTypes } from './resource-type.js';

describe('xdsRegistry', () => {
  it('knows every resource type, the discovery messages and the well-known types', () => {
    for (const type of resourceTypes) assert.ok(xdsRegistry.getMessage(type.schema.typeName), type.typeUrl);
    for (const name of [
      'envoy.service.discovery.v3.DiscoveryRequest',
      'envoy.service.discovery.v3.DeltaDiscoveryResponse',
      'envoy.service.discovery.v3.Resource',
      'envoy.service.status.v3.ClientStatusResponse',
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      'envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin',
      'envoy.extensions.clusters.aggregate.v3.ClusterConfig',
      'envoy.extensions.filters.http.rbac.v3.RBAC',
      'envoy.extensions.filters.http.fault.v3.HTTPFault',
      'xds.type.v3.TypedStruct',
      'google.protobuf.Duration',
    ]) {
      assert.ok(xdsRegistry.getMessage(name), name);
    }
    assert.ok(xdsRegistry.getService('envoy.service.discovery.v3.AggregatedDiscoveryService'));
  });

  it('packs and unpacks Any through the registry', () => {
    const hcm = create(HttpConnectionManagerSchema, {
      statPrefix: 'ingress',
      httpFilters: [
        {
          name: 'envoy.filters.http.router',
          configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) },
        },
      ],
    });
    const any = anyPack(HttpConnectionManagerSchema, hcm);
    assert.equal(
      any.typeUrl,
      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    );
    const back = anyUnpack(any, xdsRegistry);
    assert.ok(back);
    assert.equal(back.$typeName, HttpConnectionManagerSchema.typeName);
    assert.ok(equals(HttpConnectionManagerSchema, hcm, back as typeof hcm));
  });

  it('proto3 JSON of a cluster with typed extensions round-trips', () => {
    const cluster = create(ClusterSchema, {
      name: 'outbound|9080||reviews.default.svc.cluster.local',
      connectTimeout: { seconds: 1n, nanos: 500_000_000 },
      loadBalancingPolicy: {
        policies: [
          {
            typedExtensionConfig: {
              name: 'rr',
              typedConfig: anyPack(RoundRobinSchema, create(RoundRobinSchema)),
            },
          },
        ],
      },
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        configType: {
          case: 'typedConfig',
          value: anyPack(UpstreamTlsContextSchema, create(UpstreamTlsContextSchema, { sni: 'reviews' })),
        },
      },
    });
    const json = toJson(ClusterSchema, cluster, { registry: xdsRegistry });
    const text = JSON.stringify(json);
    assert.match(
      text,
      /"@type":"type.googleapis.com\/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"/,
    );
    assert.match(text, /"sni":"reviews"/);
    assert.match(text, /"connectTimeout":"1.500s"/);
    const back = fromJson(ClusterSchema, json, { registry: xdsRegistry });
    assert.ok(equals(ClusterSchema, cluster, back));
  });

  it('proto3 JSON without the registry cannot expand a typed extension', () => {
    const listener = create(ListenerSchema, {
      name: 'l',
      apiListener: { apiListener: anyPack(RouterSchema, create(RouterSchema)) },
    });
    assert.throws(() => toJson(ListenerSchema, listener), /Router/);
    assert.doesNotThrow(() => toJson(ListenerSchema, listener, { registry: xdsRegistry }));
  });
});
