import { isMessage, type Message } from '@bufbuild/protobuf';
import {
  Code,
  type ResourceMessages,
  resourceName,
  resourceType,
  resourceTypes,
  type TypeUrl,
  typeUrlOf,
  XdsError,
} from '@xds/api';
import { type Draft, enablePatches, freeze, type Patch, produceWithPatches } from 'immer';
import { checkSnapshot, type Problem } from './check.js';
import { deepFreeze } from './deep-freeze.js';
import { type EncodedResource, encodeResource } from './encoded-resource.js';
import { TypeHash } from './type-version.js';
import type { ResourceView } from './watch.js';

enablePatches();

/** A resource with a time to live (rule R4): heartbeats refresh it for clients that support TTLs. */
export interface ResourceWithTtl {
  /** The resource message. */
  readonly resource: Message;
  /** Time to live in milliseconds. */
  readonly ttlMs: number;
}

/** Options of {@link Snapshot.create} and {@link Snapshot.update}. */
export interface SnapshotOptions {
  /**
   * The SotW version of every type (a string) or of some types (a record by type URL). Types without a given
   * version get a content hash (rule S14).
   */
  readonly version?: string | Partial<Record<TypeUrl, string>>;
}

/** The draft an update recipe changes: `draft[typeUrl][name] = message`; `delete draft[typeUrl][name]`. */
export type SnapshotDraft = { [K in TypeUrl]: Record<string, Draft<ResourceMessages[K]>> };

/** Which names of each type changed between two snapshots; a type absent from the map did not change. */
export type SnapshotChanges = ReadonlyMap<TypeUrl, ReadonlySet<string>>;

interface TypeState {
  readonly entries: ReadonlyMap<string, EncodedResource>;
  readonly record: Readonly<Record<string, Message>>;
  /** The content hash of the entries; undefined until needed when the version was given (see {@link hashOf}). */
  readonly hash: TypeHash | undefined;
  readonly version: string;
  readonly ttls: ReadonlyMap<string, number>;
}

/** Content hashes computed on demand for types whose version was given. */
const lateHashes = new WeakMap<TypeState, TypeHash>();

/** The content hash of a type's entries (computed at most once per state). */
function hashOf(state: TypeState): TypeHash {
  if (state.hash !== undefined) return state.hash;
  let hash = lateHashes.get(state);
  if (hash === undefined) {
    hash = TypeHash.of(state.entries.values());
    lateHashes.set(state, hash);
  }
  return hash;
}

const emptyRecord: Readonly<Record<string, Message>> = Object.freeze({});
const emptyState: TypeState = Object.freeze({
  entries: new Map(),
  record: emptyRecord,
  hash: TypeHash.empty(),
  version: TypeHash.empty().toString(),
  ttls: new Map(),
});
const noChanges: SnapshotChanges = new Map();

function givenVersion(options: SnapshotOptions | undefined, typeUrl: TypeUrl): string | undefined {
  const version = options?.version;
  return typeof version === 'string' ? version : version?.[typeUrl];
}

function label(typeUrl: TypeUrl): string {
  return resourceType(typeUrl)!.shortName;
}

/**
 * An immutable, deeply frozen set of xDS resources for one node or group of nodes, with a version per type and
 * per resource. Build one with {@link Snapshot.create}; change one with {@link Snapshot.update}, which returns a
 * new snapshot and keeps every untouched type (and its version) as it was.
 */
export class Snapshot {
  readonly #types: ReadonlyMap<TypeUrl, TypeState>;
  readonly #parent: Snapshot | undefined;
  readonly #changes: SnapshotChanges;
  readonly #maps = new Map<TypeUrl, ReadonlyMap<string, Message>>();
  readonly #views = new Map<TypeUrl, ResourceView>();

  private constructor(types: ReadonlyMap<TypeUrl, TypeState>, parent?: Snapshot, changes?: SnapshotChanges) {
    this.#types = types;
    this.#parent = parent;
    this.#changes = changes ?? noChanges;
    Object.freeze(this);
  }

