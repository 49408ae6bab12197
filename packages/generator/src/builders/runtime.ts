import { create, type JsonObject } from '@bufbuild/protobuf';
import { type Runtime, RuntimeSchema } from '@xds/api';

/**
 * An RTDS Runtime layer: `layer` is the runtime's key/value tree (numbers, strings, booleans and nested objects,
 * as Envoy's runtime takes them: `{ 'envoy.reloadable_features.x': false, 'health_check.min_interval': 1000 }`).
 * Envoy subscribes to it by name from an RTDS layer of its bootstrap's `layered_runtime`.
 */
export function makeRuntime(name: string, layer: JsonObject): Runtime {
  return create(RuntimeSchema, { name, layer });
}
