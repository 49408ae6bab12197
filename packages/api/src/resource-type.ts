// What the protocol says about one xDS resource type (rules R1, S8, S9, S11), for the built-in types and for types
// a user defines at run time (go-control-plane #418, #384): its type URL, how a resource's name is read, whether
// it may be subscribed to by wildcard, its place in an ordered ADS push. {@link ResourceTypes} holds a set of them.
import { type DescField, type DescMessage, fromBinary, type Message } from '@bufbuild/protobuf';
import { type Cluster, ClusterSchema } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  type TypedExtensionConfig,
  TypedExtensionConfigSchema,
} from './gen/envoy/config/core/v3/extension_pb.js';
import { type LbEndpoint, LbEndpointSchema } from './gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
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
import { NameNotReadable, type NameOfBytes } from './name-field.js';
import { type BuiltInTypeUrl, TypeUrl, typeNameOf } from './type-url.js';
import { wireStringReader } from './wire-name.js';
import { Code, XdsError } from './xds-error.js';

/** What the protocol says about one xDS resource type. */
export interface ResourceType {
  /** The type URL (`type.googleapis.com/…`). */
  readonly typeUrl: TypeUrl;
  /**
   * The protobuf-es schema of the resource, or undefined for an opaque type: its resources are held and served as
   * bytes, never decoded.
   */
  readonly schema: DescMessage | undefined;
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
  /** The position of the type in an ordered ADS push (rule S11); lower goes first, ties by registration. */
  readonly pushOrder: number;
  /** True for the types this library defines ({@link TypeUrl}). */
  readonly builtIn: boolean;
  /**
   * The name of a decoded resource (rule R1), or `''` when the message carries no name (LEDS's LbEndpoint): such a
   * resource is given with its name (`{ name, resource }`).
   */
  nameOf(message: Message): string;
  /**
   * Reads the name from a resource's encoded bytes without decoding it (throws when it cannot tell), or undefined
   * when the bytes hold no name: opaque resources of the type are then given with their name.
   */
  readonly nameOfBytes: NameOfBytes | undefined;
}

/** A built-in resource type: its schema is always known. */
export interface BuiltInResourceType extends ResourceType {
  readonly typeUrl: BuiltInTypeUrl;
  readonly schema: DescMessage;
  readonly builtIn: true;
}

/** How a user describes a resource type to register it (see {@link ResourceTypes.with}). */
export interface ResourceTypeDefinition {
  /** The type URL; with a schema, it must end in the schema's type name (`type.googleapis.com/acme.v1.Quota`). */
  readonly typeUrl: string;
  /** The protobuf-es schema of the resource; leave it out for an opaque type (resources given as bytes). */
  readonly schema?: DescMessage;
  /** Reads a decoded resource's name; default: its string field `name`, if the schema has one, else `''`. */
  readonly nameOf?: (message: Message) => string;
  /**
   * Reads an encoded resource's name; default, when the schema has a `name` field: read it from the wire after
   * checking the whole message as protobuf-es would (decoding only when that check declines); with a custom
   * `nameOf`: decode and call it. For an opaque type, `stringField(n)` reads a string field without decoding.
   * Without one, resources given as bytes must come with their name.
   */
  readonly nameOfBytes?: NameOfBytes;
  /** Whether clients may subscribe by wildcard (rule S9); default false. */
  readonly wildcard?: boolean;
  /** Whether SotW responses carry the whole subscribed set (rule S8); default false. */
  readonly allRequiredInSotW?: boolean;
  /** The place in an ordered ADS push (rule S11); default: after every type registered before it. */
  readonly pushOrder?: number;
  /** A short name for logs; default the last segment of the type name (`Quota`). */
  readonly shortName?: string;
  /** The REST path segment, if the type is served over REST. */
  readonly restName?: string;
}

/** The string field named `name` of a schema (singular), if any. */
function nameField(schema: DescMessage, localName: string) {
  const field = schema.fields.find((f) => f.localName === localName);
  return field?.fieldKind === 'scalar' && field.scalar === 9 ? field : undefined;
}

