// The draft of a snapshot update (rule R1 names): what an immer recipe sees per type and name, how a drafted value
// becomes an encoded entry (checked against its key), and which names a recipe's patches touched.
import { isMessage, type Message } from '@bufbuild/protobuf';
import {
  type BuiltInTypeUrl,
  Code,
  type MessageOf,
  type ResourceTypes,
  type TypeUrl,
  XdsError,
} from '@xds/api';
import type { Draft, Patch } from 'immer';
import { type EncodedResource, encodeResource, opaqueResource } from './encoded-resource.js';

/**
 * The draft an update recipe changes: `draft[typeUrl][name] = message`; `delete draft[typeUrl][name]`. A resource
 * that was given as bytes (opaque) reads as its `Uint8Array` and is not decoded; bytes may be assigned too (the
 * key is then the name).
 */
export type SnapshotDraft = { [K in BuiltInTypeUrl]: Record<string, Draft<MessageOf<K>>> } & Record<
  string,
  Record<string, Draft<Message> | Uint8Array>
>;

/** What a draft holds per name: the message, or the bytes of an opaque resource. */
export type DraftValue = Message | Uint8Array;

/** The draft value of an entry: its message when it has one decoded, its bytes when opaque (never decodes). */
export function draftValue(entry: EncodedResource): DraftValue {
  return entry.decoded ?? entry.bytes;
}

/** The entry of a drafted value; throws an XdsError (InvalidArgument) when it does not match its key. */
export function checkedEntry(
  registry: ResourceTypes,
  typeUrl: TypeUrl,
  name: string,
  value: unknown,
): EncodedResource {
  const type = registry.get(typeUrl)!;
  const where = `draft[${type.shortName}]["${name}"]`;
  if (value instanceof Uint8Array) return opaqueResource({ typeUrl, bytes: value, name, types: registry });
  if (!isMessage(value) || registry.ofMessage(value) !== type) {
    const what = isMessage(value) ? value.$typeName : typeof value;
    throw new XdsError(Code.InvalidArgument, `${where} holds ${what}, not a ${type.shortName}`);
  }
  const actual = type.nameOf(value);
  if (actual !== '' && actual !== name)
    throw new XdsError(Code.InvalidArgument, `${where} holds a resource named "${actual}"`);
  return encodeResource(value, { types: registry, name });
}

/** The names each patch touched, by type; a replaced type record touches every name on both sides. */
export function touchedNames(
  patches: readonly Patch[],
  before: Record<string, Readonly<Record<string, DraftValue>>>,
  after: Record<string, Readonly<Record<string, DraftValue>> | undefined>,
  registry: ResourceTypes,
): Map<TypeUrl, Set<string>> {
  const out = new Map<TypeUrl, Set<string>>();
  for (const patch of patches) {
    const [typeKey, name] = patch.path;
    if (typeof typeKey !== 'string' || !registry.has(typeKey)) {
      throw new XdsError(
        Code.InvalidArgument,
        `draft key ${String(typeKey)} is not an xDS resource type URL`,
      );
    }
    const typeUrl = typeKey;
    let names = out.get(typeUrl);
    if (names === undefined) {
      names = new Set();
      out.set(typeUrl, names);
    }
    if (name === undefined) {
      for (const key of Object.keys(before[typeUrl] ?? {})) names.add(key);
      for (const key of Object.keys(after[typeUrl] ?? {})) names.add(key);
    } else names.add(String(name));
  }
  return out;
}
