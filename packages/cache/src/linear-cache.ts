import { isMessage, type Message } from '@bufbuild/protobuf';
import { Code, type Node, ResourceTypes, type TypeUrl, XdsError } from '@xds/api';
import { type CacheLogger, silentCacheLogger } from './cache-logger.js';
import { byNodeId, type ConfigWatcher, type NodeKey } from './config-watcher.js';
import { DeltaWatch } from './delta-watch.js';
import type { EncodedResource } from './encoded-resource.js';
import { GlobIndex } from './glob-index.js';
import { parseResource, type SnapshotResource } from './snapshot-input.js';
import { SotwWatch } from './sotw-watch.js';
import { TypeHash } from './type-version.js';
import { isGlob, type Watch } from './watch.js';
import type {
  Completeness,
  ResourceView,
  SubscriptionChange,
  WatchOptions,
  WatchSource,
} from './watch-source.js';

/**
 * A resource a LinearCache takes: a message, `{ resource, name?, ttlMs? }`, an `EncodedResource`, or
 * `{ typeUrl, bytes, name? }` (opaque), as {@link Snapshot.create} takes them. TTLs are ignored.
 */
export type LinearResource = SnapshotResource;

/** Options of {@link LinearCache}. */
export interface LinearCacheOptions {
  /** The initial resources. */
  readonly resources?: Iterable<LinearResource>;
  /** Whether clients may subscribe by wildcard; default: the type's own rule (Listener, Cluster). */
  readonly wildcard?: boolean;
  /** Maps a node to a key (kept on each watch; the resources are the same for every node). */
  readonly nodeKey?: NodeKey;
  /** The resource types the cache's type is looked up in; default the built-in ones. */
  readonly types?: ResourceTypes;
  /** Where the cache says what it does (debug: changes and watches); default silent. */
  readonly logger?: CacheLogger;
}

/** Counts of a LinearCache, for status pages. */
export interface LinearCacheStats {
  /** Resources held. */
  readonly resources: number;
  /** Open watches. */
  readonly watches: number;
  /** Watches subscribed by wildcard (rule S9, D7). */
  readonly wildcardWatches: number;
  /** Watches that hold at least one glob (`prefix/*`). */
  readonly globWatches: number;
  /** Distinct names some watch subscribes to explicitly. */
  readonly watchedNames: number;
}

interface Indexed {
  readonly names: Set<string>;
  readonly prefixes: Set<string>;
  wildcard: boolean;
}

/**
 * One resource type shared by every node, with per-resource versions. An update wakes only the watches that
 * subscribe to the changed names, by name, by wildcard or by glob prefix (`foo/*`).
 */
export class LinearCache implements ConfigWatcher, WatchSource {
  /** The type this cache serves. */
  readonly typeUrl: TypeUrl;
  readonly completeness: Completeness = 'subset';
  /** The resource types this cache knows (its own type among them). */
  readonly types: ResourceTypes;
  readonly #wildcard: boolean;
  readonly #nodeKey: NodeKey;
  readonly #logger: CacheLogger;
  /** Replaced, never mutated, on every change: watches keep references to it (see HeldVersions). */
  #entries: ReadonlyMap<string, EncodedResource> = new Map();
  #hash = TypeHash.empty();
  #view: ResourceView;
  readonly #byName = new Map<string, Set<Watch>>();
  /** Watches by the glob prefixes they subscribe to: an update finds them in O(name length) per name. */
  readonly #byPrefix = new GlobIndex<Watch>();
  readonly #wildcards = new Set<Watch>();
  readonly #indexed = new Map<Watch, Indexed>();

  constructor(typeUrl: TypeUrl, options: LinearCacheOptions = {}) {
    this.types = options.types ?? ResourceTypes.builtIn;
    const type = this.types.get(typeUrl);
    if (type === undefined)
      throw new XdsError(Code.InvalidArgument, `LinearCache: ${typeUrl} is not an xDS resource type`);
    this.typeUrl = typeUrl;
    this.#wildcard = options.wildcard ?? type.wildcard;
    this.#nodeKey = options.nodeKey ?? byNodeId;
    this.#logger = options.logger ?? silentCacheLogger;
    this.#view = { version: this.#hash.toString(), entries: this.#entries, ttl: () => undefined };
    if (options.resources !== undefined) this.apply({ set: options.resources });
  }

