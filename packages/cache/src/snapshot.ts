// The immutable snapshot: a version per type (content hashes by default, rule S14; given versions win), encoded
// resources shared by every stream (rule R3), TTLs (rule R4), consistency checks (rule R2), and updates by immer
// recipe that keep every untouched type's version. The draft an update works on lives in snapshot-draft.ts, and
// what the snapshot holds per type (with what is derived from it on demand) in snapshot-state.ts.
import type { Message } from '@bufbuild/protobuf';
import { Code, type MessageOf, ResourceTypes, type TypeUrl, XdsError } from '@xds/api';
import { enablePatches, freeze, produceWithPatches } from 'immer';
import { checkSnapshot, type Problem } from './check.js';
import type { EncodedResource } from './encoded-resource.js';
import { PersistentMap } from './persistent-map.js';
import { checkedEntry, type DraftValue, type SnapshotDraft, touchedNames } from './snapshot-draft.js';
import { parseResource, type SnapshotResource } from './snapshot-input.js';
import { emptyRecord, emptyState, givenVersion, hashOf, recordOf, type TypeState } from './snapshot-state.js';
import { TypeHash } from './type-version.js';
import type { ResourceView } from './watch-source.js';

export type { SnapshotDraft } from './snapshot-draft.js';
export type {
  BytesResource,
  NamedResource,
  ResourceWithTtl,
  SnapshotResource,
} from './snapshot-input.js';

enablePatches();

/** Options of {@link Snapshot.create} and {@link Snapshot.update}. */
export interface SnapshotOptions {
  /**
   * The SotW version of every type (a string) or of some types (a record by type URL). Types without a given
   * version get a content hash (rule S14).
   */
  readonly version?: string | Partial<Record<TypeUrl, string>>;
  /**
   * The resource types the snapshot may hold (built-in ones by default). {@link Snapshot.update} keeps the
   * snapshot's types unless given others.
   */
  readonly types?: ResourceTypes;
}

/** Which names of each type changed between two snapshots; a type absent from the map did not change. */
export type SnapshotChanges = ReadonlyMap<TypeUrl, ReadonlySet<string>>;

const noChanges: SnapshotChanges = new Map();

/**
 * An immutable, deeply frozen set of xDS resources for one node or group of nodes, with a version per type and
 * per resource. Build one with {@link Snapshot.create}; change one with {@link Snapshot.update}, which returns a
 * new snapshot and keeps every untouched type (and its version) as it was.
 */
export class Snapshot {
  /** The resource types this snapshot may hold. */
  readonly types: ResourceTypes;
  readonly #types: ReadonlyMap<TypeUrl, TypeState>;
  readonly #parent: Snapshot | undefined;
  readonly #changes: SnapshotChanges;
  readonly #maps = new Map<TypeUrl, ReadonlyMap<string, Message>>();
  readonly #views = new Map<TypeUrl, ResourceView>();

  private constructor(
    registry: ResourceTypes,
    types: ReadonlyMap<TypeUrl, TypeState>,
    parent?: Snapshot,
    changes?: SnapshotChanges,
  ) {
    this.types = registry;
    this.#types = types;
    this.#parent = parent;
    this.#changes = changes ?? noChanges;
    Object.freeze(this);
  }