/** Decodes `bytes` with protobuf-es; throws {@link NameNotReadable} naming the problem when it refuses them. */
function decode(schema: DescMessage, bytes: Uint8Array): Message {
  try {
    return fromBinary(schema, bytes);
  } catch (error) {
    throw new NameNotReadable(`not a ${schema.typeName}: ${(error as Error).message}`);
  }
}

/** Reads the name with a user's `nameOf` by decoding the bytes: the same answer as protobuf-es by construction. */
function decodedName(schema: DescMessage, nameOf: (message: Message) => string): NameOfBytes {
  return (bytes) => nameOf(decode(schema, bytes));
}

/**
 * Reads the name field straight from the wire (wire-name.ts), and decodes only when that reader declines, so that
 * the answer is protobuf-es's on every input (rule L1): malformed bytes throw {@link NameNotReadable} with
 * protobuf-es's reason. `stringField` is for opaque types, which have no schema to check the bytes with.
 */
function wireName(schema: DescMessage, field: DescField, nameOf: (message: Message) => string): NameOfBytes {
  // A name in a oneof is cleared by a later member of the oneof: only decoding tells.
  if (field.oneof !== undefined) return decodedName(schema, nameOf);
  const read = wireStringReader(schema, field.number);
  return (bytes) => read(bytes) ?? nameOf(decode(schema, bytes));
}

/**
 * Checks a definition and makes a frozen {@link ResourceType} of it. Throws an XdsError (InvalidArgument) naming
 * the problem: an empty or malformed type URL, a schema whose type name is not the URL's, a bad push order.
 */
export function defineResourceType(definition: ResourceTypeDefinition, defaultPushOrder = 100): ResourceType {
  return define(definition, defaultPushOrder, false);
}

function define(
  definition: ResourceTypeDefinition,
  defaultPushOrder: number,
  builtIn: boolean,
): ResourceType {
  const { typeUrl, schema } = definition;
  const bad = (why: string) =>
    new XdsError(Code.InvalidArgument, `resource type ${JSON.stringify(typeUrl)}: ${why}`);
  if (
    typeof typeUrl !== 'string' ||
    !/^[^\s/]+(\/[^\s/]+)*\/[A-Za-z_][\w.]*$/.test(typeUrl) ||
    typeUrl.length > 512
  )
    throw bad('a type URL is `host/type.Name`, at most 512 characters, without spaces');
  if (schema !== undefined && typeNameOf(typeUrl) !== schema.typeName)
    throw bad(`the schema is ${schema.typeName}, the URL names ${typeNameOf(typeUrl)}`);
  const pushOrder = definition.pushOrder ?? defaultPushOrder;
  if (!Number.isFinite(pushOrder)) throw bad('pushOrder must be a finite number');
  const field = schema === undefined ? undefined : nameField(schema, 'name');
  const nameOf =
    definition.nameOf ??
    (field === undefined
      ? () => ''
      : (message: Message) => {
          const value = (message as unknown as Record<string, unknown>)[field.localName];
          return typeof value === 'string' ? value : '';
        });
  const nameOfBytes =
    definition.nameOfBytes ??
    (schema === undefined
      ? undefined
      : definition.nameOf !== undefined
        ? decodedName(schema, nameOf)
        : field !== undefined
          ? wireName(schema, field, nameOf)
          : undefined);
  return Object.freeze({
    typeUrl,
    schema,
    shortName: definition.shortName ?? typeNameOf(typeUrl).split('.').pop()!,
    restName: definition.restName,
    allRequiredInSotW: definition.allRequiredInSotW ?? false,
    wildcard: definition.wildcard ?? false,
    pushOrder,
    builtIn,
    nameOf,
    nameOfBytes,
  });
}

