import type { Node, TypeUrl } from '@xds/api';
import { ResourceTypes } from '@xds/api';
import type { EncodedResource } from './encoded-resource.js';
import { GlobPrefixes } from './glob-index.js';
import type { HeldVersions } from './held-versions.js';
import { internNames, noNames } from './name-set.js';
import { forEachNameWithPrefix } from './names-by-prefix.js';

/** What a watch reads from its cache: one type's resources for one node. */
export interface ResourceView {
  /** The SotW `version_info` of the type. */
  readonly version: string;
  /** The resources by name. */
  readonly entries: ReadonlyMap<string, EncodedResource>;
  /** The TTL in milliseconds of a resource that has one (rule R4). */
  ttl(name: string): number | undefined;
}

/** The side of a cache that watches talk to. Implemented by every cache; a custom cache implements it too. */
export interface WatchSource {
  /** The current resources of a type for a node key, or undefined when the cache has none yet. */
  view(key: string, typeUrl: TypeUrl): ResourceView | undefined;
  /** True when clients may subscribe to the type by wildcard (rule S9). */
  wildcardCapable(typeUrl: TypeUrl): boolean;
  /** How an ADS SotW watch treats a request for a subset of the names a snapshot has. */
  readonly completeness: Completeness;
  /**
   * Called after a watch's subscription changed (a cache that indexes watches by name re-indexes it). A delta
   * watch says what changed (`change`): applying it costs O(the change), where re-reading `watch.subscribed`
   * costs O(the subscription) per request (rule L2). Without `change` (SotW), the whole subscription may differ.
   * Wildcard changes are not in `change`: read `watch.wildcard`.
   */
  subscriptionChanged(watch: Watch, change?: SubscriptionChange): void;
  /** Called once when a watch is cancelled. */
  release(watch: Watch): void;
  /** The resource types the cache knows (what a type needs in SotW, rule S8); default the built-in ones. */
  readonly types?: ResourceTypes;
  /** Called for every request a watch is given, ACKs included (a cache that keeps status notes the time). */
  requested?(watch: Watch): void;
  /** Called when the server says a request answered the watch's latest response: ACK or NACK (rule S5). */
  answered?(watch: Watch, accepted: boolean): void;
}

/** What one delta request changed in a watch's explicit subscription: apply `added`, then `removed`. */
export interface SubscriptionChange {
  /** Names and globs (`foo/*`) newly subscribed. */
  readonly added: readonly string[];
  /** Names and globs (`foo/*`) no longer subscribed. */
  readonly removed: readonly string[];
}

/**
 * What an ADS SotW watch does when the client asks for a subset of the snapshot's names of a type:
 * - `subset` (default): send the names asked for;
 * - `hold`: send nothing until every name of the snapshot is asked for (go-control-plane's behaviour);
 * - `empty`: like subset, and answer ClusterLoadAssignment names missing from the snapshot with empty assignments.
 */
export type Completeness = 'subset' | 'hold' | 'empty';

/** What the server gives a cache to open a watch for one stream and type. */
export interface WatchOptions {
  /** The node of the stream (rule S2). */
  readonly node: Node;
  /** The type watched. */
  readonly typeUrl: TypeUrl;
  /** True on an aggregated (ADS) stream. */
  readonly ads: boolean;
  /**
   * Called with the watch when it may have a response ready; the server then calls `take()` when it can write (at
   * once, or when the stream drains). Called at most once between two `take()` calls (rule S12). The watch is
   * passed so that a stream can give all its watches one function (memory per idle client, bench scenario 4).
   */
  readonly onReady: (watch: Watch) => void;
  /** Whether an empty name list may mean wildcard (rule S9); default true. gRPC clients never mean it. */
  readonly legacyWildcard?: boolean;
  /** True when the client advertises `xds.config.supports-resource-ttl` (rule R4). */
  readonly supportsTtl?: boolean;
}

/** A subscription name that ends in `/*` matches every name with that prefix (`foo/*` matches `foo/a`). */
export function isGlob(name: string): boolean {
  return name.length > 1 && name.endsWith('/*');
}