  /**
   * Builds a snapshot. A resource is a message (its type from `options.types`, its name by rule R1), a
   * `{ resource, name?, ttlMs? }` (a name for types whose messages carry none, such as LEDS's LbEndpoint; a TTL,
   * rule R4), an `EncodedResource`, or `{ typeUrl, bytes, name? }`: an opaque resource, hashed and served as
   * given, never decoded. Throws an XdsError (InvalidArgument) naming the offender for a value that is not a
   * resource, a type `options.types` does not have, a resource without a name, or two resources of one type with
   * the same name. Messages are frozen in place.
   */
  static create(resources: Iterable<SnapshotResource>, options?: SnapshotOptions): Snapshot {
    const registry = options?.types ?? ResourceTypes.builtIn;
    const byType = new Map<TypeUrl, { entries: Map<string, EncodedResource>; ttls: Map<string, number> }>();
    let index = 0;
    for (const item of resources) {
      const position = index++;
      const { entry, ttlMs } = parseResource(item, position, registry);
      let group = byType.get(entry.typeUrl);
      if (group === undefined) {
        group = { entries: new Map(), ttls: new Map() };
        byType.set(entry.typeUrl, group);
      }
      if (group.entries.has(entry.name)) {
        throw new XdsError(
          Code.InvalidArgument,
          `duplicate ${registry.get(entry.typeUrl)!.shortName} "${entry.name}" (resource #${position})`,
        );
      }
      group.entries.set(entry.name, entry);
      if (ttlMs !== undefined) group.ttls.set(entry.name, ttlMs);
    }
    const types = new Map<TypeUrl, TypeState>();
    for (const { typeUrl } of registry) {
      const group = byType.get(typeUrl);
      if (group === undefined) {
        const version = givenVersion(options, typeUrl);
        if (version !== undefined) types.set(typeUrl, { ...emptyState, version });
        continue;
      }
      // With a given version the content hash is not needed now: it is computed if an update needs it.
      const given = givenVersion(options, typeUrl);
      const hash = given === undefined ? TypeHash.of(group.entries.values()) : undefined;
      types.set(typeUrl, {
        entries: group.entries,
        // The draft record is built only if an update needs it.
        record: undefined,
        hash,
        version: given ?? hash!.toString(),
        ttls: group.ttls,
      });
    }
    return new Snapshot(registry, types);
  }

  /** The SotW version of a type: the given version, else a content hash of that type's resources (rule S14). */
  version(typeUrl: TypeUrl): string {
    return this.#state(typeUrl).version;
  }

