/**
 * The type URLs of the xDS resource types, each the full `type.googleapis.com/...` string that goes in
 * `DiscoveryRequest.type_url` and in `Any.type_url`.
 */
export const TypeUrl = {
  /** `envoy.config.cluster.v3.Cluster` (CDS). */
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  /** `envoy.config.endpoint.v3.ClusterLoadAssignment` (EDS). */
  Endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  /** `envoy.config.listener.v3.Listener` (LDS). */
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  /** `envoy.config.route.v3.RouteConfiguration` (RDS). */
  Route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  /** `envoy.config.route.v3.ScopedRouteConfiguration` (SRDS). */
  ScopedRoute: 'type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration',
  /** `envoy.config.route.v3.VirtualHost` (VHDS). */
  VirtualHost: 'type.googleapis.com/envoy.config.route.v3.VirtualHost',
  /** `envoy.extensions.transport_sockets.tls.v3.Secret` (SDS). */
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  /** `envoy.service.runtime.v3.Runtime` (RTDS). */
  Runtime: 'type.googleapis.com/envoy.service.runtime.v3.Runtime',
  /** `envoy.config.core.v3.TypedExtensionConfig` (ECDS). */
  ExtensionConfig: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
} as const;

/** One of the xDS resource type URLs in {@link TypeUrl}. */
export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

const prefix = 'type.googleapis.com/';

/** The full type URL of a protobuf message type name (`envoy.config.cluster.v3.Cluster`). */
export function typeUrlFor(typeName: string): string {
  return prefix + typeName;
}

/** The protobuf message type name in a type URL (the part after the last `/`). */
export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}
