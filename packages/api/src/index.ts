/**
 * `@xds/api`: Envoy's xDS API as protobuf-es TypeScript, generated at build time from the protos shipped by
 * `@grpc/grpc-js-xds`, plus type URLs, resource traits, a registry and the discovery method descriptors.
 *
 * The common schemas are re-exported here by name; every generated file is also reachable by subpath,
 * `@xds/api/gen/<proto path without .proto>_pb` (for example `@xds/api/gen/envoy/config/rbac/v3/rbac_pb`).
 *
 * @packageDocumentation
 */
export * from './gen/envoy/admin/v3/config_dump_shared_pb.js';
export * from './gen/envoy/config/cluster/v3/cluster_pb.js';
export * from './gen/envoy/config/core/v3/address_pb.js';
export * from './gen/envoy/config/core/v3/base_pb.js';
export * from './gen/envoy/config/core/v3/config_source_pb.js';
export * from './gen/envoy/config/core/v3/extension_pb.js';
export * from './gen/envoy/config/core/v3/health_check_pb.js';
export * from './gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
export * from './gen/envoy/config/endpoint/v3/endpoint_pb.js';
export * from './gen/envoy/config/listener/v3/api_listener_pb.js';
export * from './gen/envoy/config/listener/v3/listener_components_pb.js';
export * from './gen/envoy/config/listener/v3/listener_pb.js';
export * from './gen/envoy/config/route/v3/route_components_pb.js';
// Route-level retry policy wins the name over envoy.config.core.v3.RetryPolicy (reach that one by subpath).
export {
  type RetryPolicy,
  type RetryPolicy_RetryHostPredicate,
  RetryPolicy_RetryHostPredicateSchema,
  type RetryPolicy_RetryPriority,
  RetryPolicy_RetryPrioritySchema,
  RetryPolicySchema,
} from './gen/envoy/config/route/v3/route_components_pb.js';
export * from './gen/envoy/config/route/v3/route_pb.js';
export * from './gen/envoy/config/route/v3/scoped_route_pb.js';
export * from './gen/envoy/extensions/filters/http/router/v3/router_pb.js';
export * from './gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
export * from './gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
export * from './gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
export * from './gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
export * from './gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
export * from './gen/envoy/service/discovery/v3/discovery_pb.js';
export * from './gen/envoy/service/runtime/v3/rtds_pb.js';
export * from './gen/envoy/service/status/v3/csds_pb.js';
export * from './gen/envoy/type/matcher/v3/node_pb.js';
export * from './gen/envoy/type/matcher/v3/string_pb.js';
export * from './gen/envoy/type/v3/percent_pb.js';
export * from './methods.js';
export * from './name-field.js';
export * from './redact.js';
export * from './registry.js';
export * from './resource-type.js';
export * from './resource-types.js';
export * from './type-url.js';
export * from './xds-error.js';