function builtIn(
  typeUrl: BuiltInTypeUrl,
  schema: DescMessage,
  shortName: string,
  restName: string | undefined,
  allRequiredInSotW: boolean,
  pushOrder: number,
): BuiltInResourceType {
  // Rule R1: ClusterLoadAssignment is named by cluster_name; LbEndpoint carries no name (LEDS names it by URL).
  const field = typeUrl === TypeUrl.Endpoint ? nameField(schema, 'clusterName') : nameField(schema, 'name');
  const nameOf = (message: Message) => {
    const value =
      field === undefined ? undefined : (message as unknown as Record<string, unknown>)[field.localName];
    return typeof value === 'string' ? value : '';
  };
  const definition: ResourceTypeDefinition = {
    typeUrl,
    schema,
    shortName,
    ...(restName === undefined ? {} : { restName }),
    allRequiredInSotW,
    wildcard: allRequiredInSotW,
    pushOrder,
    ...(field === undefined ? {} : { nameOf, nameOfBytes: wireName(schema, field, nameOf) }),
  };
  return define(definition, pushOrder, true) as BuiltInResourceType;
}

/** Every built-in xDS resource type, in ADS push order (rule S11). */
export const resourceTypes: readonly BuiltInResourceType[] = Object.freeze([
  builtIn(TypeUrl.Cluster, ClusterSchema, 'Cluster', 'clusters', true, 0),
  builtIn(TypeUrl.Endpoint, ClusterLoadAssignmentSchema, 'Endpoint', 'endpoints', false, 1),
  builtIn(TypeUrl.Listener, ListenerSchema, 'Listener', 'listeners', true, 2),
  builtIn(TypeUrl.Route, RouteConfigurationSchema, 'Route', 'routes', false, 3),
  builtIn(TypeUrl.ScopedRoute, ScopedRouteConfigurationSchema, 'ScopedRoute', 'scoped-routes', false, 4),
  builtIn(TypeUrl.VirtualHost, VirtualHostSchema, 'VirtualHost', undefined, false, 5),
  builtIn(TypeUrl.Secret, SecretSchema, 'Secret', 'secrets', false, 6),
  builtIn(TypeUrl.Runtime, RuntimeSchema, 'Runtime', 'runtime', false, 7),
  builtIn(
    TypeUrl.ExtensionConfig,
    TypedExtensionConfigSchema,
    'ExtensionConfig',
    'extension_configs',
    false,
    8,
  ),
  // LEDS is delta only and has no REST endpoint; it follows EDS's place in spirit, after every older type.
  builtIn(TypeUrl.LbEndpoint, LbEndpointSchema, 'LbEndpoint', undefined, false, 9),
]);

const byUrl = new Map<string, BuiltInResourceType>(resourceTypes.map((t) => [t.typeUrl, t]));
const byTypeName = new Map<string, BuiltInResourceType>(resourceTypes.map((t) => [t.schema.typeName, t]));

/** The built-in resource type of a type URL, or undefined (see {@link ResourceTypes.get} for registered types). */
export function resourceType(typeUrl: string): BuiltInResourceType | undefined {
  return byUrl.get(typeUrl);
}

/** True when `typeUrl` is one of the built-in xDS resource types in {@link TypeUrl}. */
export function isTypeUrl(typeUrl: string): typeUrl is BuiltInTypeUrl {
  return byUrl.has(typeUrl);
}

/** The type URL of a built-in xDS resource message, or undefined when the message is not one. */
export function typeUrlOf(message: Message): BuiltInTypeUrl | undefined {
  return byTypeName.get(message.$typeName)?.typeUrl;
}

/**
 * The name of a built-in xDS resource (rule R1): `cluster_name` for a ClusterLoadAssignment, `name` for the other
 * types, `''` for an LbEndpoint (named by its LEDS URL, given beside it). Throws a TypeError for a message that is
 * not a built-in xDS resource.
 */
export function resourceName(message: Message): string {
  const type = byTypeName.get(message.$typeName);
  if (type === undefined) throw new TypeError(`${message.$typeName} is not an xDS resource type`);
  return type.nameOf(message);
}

/** The message type of each built-in resource type URL. */
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
  [TypeUrl.LbEndpoint]: LbEndpoint;
}

/** The message type of a type URL: the built-in type's message, `Message` for a registered type. */
export type MessageOf<U extends string> = U extends keyof ResourceMessages ? ResourceMessages[U] : Message;
