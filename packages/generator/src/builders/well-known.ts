/**
 * Well-known names of Envoy extensions, in one place (what go-control-plane's `wellknown` package is): the names
 * that go in a filter's or transport socket's `name`, the type URLs of their typed configs, and the client
 * features a node may advertise. The builders use these; so can code that builds resources by hand.
 */
import { typeUrlFor } from '@xds/api';

/** Network filter names (`Filter.name` in a listener's filter chain). */
export const NetworkFilter = {
  HttpConnectionManager: 'envoy.filters.network.http_connection_manager',
  TcpProxy: 'envoy.filters.network.tcp_proxy',
} as const;

/** HTTP filter names (`HttpFilter.name` in an HTTP connection manager). */
export const HttpFilter = {
  Router: 'envoy.filters.http.router',
  Fault: 'envoy.filters.http.fault',
  Rbac: 'envoy.filters.http.rbac',
} as const;

/** Transport socket names (`TransportSocket.name`). */
export const TransportSocketName = {
  Tls: 'envoy.transport_sockets.tls',
} as const;

/** Extension names used as keys of `typed_extension_protocol_options`. */
export const ProtocolOptionsName = {
  Http: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;

/** Type URLs of the typed configs of the extensions above (what goes in their `Any.type_url`). */
export const ExtensionTypeUrl = {
  HttpConnectionManager: typeUrlFor(
    'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  ),
  TcpProxy: typeUrlFor('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'),
  Router: typeUrlFor('envoy.extensions.filters.http.router.v3.Router'),
  Fault: typeUrlFor('envoy.extensions.filters.http.fault.v3.HTTPFault'),
  Rbac: typeUrlFor('envoy.extensions.filters.http.rbac.v3.RBAC'),
  UpstreamTlsContext: typeUrlFor('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext'),
  DownstreamTlsContext: typeUrlFor('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext'),
  HttpProtocolOptions: typeUrlFor('envoy.extensions.upstreams.http.v3.HttpProtocolOptions'),
} as const;

/** Client features a node advertises in `Node.client_features`. */
export const ClientFeature = {
  /** The client understands resources wrapped with a TTL (rule R4). */
  ResourceTtl: 'xds.config.supports-resource-ttl',
  /** The client accepts resources in `envoy.service.discovery.v3.Resource` wrappers. */
  ResourceInSotw: 'xds.config.resource-in-sotw',
} as const;
