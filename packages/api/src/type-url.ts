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
  /**
   * `envoy.config.endpoint.v3.LbEndpoint` (LEDS): endpoints named by xdstp URLs and subscribed to by glob
   * collection (`xdstp://authority/envoy.config.endpoint.v3.LbEndpoint/pool/*`). The message carries no name: a
   * snapshot takes it from `{ name, resource }`.
   */
  LbEndpoint: 'type.googleapis.com/envoy.config.endpoint.v3.LbEndpoint',
} as const;

/** One of the built-in xDS resource type URLs in {@link TypeUrl}. */
export type BuiltInTypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/**
 * A resource type URL: one of the built-in ones in {@link TypeUrl} (offered by editors), or any other string, the
 * type URL of a type registered at run time ({@link ResourceTypes}).
 */
export type TypeUrl = BuiltInTypeUrl | (string & {});

const prefix = 'type.googleapis.com/';

/** The full type URL of a protobuf message type name (`envoy.config.cluster.v3.Cluster`). */
export function typeUrlFor(typeName: string): string {
  return prefix + typeName;
}

/** The protobuf message type name in a type URL (the part after the last `/`). */
export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}
