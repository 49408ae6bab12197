// Minimal resources for the cache's unit tests (the full builders live in @xds/generator).
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  type Cluster,
  Cluster_DiscoveryType,
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  HttpConnectionManagerSchema,
  type Listener,
  ListenerSchema,
  type Node,
  NodeSchema,
  type RouteConfiguration,
  RouteConfigurationSchema,
  type Secret,
  SecretSchema,
} from '@xds/api';

export function node(id: string): Node {
  return create(NodeSchema, { id });
}

export function cluster(name: string, serviceName = ''): Cluster {
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { serviceName, edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } } },
  });
}

export function assignment(name: string, ...ports: number[]): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName: name,
    endpoints: [
      {
        lbEndpoints: ports.map((port) => ({
          hostIdentifier: {
            case: 'endpoint' as const,
            value: {
              address: {
                address: {
                  case: 'socketAddress' as const,
                  value: { address: '127.0.0.1', portSpecifier: { case: 'portValue' as const, value: port } },
                },
              },
            },
          },
        })),
      },
    ],
  });
}

export function listener(name: string, routeName: string): Listener {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: name,
    routeSpecifier: {
      case: 'rds',
      value: {
        routeConfigName: routeName,
        configSource: { configSourceSpecifier: { case: 'ads', value: {} } },
      },
    },
  });
  return create(ListenerSchema, {
    name,
    apiListener: { apiListener: anyPack(HttpConnectionManagerSchema, hcm) },
  });
}

export function route(name: string, ...clusters: string[]): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name,
    virtualHosts: [
      {
        name: 'vh',
        domains: ['*'],
        routes: clusters.map((c) => ({
          match: { pathSpecifier: { case: 'prefix' as const, value: '/' } },
          action: {
            case: 'route' as const,
            value: { clusterSpecifier: { case: 'cluster' as const, value: c } },
          },
        })),
      },
    ],
  });
}

export function secret(name: string): Secret {
  return create(SecretSchema, { name });
}

/** Two clusters with their assignments (endpoint ports `a`, `b`), a listener l1 and its route r1 to c1. */
export function sampleResources(
  a = 80,
  b = 81,
): (Cluster | ClusterLoadAssignment | Listener | RouteConfiguration)[] {
  return [
    cluster('c1'),
    cluster('c2'),
    assignment('c1', a),
    assignment('c2', b),
    listener('l1', 'r1'),
    route('r1', 'c1'),
  ];
}
