import { type DescMessage, fromBinary, type Message, type MessageShape, toBinary } from '@bufbuild/protobuf';
import { type Any, anyUnpack } from '@bufbuild/protobuf/wkt';
import {
  type DiscoveryMethod,
  discoveryMethods,
  ResourceSchema,
  resourceName,
  resourceType,
  typeUrlFor,
  xdsRegistry,
} from '@xds/api';

/** Which xDS variant a client speaks: state of the world or incremental. */
export type Protocol = 'sotw' | 'delta';

/** gRPC `INVALID_ARGUMENT`, the code Envoy puts in the `error_detail` of a NACK. */
export const nackCode = 3;

/** A gRPC serializer for messages of `schema`: protobuf-es `toBinary`, without copying the bytes. */
export function serializer<Desc extends DescMessage>(schema: Desc): (value: MessageShape<Desc>) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/** A gRPC deserializer for messages of `schema`: protobuf-es `fromBinary`. */
export function deserializer<Desc extends DescMessage>(schema: Desc): (bytes: Buffer) => MessageShape<Desc> {
  return (bytes) => fromBinary(schema, bytes);
}

/**
 * The discovery stream method for a protocol: the aggregated one (ADS) when `typeUrl` is undefined, otherwise the
 * per-type one (`StreamClusters`, `DeltaClusters`, …). Throws when the type has no such method (there is no SotW
 * VirtualHost stream, for example).
 */
export function streamMethod(protocol: Protocol, typeUrl: string | undefined): DiscoveryMethod {
  const method = discoveryMethods.find((m) => m.kind === protocol && m.typeUrl === typeUrl);
  if (method === undefined) {
    const what = typeUrl === undefined ? 'aggregated' : typeUrl;
    throw new Error(`no ${protocol === 'sotw' ? 'SotW' : 'delta'} discovery stream for ${what}`);
  }
  return method;
}

/** A short, readable name of a type URL for messages: `Cluster`, or the URL itself for unknown types. */
export function shortTypeName(typeUrl: string): string {
  if (typeUrl === '') return '(empty type_url)';
  return resourceType(typeUrl)?.shortName ?? typeUrl;
}

/** The type URL of `envoy.service.discovery.v3.Resource`, the wrapper of TTL'd SotW resources (rule R4). */
export const resourceWrapperTypeUrl: string = typeUrlFor(ResourceSchema.typeName);

/** One resource unpacked from an `Any`: the message and its name, or an error saying why it could not be. */
export type Unpacked =
  | { readonly ok: true; readonly name: string; readonly message: Message }
  | { readonly ok: false; readonly error: string };

/**
 * Unpacks one resource through the xDS registry and checks that it is of `expectedTypeUrl`. The name is the
 * resource's own (rule R1) when it is an xDS resource type that carries one, otherwise `fallbackName` (the name of
 * its `Resource` wrapper: LEDS's LbEndpoint carries no name of its own).
 */
export function unpackResource(any: Any, expectedTypeUrl: string, fallbackName = ''): Unpacked {
  if (expectedTypeUrl !== '' && any.typeUrl !== expectedTypeUrl) {
    return { ok: false, error: `resource of type ${any.typeUrl} in a response of type ${expectedTypeUrl}` };
  }
  let message: Message | undefined;
  try {
    message = anyUnpack(any, xdsRegistry);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return { ok: false, error: `cannot decode a ${shortTypeName(any.typeUrl)} resource: ${reason}` };
  }
  if (message === undefined) return { ok: false, error: `unknown resource type ${any.typeUrl}` };
  const own = resourceType(any.typeUrl) === undefined ? '' : resourceName(message);
  const name = own !== '' ? own : fallbackName;
  return { ok: true, name, message };
}
