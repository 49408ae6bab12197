import { create } from '@bufbuild/protobuf';
import {
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
  HealthStatus,
  type LbEndpoint,
  LbEndpointSchema,
} from '@xds/api';
import { socketAddress } from './common.js';

/** One endpoint of a {@link LocalitySpec}. */
export interface EndpointSpec {
  /** An IP literal (gRPC clients reject host names). */
  readonly address: string;
  /** The port. */
  readonly port: number;
  /** The endpoint's load balancing weight (at least 1); unset when absent. */
  readonly weight?: number;
  /** `true` → HEALTHY, `false` → UNHEALTHY, absent → UNKNOWN (which clients use like HEALTHY). */
  readonly healthy?: boolean;
  /** Labels, published as `filter_metadata["envoy.lb"]` (what Envoy's subset load balancer matches). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The locality of a {@link LocalitySpec}; absent parts are empty strings. */
export interface LocalityName {
  /** Region. */
  readonly region?: string;
  /** Zone. */
  readonly zone?: string;
  /** Sub-zone. */
  readonly subZone?: string;
}

/** One group of endpoints in a ClusterLoadAssignment. */
export interface LocalitySpec {
  /** Where the endpoints are; always published (gRPC clients NACK a group without a locality). */
  readonly locality: LocalityName;
  /** The locality's load balancing weight (gRPC clients drop a locality without one). */
  readonly weight: number;
  /** The priority (0 is highest); default 0. gRPC clients NACK priorities that skip a number. */
  readonly priority?: number;
  /** The endpoints. */
  readonly endpoints: readonly EndpointSpec[];
}

function healthOf(healthy: boolean | undefined): HealthStatus {
  if (healthy === undefined) return HealthStatus.UNKNOWN;
  return healthy ? HealthStatus.HEALTHY : HealthStatus.UNHEALTHY;
}

/** One endpoint of a ClusterLoadAssignment (what {@link makeClusterLoadAssignment} builds for each). */
export function lbEndpoint(spec: EndpointSpec): LbEndpoint {
  const labels = spec.labels ?? {};
  return create(LbEndpointSchema, {
    hostIdentifier: { case: 'endpoint', value: { address: socketAddress(spec.address, spec.port) } },
    healthStatus: healthOf(spec.healthy),
    ...(spec.weight === undefined ? {} : { loadBalancingWeight: spec.weight }),
    ...(Object.keys(labels).length === 0
      ? {}
      : { metadata: { filterMetadata: { 'envoy.lb': { ...labels } } } }),
  });
}

/** The ClusterLoadAssignment (EDS resource) named `clusterName`, one `LocalityLbEndpoints` per locality. */
export function makeClusterLoadAssignment(
  clusterName: string,
  localities: readonly LocalitySpec[],
): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints: localities.map((l) => ({
      locality: {
        region: l.locality.region ?? '',
        zone: l.locality.zone ?? '',
        subZone: l.locality.subZone ?? '',
      },
      loadBalancingWeight: l.weight,
      priority: l.priority ?? 0,
      lbEndpoints: l.endpoints.map(lbEndpoint),
    })),
  });
}
