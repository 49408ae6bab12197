import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { type TypedExtensionConfig, TypedExtensionConfigSchema } from '@xds/api';

/**
 * An ECDS resource: a named, typed extension config (an HTTP filter's config, for example) that a listener's filter
 * chain points to with `config_discovery` and Envoy fetches by name.
 *
 * ```ts
 * makeExtensionConfig('fault', HTTPFaultSchema, create(HTTPFaultSchema, { ... }))
 * ```
 */
export function makeExtensionConfig<T extends DescMessage>(
  name: string,
  schema: T,
  config: MessageShape<T>,
): TypedExtensionConfig {
  return create(TypedExtensionConfigSchema, { name, typedConfig: anyPack(schema, config) });
}
