// What a snapshot holds for one type (snapshot.ts), and what is derived from it only when needed: the content
// hash of a type whose version was given (rule S14 needs it only if an update follows) and the record an immer
// update's draft starts from. A snapshot built from 10,000 services computes neither until asked; each is then
// computed once per state and kept beside it.
import type { TypeUrl } from '@xds/api';
import type { EncodedResource } from './encoded-resource.js';
import { type DraftValue, draftValue } from './snapshot-draft.js';
import { TypeHash } from './type-version.js';

/** One type of a snapshot: its resources, their version (given, or a content hash: rule S14) and TTLs (R4). */
export interface TypeState {
  readonly entries: ReadonlyMap<string, EncodedResource>;
  /** What an update recipe's draft starts from; undefined until an update needs it (see {@link recordOf}). */
  readonly record: Readonly<Record<string, DraftValue>> | undefined;
  /** The content hash of the entries; undefined until needed when the version was given (see {@link hashOf}). */
  readonly hash: TypeHash | undefined;
  readonly version: string;
  readonly ttls: ReadonlyMap<string, number>;
}

/** Content hashes computed on demand for types whose version was given. */
const lateHashes = new WeakMap<TypeState, TypeHash>();

/** The content hash of a type's entries (computed at most once per state). */
export function hashOf(state: TypeState): TypeHash {
  if (state.hash !== undefined) return state.hash;
  let hash = lateHashes.get(state);
  if (hash === undefined) {
    hash = TypeHash.of(state.entries.values());
    lateHashes.set(state, hash);
  }
  return hash;
}

/** Draft records built on demand for states made by {@link Snapshot.create}. */
const lateRecords = new WeakMap<TypeState, Readonly<Record<string, DraftValue>>>();

/** The record an update's draft starts from (built at most once per state). */
export function recordOf(state: TypeState): Readonly<Record<string, DraftValue>> {
  if (state.record !== undefined) return state.record;
  let record = lateRecords.get(state);
  if (record === undefined) {
    const built: Record<string, DraftValue> = {};
    for (const [name, entry] of state.entries) built[name] = draftValue(entry);
    record = Object.freeze(built);
    lateRecords.set(state, record);
  }
  return record;
}

export const emptyRecord: Readonly<Record<string, DraftValue>> = Object.freeze({});
export const emptyState: TypeState = Object.freeze({
  entries: new Map(),
  record: emptyRecord,
  hash: TypeHash.empty(),
  version: TypeHash.empty().toString(),
  ttls: new Map(),
});

/** The version given for a type (a string for every type, or a record by type URL), if any. */
export function givenVersion(
  options: { readonly version?: string | Partial<Record<TypeUrl, string>> } | undefined,
  typeUrl: TypeUrl,
): string | undefined {
  const version = options?.version;
  return typeof version === 'string' ? version : version?.[typeUrl];
}