/**
 * What SotW and delta watches share: identity, scheduling, globs and cancellation. The protocol logic lives in
 * {@link SotwWatch} and {@link DeltaWatch}.
 */
export abstract class Watch {
  /** The node key the cache keeps this watch under. */
  readonly key: string;
  /** The node of the stream. */
  readonly node: Node;
  /** The type watched. */
  readonly typeUrl: TypeUrl;
  /** True on an aggregated (ADS) stream. */
  readonly ads: boolean;
  /** True when the client supports TTLs (rule R4). */
  readonly supportsTtl: boolean;
  protected readonly source: WatchSource;
  protected readonly wildcardCapable: boolean;
  /**
   * Names subscribed explicitly (without `*`). Either interned (shared, never mutated; set by {@link setNames}) or
   * owned by this watch and changed in place by {@link addName} and {@link deleteName}: a delta change of one name
   * costs O(1), not a copy of the whole subscription (rule L2).
   */
  protected names: ReadonlySet<string> = noNames;
  /** True when {@link names} is this watch's own set (not interned, not shared): it may be changed in place. */
  #ownsNames = false;
  /**
   * Glob prefixes subscribed (`foo/` for `foo/*`), indexed: matching a name costs O(name length). Holds no set or
   * index until a glob is subscribed (most streams never do).
   */
  protected readonly prefixes = new GlobPrefixes();
  protected wildcardOn = false;
  /**
   * Names that may have changed since the last take(). Either a set the cache shared with every watch of one change
   * (see {@link notify}'s `shared`; {@link pendingShared} then says so, and it is never changed), or this watch's own.
   */
  protected pending: ReadonlySet<string> = noNames;
  /** True while {@link pending} is one change the cache gave every watch of a snapshot, as it gave it. */
  protected pendingShared = false;
  /** True when {@link pending} is this watch's own set (it may be added to in place). */
  #ownsPending = false;
  /** When true, every name must be looked at. */
  protected pendingAll = true;
  /**
   * Names that must go out in the next response even if the client may have them. The shared empty set until a
   * name is added with {@link addMustSend}: an idle stream's watches hold no set of their own (bench scenario 4).
   */
  protected mustSend: ReadonlySet<string> = noNames;
  /** True until the first response of this type on this stream. */
  protected unanswered = true;
  /** True when a TTL heartbeat is due (rule R4). */
  protected heartbeatDue = false;
  #onReady: (watch: Watch) => void;
  #scheduled = false;
  #cancelled = false;
  #sentVersion: string | undefined;
  #ackedVersion: string | undefined;

  constructor(source: WatchSource, key: string, options: WatchOptions) {
    this.source = source;
    this.key = key;
    this.node = options.node;
    const type = (source.types ?? ResourceTypes.builtIn).get(options.typeUrl);
    // The registered type's string, not the request's copy of it: one string per type, not per stream and type.
    this.typeUrl = (type?.typeUrl as TypeUrl | undefined) ?? options.typeUrl;
    this.ads = options.ads;
    this.supportsTtl = options.supportsTtl ?? false;
    this.wildcardCapable = source.wildcardCapable(options.typeUrl);
    this.fullState = type?.allRequiredInSotW ?? false;
    this.#onReady = options.onReady;
  }

  /** True when the type must be sent whole in SotW (Listener, Cluster; rule S8). */
  protected readonly fullState: boolean;

  /** True once cancelled. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** True when the stream subscribes to the whole type (rule S9, D7). */
  get wildcard(): boolean {
    return this.wildcardOn;
  }

  /**
   * The names subscribed explicitly, globs (`foo/*`) included, `*` excluded. A live view of a delta subscription,
   * which changes in place: copy it to keep it.
   */
  get subscribed(): ReadonlySet<string> {
    if (this.prefixes.size === 0) return this.names;
    return new Set([...this.names, ...[...this.prefixes].map((p) => `${p}*`)]);
  }