  /**
   * Builds a snapshot. Each resource's type comes from its message and its name by rule R1. Throws an XdsError
   * (InvalidArgument) naming the offender for a value that is not a protobuf-es message, a message that is not an
   * xDS resource, a resource without a name, or two resources of one type with the same name. The messages are
   * frozen in place.
   */
  static create(resources: Iterable<Message | ResourceWithTtl>, options?: SnapshotOptions): Snapshot {
    const byType = new Map<TypeUrl, { entries: Map<string, EncodedResource>; ttls: Map<string, number> }>();
    let index = 0;
    for (const item of resources) {
      const position = index++;
      const withTtl = isResourceWithTtl(item);
      const message = withTtl ? item.resource : item;
      if (!isMessage(message)) {
        throw new XdsError(Code.InvalidArgument, `resource #${position} is not a protobuf-es message`);
      }
      const typeUrl = typeUrlOf(message);
      if (typeUrl === undefined) {
        throw new XdsError(
          Code.InvalidArgument,
          `resource #${position} (${message.$typeName}) is not an xDS resource type`,
        );
      }
      const name = resourceName(message);
      if (name === '')
        throw new XdsError(Code.InvalidArgument, `resource #${position} (${label(typeUrl)}) has no name`);
      let group = byType.get(typeUrl);
      if (group === undefined) {
        group = { entries: new Map(), ttls: new Map() };
        byType.set(typeUrl, group);
      }
      if (group.entries.has(name)) {
        throw new XdsError(
          Code.InvalidArgument,
          `duplicate ${label(typeUrl)} "${name}" (resource #${position})`,
        );
      }
      deepFreeze(message);
      group.entries.set(name, encodeResource(message));
      if (withTtl) group.ttls.set(name, validTtl(item.ttlMs, typeUrl, name));
    }
    const types = new Map<TypeUrl, TypeState>();
    for (const { typeUrl } of resourceTypes) {
      const group = byType.get(typeUrl);
      if (group === undefined) {
        const version = givenVersion(options, typeUrl);
        types.set(typeUrl, version === undefined ? emptyState : { ...emptyState, version });
        continue;
      }
      const record: Record<string, Message> = {};
      for (const [name, entry] of group.entries) record[name] = entry.message;
      // With a given version the content hash is not needed now: it is computed if an update needs it.
      const given = givenVersion(options, typeUrl);
      const hash = given === undefined ? TypeHash.of(group.entries.values()) : undefined;
      types.set(typeUrl, {
        entries: group.entries,
        record: Object.freeze(record),
        hash,
        version: given ?? hash!.toString(),
        ttls: group.ttls,
      });
    }
    return new Snapshot(types);
  }

  /** The SotW version of a type: the given version, else a content hash of that type's resources (rule S14). */
  version(typeUrl: TypeUrl): string {
    return this.#state(typeUrl).version;
  }

  /** The resources of a type by name. */
  resources<T extends TypeUrl>(typeUrl: T): ReadonlyMap<string, ResourceMessages[T]> {
    let map = this.#maps.get(typeUrl);
    if (map === undefined) {
      const state = this.#state(typeUrl);
      map = new Map([...state.entries].map(([name, entry]) => [name, entry.message]));
      this.#maps.set(typeUrl, map);
    }
    return map as ReadonlyMap<string, ResourceMessages[T]>;
  }

  /** The encoded resources of a type by name, with per-resource versions (rules R3, D4). */
  entries(typeUrl: TypeUrl): ReadonlyMap<string, EncodedResource> {
    return this.#state(typeUrl).entries;
  }

  /** The view of one type that watches read. */
  view(typeUrl: TypeUrl): ResourceView {
    let view = this.#views.get(typeUrl);
    if (view === undefined) {
      const state = this.#state(typeUrl);
      view = { version: state.version, entries: state.entries, ttl: (name) => state.ttls.get(name) };
      this.#views.set(typeUrl, view);
    }
    return view;
  }

  /** The TTL in milliseconds of a resource, when it has one (rule R4). */
  ttl(typeUrl: TypeUrl, name: string): number | undefined {
    return this.#state(typeUrl).ttls.get(name);
  }

  /** True when some resource of the type carries a TTL. */
  hasTtls(typeUrl: TypeUrl): boolean {
    return this.#state(typeUrl).ttls.size > 0;
  }

