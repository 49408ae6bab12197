/**
 * Resource builders for people who build snapshots by hand: each returns a protobuf-es message from `@xds/api`
 * in a shape that both Envoy and proxyless gRPC clients accept. Route builders take `{ fields: 'compatible' }`
 * for gRPC clients older than gRFC A63 (see {@link RouteFields}).
 *
 * @module
 */
export { type ClusterSpec, type ClusterTlsSpec, makeCluster, tlsTransportSocketName } from './cluster.js';
export {
  type EndpointSpec,
  type LocalityName,
  type LocalitySpec,
  makeClusterLoadAssignment,
} from './cluster-load-assignment.js';
export { adsConfigSource, durationFromMs, socketAddress } from './common.js';
export { makeExtensionConfig } from './extension-config.js';
export { type HeaderMatchSpec, makeHeaderMatcher } from './header-matcher.js';
export {
  type HttpConnectionManagerSpec,
  httpConnectionManagerName,
  makeHttpConnectionManager,
  routerFilterName,
} from './http-connection-manager.js';
export {
  type ApiListenerSpec,
  type HttpListenerSpec,
  makeApiListener,
  makeHttpListener,
  makeTcpListener,
  type TcpListenerSpec,
  tcpProxyName,
} from './listener.js';
export {
  defaultRetryOn,
  makeRoute,
  makeRouteConfiguration,
  makeVirtualHost,
  type RetrySpec,
  type RouteConfigurationSpec,
  type RouteMatchSpec,
  type RouteSpec,
  type VirtualHostSpec,
  type WeightedClusterSpec,
} from './route-configuration.js';
export { maxTotalWeight, type RouteBuildOptions, type RouteFields } from './route-fields.js';
export { makeRuntime } from './runtime.js';
export {
  makeScopedRouteConfiguration,
  makeScopedRoutesListener,
  type ScopedRouteSpec,
  type ScopedRoutesListenerSpec,
} from './scoped-routes.js';
export { type DataSourceSpec, makeSecret, type TlsCertificateSpec, type TrustedCaSpec } from './secret.js';
export {
  type DownstreamTlsSpec,
  makeDownstreamTlsTransportSocket,
  makeUpstreamTlsTransportSocket,
  type TlsSecretsSpec,
  type UpstreamTlsSpec,
} from './tls.js';
export { makeVhdsRouteConfiguration, makeVhdsVirtualHost, vhdsName } from './vhds.js';
export {
  ClientFeature,
  ExtensionTypeUrl,
  HttpFilter,
  NetworkFilter,
  ProtocolOptionsName,
  TransportSocketName,
} from './well-known.js';