  /**
   * The resources of a type by name, decoded. Opaque resources of a type with a schema are decoded here (once);
   * throws an XdsError (FailedPrecondition) for a type without a schema: read {@link entries} instead.
   */
  resources<T extends TypeUrl>(typeUrl: T): ReadonlyMap<string, MessageOf<T>> {
    let map = this.#maps.get(typeUrl);
    if (map === undefined) {
      const state = this.#state(typeUrl);
      if (state.entries.size > 0 && this.types.get(typeUrl)?.schema === undefined)
        throw new XdsError(
          Code.FailedPrecondition,
          `${typeUrl} is an opaque type (no schema): read its bytes with entries()`,
        );
      map = new Map([...state.entries].map(([name, entry]) => [name, entry.message!]));
      this.#maps.set(typeUrl, map);
    }
    return map as ReadonlyMap<string, MessageOf<T>>;
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
    const out: TypeUrl[] = [];
    for (const { typeUrl } of this.types) if (this.#state(typeUrl).entries.size > 0) out.push(typeUrl);
    return out;
  }

  /**
   * Rule R2: the references that point at nothing, one problem each; empty when the snapshot is consistent.
   * Opaque resources are not decoded: they count as existing, and the references inside them are not checked.
   */
  check(): Problem[] {
    return checkSnapshot(
      (typeUrl) => {
        const out = new Map<string, Message>();
        for (const [name, entry] of this.#state(typeUrl).entries)
          if (entry.decoded !== undefined) out.set(name, entry.decoded);
        return out as never;
      },
      (typeUrl, name) => this.#state(typeUrl).entries.has(name),
    );
  }

  /**
   * A new snapshot changed by an immer recipe on `{ [typeUrl]: { [name]: message } }`: assign to add or replace,
   * `delete` to remove, or change a message in place. Work is proportional to what changed; every type whose
   * content did not change keeps its version. Throws an XdsError (InvalidArgument) when a key does not match its
   * resource's type or name.
   */
  update(recipe: (draft: SnapshotDraft) => void, options?: SnapshotOptions): Snapshot {
    const registry = options?.types ?? this.types;
    const base = {} as Record<TypeUrl, Readonly<Record<string, DraftValue>>>;
    for (const { typeUrl } of registry) base[typeUrl] = recordOf(this.#state(typeUrl));
    const [next, patches] = produceWithPatches(base, (draft) => {
      recipe(draft as unknown as SnapshotDraft);
    });
    const touched = touchedNames(patches, base, next, registry);
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
        const after = message === undefined ? undefined : checkedEntry(registry, typeUrl, name, message);
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
    for (const { typeUrl } of typeof options?.version === 'object' ? registry : []) {
      const version = givenVersion(options, typeUrl);
      if (version !== undefined && !changes.has(typeUrl) && version !== this.version(typeUrl)) {
        types.set(typeUrl, { ...this.#state(typeUrl), version });
        changes.set(typeUrl, new Set());
      }
    }
    if (changes.size === 0 && registry === this.types) return this;
    return new Snapshot(registry, types, this, changes);
  }

  /**
   * A new snapshot with one type changed by encoded resources: `set` put by name (added or replaced), `removed`
   * names dropped (a name in both is dropped). Costs O(the change), amortised, however many resources the type holds:
   * the type's map is shared with this snapshot through a persistent map, never copied, and only the new resources
   * are frozen (by {@link encodeResource}). What an upstream that sends changes needs (the relay, rules X1, X4).
   * The type's version is `version` when given, else its content hash, followed in O(the change) (rule S14).
   * Returns this snapshot when nothing changes. Throws an XdsError (InvalidArgument) for a type the snapshot does
   * not have or a resource of another type.
   */
  change(
    typeUrl: TypeUrl,
    set: readonly EncodedResource[],
    removed: readonly string[],
    version?: string,
  ): Snapshot {
    if (!this.types.has(typeUrl))
      throw new XdsError(Code.InvalidArgument, `change(): ${typeUrl} is not a type of this snapshot`);
    const target = new Map<string, EncodedResource | undefined>();
    for (const entry of set) {
      if (entry.typeUrl !== typeUrl)
        throw new XdsError(
          Code.InvalidArgument,
          `change(): "${entry.name}" is a ${entry.typeUrl}, not a ${typeUrl}`,
        );
      target.set(entry.name, entry);
    }
    for (const name of removed) target.set(name, undefined);
    const state = this.#state(typeUrl);
    const gone: EncodedResource[] = [];
    const added: EncodedResource[] = [];
    const puts: [string, EncodedResource][] = [];
    const drops: string[] = [];
    const changed = new Set<string>();
    for (const [name, after] of target) {
      const before = state.entries.get(name);
      if (before?.version === after?.version) continue;
      changed.add(name);
      if (before !== undefined) gone.push(before);
      if (after === undefined) drops.push(name);
      else {
        puts.push([name, after]);
        added.push(after);
      }
    }
    if (changed.size === 0 && (version === undefined || version === state.version)) return this;
    let ttls = state.ttls;
    if (ttls.size > 0 && [...changed].some((name) => ttls.has(name))) {
      ttls = new Map(ttls);
      for (const name of changed) (ttls as Map<string, number>).delete(name);
    }
    const hash = version === undefined ? hashOf(state).with(gone, added) : undefined;
    const types = new Map(this.#types);
    types.set(typeUrl, {
      entries: changed.size === 0 ? state.entries : PersistentMap.of(state.entries).with(puts, drops),
      record: changed.size === 0 ? state.record : undefined,
      hash,
      version: version ?? hash!.toString(),
      ttls,
    });
    return new Snapshot(this.types, types, this, new Map([[typeUrl, changed]]));
  }

  /**
   * The names of each type that differ from `previous` (added, removed or changed content), and the types whose
   * version changed. O(changed) when this snapshot was made from `previous` by {@link update}.
   */
  changesSince(previous: Snapshot | undefined): SnapshotChanges {
    if (previous === this) return noChanges;
    if (previous !== undefined && this.#parent === previous) return this.#changes;
    const out = new Map<TypeUrl, ReadonlySet<string>>();
    const typeUrls = new Set([
      ...this.#types.keys(),
      ...(previous === undefined ? [] : previous.#types.keys()),
    ]);
    for (const typeUrl of typeUrls) {
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
