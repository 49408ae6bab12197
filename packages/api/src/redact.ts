/**
 * Redaction of secrets in dumped configuration (rule L6 of the protocol notes): CSDS answers, `config_dump` and
 * every debug view that prints resources show no private key, password or other field that Envoy's protos mark
 * `[(udpa.annotations.sensitive) = true]`.
 *
 * One walk, driven by the generated descriptors (the option is kept in them), for every dump:
 * - a field marked sensitive, and everything below it, is redacted: strings and bytes become `[redacted]`, other
 *   scalars and enums their zero value; messages below are walked with the same rule;
 * - `google.protobuf.Any` payloads are unpacked through the registry and walked; a payload of a type the registry
 *   does not know (or that does not decode) cannot be judged, so it is dropped (the type URL stays);
 * - `TypedStruct` (xds.type.v3, udpa.type.v1) payloads of a known type are read as that type and walked; any other
 *   is judged unknown, and every leaf of its Struct is redacted (its shape stays);
 * - fields the descriptors do not know (unknown fields) are dropped, for the same reason.
 */
import {
  clone,
  type DescField,
  type DescMessage,
  fromBinary,
  fromJson,
  getOption,
  type MessageShape,
  type Registry,
  ScalarType,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import { type ReflectMessage, reflect, scalarZeroValue } from '@bufbuild/protobuf/reflect';
import { type Any, type Struct, StructSchema } from '@bufbuild/protobuf/wkt';
import { sensitive } from './gen/udpa/annotations/sensitive_pb.js';
import { xdsRegistry } from './registry.js';

/** What a redacted string (or, as UTF-8, bytes) field holds, as in Envoy's own config dump. */
export const REDACTED = '[redacted]';

const redactedBytes = new TextEncoder().encode(REDACTED);
const anyName = 'google.protobuf.Any';
const typedStructNames = new Set(['xds.type.v3.TypedStruct', 'udpa.type.v1.TypedStruct']);

/** Options of the redaction functions. */
export interface RedactOptions {
  /** Where `Any` and `TypedStruct` payload types are looked up; default {@link xdsRegistry}. */
  readonly registry?: Registry;
}

/** True when a field carries `[(udpa.annotations.sensitive) = true]`. */
export function isSensitiveField(field: DescField): boolean {
  return getOption(field, sensitive) === true;
}

/** The payload type name of a type URL: what follows its last `/`. */
function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}

/** Redacts one scalar field of a message in a sensitive place. */
function redactScalar(r: ReflectMessage, field: DescField & { fieldKind: 'scalar' | 'enum' }): void {
  if (field.fieldKind === 'enum') r.set(field, 0);
  else if (field.scalar === ScalarType.STRING) r.set(field, REDACTED);
  else if (field.scalar === ScalarType.BYTES) r.set(field, redactedBytes);
  else r.set(field, scalarZeroValue(field.scalar, false));
}

/** Redacts an Any in place; true when it changed. */
function redactAny(any: Any, secret: boolean, registry: Registry): boolean {
  if (any.value.length === 0) return false;
  const desc = registry.getMessage(typeNameOf(any.typeUrl));
  let inner: ReflectMessage | undefined;
  if (desc !== undefined) {
    try {
      inner = reflect(desc, fromBinary(desc, any.value));
    } catch {
      inner = undefined;
    }
  }
  if (inner === undefined) {
    any.value = new Uint8Array(0);
    return true;
  }
  if (!walk(inner, secret, registry)) return false;
  any.value = toBinary(inner.desc, inner.message);
  return true;
}