  /** How many explicit names and globs the stream subscribes to (the server holds them to its limits). */
  get subscriptionSize(): { readonly names: number; readonly globs: number } {
    return { names: this.names.size, globs: this.prefixes.size };
  }

  /** True when `name`, a plain name or a glob (`foo/*`), is part of the explicit subscription. */
  subscribes(name: string): boolean {
    return isGlob(name) ? this.prefixes.has(name.slice(0, -1)) : this.names.has(name);
  }

  /** True when the stream wants the named resource (O(name length), however many globs it holds). */
  wants(name: string): boolean {
    return this.wildcardOn || this.names.has(name) || this.prefixes.matches(name);
  }

  /** The cache's current resource of the watched type for this node, by name (for status pages and CSDS). */
  lookup(name: string): EncodedResource | undefined {
    return this.source.view(this.key, this.typeUrl)?.entries.get(name);
  }

  /** The glob prefixes subscribed (`foo/` for `foo/*`). */
  get globPrefixes(): ReadonlySet<string> {
    return this.prefixes.set;
  }

  /**
   * Tells the watch that names of its type changed in its cache (`all`: anything may have). With `shared`, the
   * cache gives this very set to every watch of the change and never changes it afterwards: the watch keeps it
   * without a copy, and watches that held the same resources may share the response they compute from it (one
   * list and one encoded body for thousands of streams of a snapshot).
   */
  notify(changed: ReadonlySet<string> | 'all', shared = false): void {
    if (this.#cancelled) return;
    if (changed === 'all' || changed.size > 256) this.pendingAll = true;
    else if (!this.pendingAll && changed.size > 0) {
      if (shared && this.pending.size === 0) {
        this.pending = changed;
        this.pendingShared = true;
        this.#ownsPending = false;
      } else {
        if (!this.#ownsPending) {
          this.pending = new Set(this.pending);
          this.pendingShared = false;
          this.#ownsPending = true;
        }
        for (const name of changed) (this.pending as Set<string>).add(name);
      }
    }
    this.schedule();
  }

  /** Forgets what changed (a take() looked at it): nothing is pending. */
  protected clearPending(): void {
    this.pending = noNames;
    this.pendingShared = false;
    this.#ownsPending = false;
    this.pendingAll = false;
  }

  /**
   * Asks for a heartbeat of the resources with a TTL the client holds (rule R4). Ignored for clients that do not
   * support TTLs; the next take() answers it unless a real response goes out.
   */
  heartbeat(): void {
    if (!this.supportsTtl || this.#cancelled) return;
    this.heartbeatDue = true;
    this.schedule();
  }

  /**
   * The resources to refresh by a heartbeat: every held resource whose TTL is set and whose version is the
   * current one, or undefined when there is none.
   */
  protected heartbeatOf(view: ResourceView, held: HeldVersions): EncodedResource[] | undefined {
    this.heartbeatDue = false;
    const out: EncodedResource[] = [];
    for (const [name, version] of held.entries()) {
      const entry = view.entries.get(name);
      if (entry !== undefined && entry.version === version && view.ttl(name) !== undefined) out.push(entry);
    }
    return out.length > 0 ? out : undefined;
  }

  /** The version of the last response taken (SotW `version_info`, delta `system_version_info`). */
  get sentVersion(): string | undefined {
    return this.#sentVersion;
  }

  /** The version of the last response the client ACKed (as the server reported it with {@link answered}). */
  get ackedVersion(): string | undefined {
    return this.#ackedVersion;
  }

  /**
   * The server tells the watch that a request answered its latest response (rule S5): `accepted` for an ACK,
   * false for a NACK. An ACK makes the last response's version the client's ({@link ackedVersion}); a cache may
   * act on it (SnapshotCache's `lastAcked`).
   */
  answered(accepted: boolean): void {
    if (this.#cancelled) return;
    if (accepted && this.#sentVersion !== undefined) this.#ackedVersion = this.#sentVersion;
    this.source.answered?.(this, accepted);
  }

  /** Records the version of a response taken (called by the subclasses' take()). */
  protected taken(version: string): void {
    this.#sentVersion = version;
  }

  /** Tells the cache a request came (called by the subclasses' request()). */
  protected requested(): void {
    this.source.requested?.(this);
  }

  /** Stops the watch: it never calls back again, and the cache forgets it (O(1)). */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.source.release(this);
  }

  /** Asks the server to call take() (once until it does). */
  protected schedule(): void {
    if (this.#scheduled || this.#cancelled) return;
    this.#scheduled = true;
    this.#onReady(this);
  }

  /** Marks the start of a take(): the next change schedules again. */
  protected beginTake(): ResourceView | undefined {
    this.#scheduled = false;
    if (this.#cancelled) return undefined;
    return this.source.view(this.key, this.typeUrl);
  }

  /** Adds a name to {@link mustSend}, which becomes this watch's own set on the first name. */
  protected addMustSend(name: string): void {
    if (this.mustSend === noNames) this.mustSend = new Set();
    (this.mustSend as Set<string>).add(name);
  }

  /** Removes a name from {@link mustSend}. */
  protected deleteMustSend(name: string): void {
    if (this.mustSend !== noNames) (this.mustSend as Set<string>).delete(name);
  }

  /** Empties {@link mustSend} (a take() sent what it held). */
  protected clearMustSend(): void {
    this.mustSend = noNames;
  }

  /** Replaces the explicit names by a new set (shared with other streams that subscribe to the same names). */
  protected setNames(next: ReadonlySet<string>): void {
    this.names = internNames(next);
    this.#ownsNames = false;
  }

  /**
   * Names copied by copy-on-write since the process started, over every watch: a count of work for tests and
   * benchmarks. A watch copies its subscription at most once (the first change after it was shared).
   */
  static namesCopied = 0;

  /** The explicit names as this watch's own mutable set, copied once if they are shared (copy-on-write). */
  #ownNames(): Set<string> {
    if (!this.#ownsNames) {
      Watch.namesCopied += this.names.size;
      this.names = new Set(this.names);
      this.#ownsNames = true;
    }
    return this.names as Set<string>;
  }

  /** Adds an explicit name in place (O(1) once the watch owns its set); false when it was there. */
  protected addName(name: string): boolean {
    if (this.names.has(name)) return false;
    this.#ownNames().add(name);
    return true;
  }

  /** Removes an explicit name in place (O(1) once the watch owns its set); false when it was not there. */
  protected deleteName(name: string): boolean {
    if (!this.names.has(name)) return false;
    return this.#ownNames().delete(name);
  }

  /** The names a full look should cover: every wanted name in the view plus every explicit name. */
  protected wantedNames(view: ResourceView): Set<string> {
    const out = new Set(this.names);
    if (this.wildcardOn) for (const name of view.entries.keys()) out.add(name);
    else if (this.prefixes.size > 0)
      for (const name of view.entries.keys()) if (this.wants(name)) out.add(name);
    return out;
  }

  /** The TTLs of the resources that have one, for a client that supports TTLs (rule R4). */
  protected ttlsOf(
    view: ResourceView,
    resources: readonly EncodedResource[],
  ): ReadonlyMap<string, number> | undefined {
    if (!this.supportsTtl) return undefined;
    const ttls = new Map<string, number>();
    for (const entry of resources) {
      const ttl = view.ttl(entry.name);
      if (ttl !== undefined) ttls.set(entry.name, ttl);
    }
    return ttls.size > 0 ? ttls : undefined;
  }

  /**
   * Replaces must-send globs by the matching names of the view: a binary search per glob in the view's sorted
   * names (sorted once per view), not a walk of the view per request (rule L2).
   */
  protected expandGlobs(names: ReadonlySet<string>, view: ResourceView): ReadonlySet<string> {
    const globs: string[] = [];
    const out = new Set<string>();
    for (const name of names) {
      if (isGlob(name)) globs.push(name.slice(0, -1));
      else out.add(name);
    }
    if (globs.length === 0) return names;
    const add = (name: string) => out.add(name);
    for (const prefix of globs) forEachNameWithPrefix(view.entries, view.version, prefix, add);
    return out;
  }
}