  /** The type version: a content hash of every resource (rule S14). */
  get version(): string {
    return this.#view.version;
  }

  /**
   * The resources by name, decoded (opaque ones of a type with a schema are decoded here). Throws an XdsError
   * (FailedPrecondition) for an opaque type without a schema: read {@link entries} instead.
   */
  resources(): ReadonlyMap<string, Message> {
    if (this.#entries.size > 0 && this.types.get(this.typeUrl)?.schema === undefined)
      throw new XdsError(Code.FailedPrecondition, `${this.typeUrl} is an opaque type: read entries()`);
    return new Map([...this.#entries].map(([name, entry]) => [name, entry.message!]));
  }

  /** The encoded resources by name (opaque ones included, never decoded). */
  entries(): ReadonlyMap<string, EncodedResource> {
    return this.#entries;
  }

  /** Counts of resources and watches (by name, wildcard, glob). */
  stats(): LinearCacheStats {
    let globWatches = 0;
    for (const indexed of this.#indexed.values()) if (indexed.prefixes.size > 0) globWatches++;
    return {
      resources: this.#entries.size,
      watches: this.#indexed.size,
      wildcardWatches: this.#wildcards.size,
      globWatches,
      watchedNames: this.#byName.size,
    };
  }

  /** The number of watches that subscribe to `name` explicitly (a glob such as `a/*` counts the glob's own). */
  watchCountOf(name: string): number {
    if (isGlob(name)) {
      let count = 0;
      const prefix = name.slice(0, -1);
      for (const indexed of this.#indexed.values()) if (indexed.prefixes.has(prefix)) count++;
      return count;
    }
    return this.#byName.get(name)?.size ?? 0;
  }

  /** Adds or replaces one resource. */
  update(resource: LinearResource): void {
    this.apply({ set: [resource] });
  }

  /** Removes one resource by name. */
  delete(name: string): void {
    this.apply({ delete: [name] });
  }

  /** Replaces the whole set: adds, changes and removes so that exactly `resources` remain. */
  setResources(resources: Iterable<LinearResource>): void {
    const list = [...resources].map((r, i) => this.#checked(r, i));
    const keep = new Set(list.map((entry) => entry.name));
    this.apply({ set: list, delete: [...this.#entries.keys()].filter((name) => !keep.has(name)) });
  }

  /** Adds or replaces `set` and removes `delete` in one change; watches wake once. */
  apply(change: { readonly set?: Iterable<LinearResource>; readonly delete?: Iterable<string> }): void {
    const changed = new Set<string>();
    const removed: EncodedResource[] = [];
    const added: EncodedResource[] = [];
    const entries = new Map(this.#entries);
    for (const name of change.delete ?? []) {
      const before = entries.get(name);
      if (before === undefined) continue;
      entries.delete(name);
      removed.push(before);
      changed.add(name);
    }
    let position = 0;
    for (const item of change.set ?? []) {
      const entry = this.#checked(item, position++);
      const before = entries.get(entry.name);
      if (before?.version === entry.version) continue;
      if (before !== undefined) removed.push(before);
      entries.set(entry.name, entry);
      added.push(entry);
      changed.add(entry.name);
    }
    if (changed.size === 0) return;
    this.#hash = this.#hash.with(removed, added);
    this.#entries = entries;
    this.#view = { version: this.#hash.toString(), entries, ttl: () => undefined };
    this.#logger.debug(
      { typeUrl: this.typeUrl, changed: changed.size, version: this.#view.version },
      'linear cache changed',
    );
    this.#wake(changed);
  }

  /** {@inheritDoc ConfigWatcher.watchSotw} */
  watchSotw(options: WatchOptions): SotwWatch {
    return this.#add(new SotwWatch(this, this.#keyOf(options), options));
  }

  /** {@inheritDoc ConfigWatcher.watchDelta} */
  watchDelta(options: WatchOptions): DeltaWatch {
    return this.#add(new DeltaWatch(this, this.#keyOf(options), options));
  }

  /** The number of open watches. */
  get watchCount(): number {
    return this.#indexed.size;
  }

  /** @internal WatchSource */
  view(): ResourceView {
    return this.#view;
  }

  /** @internal WatchSource */
  wildcardCapable(): boolean {
    return this.#wildcard;
  }

  /** @internal WatchSource */
  subscriptionChanged(watch: Watch, change?: SubscriptionChange): void {
    const indexed = this.#indexed.get(watch);
    if (indexed === undefined) return;
    if (change === undefined) {
      this.#unindex(watch);
      this.#index(watch);
      return;
    }
    // A delta request: apply what it changed, O(the change) however many names the watch holds (rule L2).
    for (const name of change.added) {
      if (!isGlob(name)) {
        indexed.names.add(name);
        addTo(this.#byName, name, watch);
      } else if (!indexed.prefixes.has(name.slice(0, -1))) {
        indexed.prefixes.add(name.slice(0, -1));
        this.#byPrefix.add(name.slice(0, -1), watch);
      }
    }
    for (const name of change.removed) {
      if (!isGlob(name)) {
        indexed.names.delete(name);
        removeFrom(this.#byName, name, watch);
      } else if (indexed.prefixes.delete(name.slice(0, -1))) {
        this.#byPrefix.delete(name.slice(0, -1), watch);
      }
    }
    if (indexed.wildcard !== watch.wildcard) {
      if (watch.wildcard) this.#wildcards.add(watch);
      else this.#wildcards.delete(watch);
      indexed.wildcard = watch.wildcard;
    }
  }

  /** @internal WatchSource */
  release(watch: Watch): void {
    if (!this.#indexed.has(watch)) return;
    this.#unindex(watch);
    this.#indexed.delete(watch);
  }

  #keyOf(options: WatchOptions): string {
    if (options.typeUrl !== this.typeUrl) {
      throw new XdsError(
        Code.InvalidArgument,
        `LinearCache of ${this.typeUrl} cannot serve ${options.typeUrl}`,
      );
    }
    return this.#nodeKey(options.node as Node);
  }

  #checked(item: LinearResource, position: number): EncodedResource {
    const message = isMessage(item) ? item : undefined;
    if (message !== undefined && this.types.ofMessage(message)?.typeUrl !== this.typeUrl)
      throw new XdsError(Code.InvalidArgument, `LinearCache of ${this.typeUrl}: got ${message.$typeName}`);
    const entry = parseResource(item, position, this.types).entry;
    if (entry.typeUrl !== this.typeUrl)
      throw new XdsError(Code.InvalidArgument, `LinearCache of ${this.typeUrl}: got ${entry.typeUrl}`);
    return entry;
  }

  #add<W extends Watch>(watch: W): W {
    this.#indexed.set(watch, { names: new Set(), prefixes: new Set(), wildcard: false });
    this.#index(watch);
    return watch;
  }

  #index(watch: Watch): void {
    const names = new Set([...watch.subscribed].filter((n) => !isGlob(n)));
    const prefixes = new Set(watch.globPrefixes);
    for (const name of names) addTo(this.#byName, name, watch);
    for (const prefix of prefixes) this.#byPrefix.add(prefix, watch);
    if (watch.wildcard) this.#wildcards.add(watch);
    this.#indexed.set(watch, { names, prefixes, wildcard: watch.wildcard });
  }

  #unindex(watch: Watch): void {
    const indexed = this.#indexed.get(watch);
    if (indexed === undefined) return;
    for (const name of indexed.names) removeFrom(this.#byName, name, watch);
    for (const prefix of indexed.prefixes) this.#byPrefix.delete(prefix, watch);
    if (indexed.wildcard) this.#wildcards.delete(watch);
  }

  #wake(changed: ReadonlySet<string>): void {
    const woken = new Map<Watch, Set<string>>();
    const mark = (watch: Watch, name: string) => {
      let names = woken.get(watch);
      if (names === undefined) {
        names = new Set();
        woken.set(watch, names);
      }
      names.add(name);
    };
    for (const name of changed) {
      for (const watch of this.#byName.get(name) ?? []) mark(watch, name);
      for (const watch of this.#wildcards) mark(watch, name);
      this.#byPrefix.forEachMatch(name, (watch) => mark(watch, name));
    }
    for (const [watch, names] of woken) watch.notify(names);
  }
}

function addTo(index: Map<string, Set<Watch>>, key: string, watch: Watch): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(watch);
}

function removeFrom(index: Map<string, Set<Watch>>, key: string, watch: Watch): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(watch);
  if (set.size === 0) index.delete(key);
}