/** Redacts a TypedStruct in place; true when it changed. */
function redactTypedStruct(r: ReflectMessage, secret: boolean, registry: Registry): boolean {
  const typeUrlField = r.desc.fields.find((f) => f.name === 'type_url');
  const valueField = r.desc.fields.find((f) => f.name === 'value');
  if (typeUrlField === undefined || valueField?.fieldKind !== 'message' || !r.isSet(valueField)) return false;
  const struct = r.get(valueField);
  const desc = registry.getMessage(typeNameOf(String(r.get(typeUrlField))));
  if (desc !== undefined) {
    try {
      const json = toJson(StructSchema, struct.message as Struct);
      const inner = reflect(desc, fromJson(desc, json, { registry }));
      if (!walk(inner, secret, registry)) return false;
      const back = fromJson(StructSchema, toJson(desc, inner.message, { registry }));
      r.set(valueField, reflect(StructSchema, back));
      return true;
    } catch {
      // Not that type after all (or not printable): judged unknown below.
    }
  }
  if (!walk(struct, true, registry)) return false;
  r.set(valueField, struct);
  return true;
}

/** Redacts a message in place; `secret` when it sits below a sensitive field. True when anything changed. */
function walk(r: ReflectMessage, secret: boolean, registry: Registry): boolean {
  let changed = false;
  if ((r.getUnknown()?.length ?? 0) > 0) {
    r.setUnknown([]);
    changed = true;
  }
  if (r.desc.typeName === anyName) return redactAny(r.message as Any, secret, registry) || changed;
  if (typedStructNames.has(r.desc.typeName)) return redactTypedStruct(r, secret, registry) || changed;
  for (const field of r.fields) {
    if (!r.isSet(field)) continue;
    const below = secret || isSensitiveField(field);
    switch (field.fieldKind) {
      case 'scalar':
      case 'enum':
        if (below) {
          redactScalar(r, field);
          changed = true;
        }
        break;
      case 'message': {
        // get() may give a converted copy (wrappers, Struct): set it back when it changed.
        const child = r.get(field);
        if (walk(child, below, registry)) {
          r.set(field, child);
          changed = true;
        }
        break;
      }
      case 'list': {
        const list = r.get(field);
        if (field.listKind === 'message') {
          for (let i = 0; i < list.size; i++) {
            const item = list.get(i) as ReflectMessage;
            if (walk(item, below, registry)) {
              list.set(i, item);
              changed = true;
            }
          }
        } else if (below) {
          const marker =
            field.listKind === 'scalar' && field.scalar === ScalarType.STRING ? REDACTED : redactedBytes;
          const keep =
            field.listKind === 'scalar' &&
            (field.scalar === ScalarType.STRING || field.scalar === ScalarType.BYTES);
          if (keep) for (let i = 0; i < list.size; i++) list.set(i, marker);
          else r.clear(field);
          changed = true;
        }
        break;
      }
      case 'map': {
        const map = r.get(field);
        if (field.mapKind === 'message') {
          for (const value of map.values())
            changed = walk(value as ReflectMessage, below, registry) || changed;
        } else if (below) {
          // Keys name things and must stay unique; the values are what is secret.
          if (field.mapKind === 'scalar' && field.scalar === ScalarType.STRING)
            for (const key of [...map.keys()]) map.set(key, REDACTED);
          else if (field.mapKind === 'scalar' && field.scalar === ScalarType.BYTES)
            for (const key of [...map.keys()]) map.set(key, redactedBytes);
          else r.clear(field);
          changed = true;
        }
        break;
      }
    }
  }
  return changed;
}

/**
 * A copy of `message` with every sensitive field redacted (see the rules at the top of this file), or `message`
 * itself when there is nothing to redact. The message given is never changed (snapshots are frozen).
 */
export function redact<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  options: RedactOptions = {},
): MessageShape<Desc> {
  const copy = clone(schema, message);
  return walk(reflect(schema, copy), false, options.registry ?? xdsRegistry) ? copy : message;
}

/**
 * The protobuf encoding of a resource of type `typeUrl` with every sensitive field redacted, or `bytes` itself
 * when there is nothing to redact. A type the registry does not know, or bytes that do not decode, give empty bytes:
 * what cannot be judged is not shown.
 */
export function redactBytes(typeUrl: string, bytes: Uint8Array, options: RedactOptions = {}): Uint8Array {
  const any: Any = { $typeName: 'google.protobuf.Any', typeUrl, value: bytes };
  return redactAny(any, false, options.registry ?? xdsRegistry) ? any.value : bytes;
}