  /** The type URLs that hold at least one resource, in ADS push order. */
  typeUrls(): TypeUrl[] {
    return resourceTypes.map((t) => t.typeUrl).filter((typeUrl) => this.#state(typeUrl).entries.size > 0);
  }

  /** Rule R2: the references that point at nothing, one problem each; empty when the snapshot is consistent. */
  check(): Problem[] {
    return checkSnapshot((typeUrl) => this.resources(typeUrl));
  }

  /**
   * A new snapshot changed by an immer recipe on `{ [typeUrl]: { [name]: message } }`: assign to add or replace,
   * `delete` to remove, or change a message in place. Work is proportional to what changed; every type whose
   * content did not change keeps its version. Throws an XdsError (InvalidArgument) when a key does not match its
   * resource's type or name.
   */
  update(recipe: (draft: SnapshotDraft) => void, options?: SnapshotOptions): Snapshot {
    const base = {} as Record<TypeUrl, Readonly<Record<string, Message>>>;
    for (const [typeUrl, state] of this.#types) base[typeUrl] = state.record;
    const [next, patches] = produceWithPatches(base, (draft) => {
      recipe(draft as unknown as SnapshotDraft);
    });
    const touched = touchedNames(patches, base, next);
    const types = new Map(this.#types);
    const changes = new Map<TypeUrl, ReadonlySet<string>>();
    for (const [typeUrl, names] of touched) {
      const state = this.#state(typeUrl);
      const record = next[typeUrl] ?? emptyRecord;
      const entries = new Map(state.entries);
      const ttls = new Map(state.ttls);
      const removed: EncodedResource[] = [];
      const added: EncodedResource[] = [];
      const changed = new Set<string>();
      for (const name of names) {
        const before = state.entries.get(name);
        const message = Object.hasOwn(record, name) ? record[name] : undefined;
        const after = message === undefined ? undefined : checkedEntry(typeUrl, name, message);
        if (before?.version === after?.version) continue;
        changed.add(name);
        if (before !== undefined) removed.push(before);
        if (after === undefined) {
          entries.delete(name);
          ttls.delete(name);
        } else {
          entries.set(name, after);
          added.push(after);
        }
      }
      if (changed.size === 0) continue;
      const version = givenVersion(options, typeUrl);
      const hash = version === undefined ? hashOf(state).with(removed, added) : undefined;
      changes.set(typeUrl, changed);
      types.set(typeUrl, {
        entries,
        record: Object.isFrozen(record) ? record : freeze(record, true),
        hash,
        version: version ?? hash!.toString(),
        ttls,
      });
    }
    // A version given per type applies even to an untouched type; one string for all applies to changed types.
    for (const { typeUrl } of typeof options?.version === 'object' ? resourceTypes : []) {
      const version = givenVersion(options, typeUrl);
      if (version !== undefined && !changes.has(typeUrl) && version !== this.version(typeUrl)) {
        types.set(typeUrl, { ...this.#state(typeUrl), version });
        changes.set(typeUrl, new Set());
      }
    }
    if (changes.size === 0) return this;
    return new Snapshot(types, this, changes);
  }

  /**
   * The names of each type that differ from `previous` (added, removed or changed content), and the types whose
   * version changed. O(changed) when this snapshot was made from `previous` by {@link update}.
   */
  changesSince(previous: Snapshot | undefined): SnapshotChanges {
    if (previous === this) return noChanges;
    if (previous !== undefined && this.#parent === previous) return this.#changes;
    const out = new Map<TypeUrl, ReadonlySet<string>>();
    for (const { typeUrl } of resourceTypes) {
      const after = this.#state(typeUrl);
      const before = previous === undefined ? emptyState : previous.#state(typeUrl);
      if (after === before) continue;
      const names = new Set<string>();
      for (const [name, entry] of after.entries)
        if (before.entries.get(name)?.version !== entry.version) names.add(name);
      for (const name of before.entries.keys()) if (!after.entries.has(name)) names.add(name);
      if (names.size > 0 || after.version !== before.version) out.set(typeUrl, names);
    }
    return out;
  }

  #state(typeUrl: TypeUrl): TypeState {
    return this.#types.get(typeUrl) ?? emptyState;
  }
}

function isResourceWithTtl(item: Message | ResourceWithTtl): item is ResourceWithTtl {
  return !isMessage(item) && typeof item === 'object' && item !== null && 'resource' in item;
}

function validTtl(ttlMs: unknown, typeUrl: TypeUrl, name: string): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new XdsError(Code.InvalidArgument, `${label(typeUrl)} "${name}": ttlMs must be a positive number`);
  }
  return ttlMs;
}

function checkedEntry(typeUrl: TypeUrl, name: string, message: Message): EncodedResource {
  if (!isMessage(message) || typeUrlOf(message) !== typeUrl) {
    const what = isMessage(message) ? message.$typeName : typeof message;
    throw new XdsError(
      Code.InvalidArgument,
      `draft[${label(typeUrl)}]["${name}"] holds ${what}, not a ${label(typeUrl)}`,
    );
  }
  const actual = resourceName(message);
  if (actual !== name) {
    throw new XdsError(
      Code.InvalidArgument,
      `draft[${label(typeUrl)}]["${name}"] holds a resource named "${actual}"`,
    );
  }
  return encodeResource(message);
}

/** The names each patch touched, by type; a replaced type record touches every name on both sides. */
function touchedNames(
  patches: readonly Patch[],
  before: Record<string, Readonly<Record<string, Message>>>,
  after: Record<string, Readonly<Record<string, Message>> | undefined>,
): Map<TypeUrl, Set<string>> {
  const out = new Map<TypeUrl, Set<string>>();
  for (const patch of patches) {
    const [typeKey, name] = patch.path;
    if (typeof typeKey !== 'string' || resourceType(typeKey) === undefined) {
      throw new XdsError(
        Code.InvalidArgument,
        `draft key ${String(typeKey)} is not an xDS resource type URL`,
      );
    }
    const typeUrl = typeKey as TypeUrl;
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
