import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { ClusterDiscoveryService } from './gen/envoy/service/cluster/v3/cds_pb.js';
import { AggregatedDiscoveryService } from './gen/envoy/service/discovery/v3/ads_pb.js';
import { EndpointDiscoveryService } from './gen/envoy/service/endpoint/v3/eds_pb.js';
import { LocalityEndpointDiscoveryService } from './gen/envoy/service/endpoint/v3/leds_pb.js';
import { ExtensionConfigDiscoveryService } from './gen/envoy/service/extension/v3/config_discovery_pb.js';
import { ListenerDiscoveryService } from './gen/envoy/service/listener/v3/lds_pb.js';
import { LoadReportingService } from './gen/envoy/service/load_stats/v3/lrs_pb.js';
import { RouteDiscoveryService, VirtualHostDiscoveryService } from './gen/envoy/service/route/v3/rds_pb.js';
import { ScopedRoutesDiscoveryService } from './gen/envoy/service/route/v3/srds_pb.js';
import { RuntimeDiscoveryService } from './gen/envoy/service/runtime/v3/rtds_pb.js';
import { SecretDiscoveryService } from './gen/envoy/service/secret/v3/sds_pb.js';
import { ClientStatusDiscoveryService } from './gen/envoy/service/status/v3/csds_pb.js';
import { TypeUrl } from './type-url.js';

/** How an xDS discovery method talks: a SotW stream, a delta stream, or a unary fetch. */
export type DiscoveryMethodKind = 'sotw' | 'delta' | 'fetch';

/** One gRPC method of an xDS discovery service. */
export interface DiscoveryMethod {
  /** The HTTP/2 path, `/package.Service/Method`. */
  readonly path: string;
  /** The protobuf-es method descriptor (input and output schemas). */
  readonly method: DescMethod;
  /** Stream or fetch, SotW or delta. */
  readonly kind: DiscoveryMethodKind;
  /** The one type the method serves, or undefined for the aggregated (ADS) methods, which serve every type. */
  readonly typeUrl: TypeUrl | undefined;
}

/** The gRPC path of a method: `/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** Each discovery service with the type it serves (undefined: every type, ADS). */
export const discoveryServices: readonly {
  readonly service: DescService;
  readonly typeUrl: TypeUrl | undefined;
}[] = Object.freeze([
  { service: AggregatedDiscoveryService, typeUrl: undefined },
  { service: ClusterDiscoveryService, typeUrl: TypeUrl.Cluster },
  { service: EndpointDiscoveryService, typeUrl: TypeUrl.Endpoint },
  { service: ListenerDiscoveryService, typeUrl: TypeUrl.Listener },
  { service: RouteDiscoveryService, typeUrl: TypeUrl.Route },
  { service: ScopedRoutesDiscoveryService, typeUrl: TypeUrl.ScopedRoute },
  { service: VirtualHostDiscoveryService, typeUrl: TypeUrl.VirtualHost },
  { service: SecretDiscoveryService, typeUrl: TypeUrl.Secret },
  { service: RuntimeDiscoveryService, typeUrl: TypeUrl.Runtime },
  { service: ExtensionConfigDiscoveryService, typeUrl: TypeUrl.ExtensionConfig },
  // LEDS: delta only (its service has no SotW or fetch method).
  { service: LocalityEndpointDiscoveryService, typeUrl: TypeUrl.LbEndpoint },
]);

function kindOf(method: DescMethod): DiscoveryMethodKind {
  if (method.methodKind === 'unary') return 'fetch';
  return method.input.typeName === 'envoy.service.discovery.v3.DeltaDiscoveryRequest' ? 'delta' : 'sotw';
}

/** Every method of every discovery service: ADS and the per-type SotW, delta and fetch methods. */
export const discoveryMethods: readonly DiscoveryMethod[] = Object.freeze(
  discoveryServices.flatMap(({ service, typeUrl }) =>
    service.methods.map((method) =>
      Object.freeze({ path: methodPath(method), method, kind: kindOf(method), typeUrl }),
    ),
  ),
);

export {
  AggregatedDiscoveryService,
  ClientStatusDiscoveryService,
  ClusterDiscoveryService,
  EndpointDiscoveryService,
  ExtensionConfigDiscoveryService,
  ListenerDiscoveryService,
  LoadReportingService,
  LocalityEndpointDiscoveryService,
  RouteDiscoveryService,
  RuntimeDiscoveryService,
  ScopedRoutesDiscoveryService,
  SecretDiscoveryService,
  VirtualHostDiscoveryService,
};
