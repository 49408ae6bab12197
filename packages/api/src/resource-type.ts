import type { DescMessage, Message } from '@bufbuild/protobuf';
import { type Cluster, ClusterSchema } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  type TypedExtensionConfig,
  TypedExtensionConfigSchema,
} from './gen/envoy/config/core/v3/extension_pb.js';
import {
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
} from './gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { type Listener, ListenerSchema } from './gen/envoy/config/listener/v3/listener_pb.js';
import { type VirtualHost, VirtualHostSchema } from './gen/envoy/config/route/v3/route_components_pb.js';
import { type RouteConfiguration, RouteConfigurationSchema } from './gen/envoy/config/route/v3/route_pb.js';
import {
  type ScopedRouteConfiguration,
  ScopedRouteConfigurationSchema,
} from './gen/envoy/config/route/v3/scoped_route_pb.js';
import { type Secret, SecretSchema } from './gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { type Runtime, RuntimeSchema } from './gen/envoy/service/runtime/v3/rtds_pb.js';
import { TypeUrl } from './type-url.js';

/** What the protocol says about one xDS resource type. */
export interface ResourceType {
  /** The type URL. */
  readonly typeUrl: TypeUrl;
  /** The message schema of the resource. */
  readonly schema: DescMessage;
  /** A short name for logs and status pages: `Cluster`, `Endpoint`, … */
  readonly shortName: string;
  /** The REST path segment: `POST /v3/discovery:{restName}`, when the type has a REST endpoint. */
  readonly restName: string | undefined;
  /**
   * True when a SotW response must hold every subscribed resource, so that a missing one means deleted
   * (Listener and Cluster; see rule S8).
   */
  readonly allRequiredInSotW: boolean;
  /** True when a client may subscribe to the type by wildcard (rule S9). */
  readonly wildcard: boolean;
  /** The position of the type in an ordered ADS push (rule S11); lower goes first. */
  readonly pushOrder: number;
}

function define(
  typeUrl: TypeUrl,
  schema: DescMessage,
  shortName: string,
  restName: string | undefined,
  allRequiredInSotW: boolean,
  pushOrder: number,
): ResourceType {
  return Object.freeze({
    typeUrl,
    schema,
    shortName,
    restName,
    allRequiredInSotW,
    wildcard: allRequiredInSotW,
    pushOrder,
  });
}

/** Every xDS resource type this project serves, in ADS push order (rule S11). */
export const resourceTypes: readonly ResourceType[] = Object.freeze([
  define(TypeUrl.Cluster, ClusterSchema, 'Cluster', 'clusters', true, 0),
  define(TypeUrl.Endpoint, ClusterLoadAssignmentSchema, 'Endpoint', 'endpoints', false, 1),
  define(TypeUrl.Listener, ListenerSchema, 'Listener', 'listeners', true, 2),
  define(TypeUrl.Route, RouteConfigurationSchema, 'Route', 'routes', false, 3),
  define(TypeUrl.ScopedRoute, ScopedRouteConfigurationSchema, 'ScopedRoute', 'scoped-routes', false, 4),
  define(TypeUrl.VirtualHost, VirtualHostSchema, 'VirtualHost', undefined, false, 5),
  define(TypeUrl.Secret, SecretSchema, 'Secret', 'secrets', false, 6),
  define(TypeUrl.Runtime, RuntimeSchema, 'Runtime', 'runtime', false, 7),
  define(
    TypeUrl.ExtensionConfig,
    TypedExtensionConfigSchema,
    'ExtensionConfig',
    'extension_configs',
    false,
    8,
  ),
]);

const byUrl = new Map<string, ResourceType>(resourceTypes.map((t) => [t.typeUrl, t]));
const byTypeName = new Map<string, ResourceType>(resourceTypes.map((t) => [t.schema.typeName, t]));

/** The resource type of a type URL, or undefined when it is not an xDS resource type we serve. */
export function resourceType(typeUrl: string): ResourceType | undefined {
  return byUrl.get(typeUrl);
}

/** True when `typeUrl` is one of the xDS resource types in {@link TypeUrl}. */
export function isTypeUrl(typeUrl: string): typeUrl is TypeUrl {
  return byUrl.has(typeUrl);
}

/** The type URL of an xDS resource message, or undefined when the message is not an xDS resource. */
export function typeUrlOf(message: Message): TypeUrl | undefined {
  return byTypeName.get(message.$typeName)?.typeUrl;
}

/**
 * The name of an xDS resource (rule R1): `cluster_name` for a ClusterLoadAssignment, `name` for every other
 * type. Throws a TypeError for a message that is not an xDS resource.
 */
export function resourceName(message: Message): string {
  const type = byTypeName.get(message.$typeName);
  if (type === undefined) throw new TypeError(`${message.$typeName} is not an xDS resource type`);
  const record = message as unknown as { clusterName?: unknown; name?: unknown };
  const name = type.typeUrl === TypeUrl.Endpoint ? record.clusterName : record.name;
  return typeof name === 'string' ? name : '';
}

/** The message type of each resource type URL. */
export interface ResourceMessages {
  [TypeUrl.Cluster]: Cluster;
  [TypeUrl.Endpoint]: ClusterLoadAssignment;
  [TypeUrl.Listener]: Listener;
  [TypeUrl.Route]: RouteConfiguration;
  [TypeUrl.ScopedRoute]: ScopedRouteConfiguration;
  [TypeUrl.VirtualHost]: VirtualHost;
  [TypeUrl.Secret]: Secret;
  [TypeUrl.Runtime]: Runtime;
  [TypeUrl.ExtensionConfig]: TypedExtensionConfig;
}
