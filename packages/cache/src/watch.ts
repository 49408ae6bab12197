// What SotW and delta watches share (watch.ts): a watch is one stream's interest in one type of one node, the
// unit a cache notifies and the server drives. This holds identity, scheduling (one callback until the server
// takes a response: rule S12), the subscription's names and globs (rule S9) with copy-on-write, pending changes,
// TTL heartbeats (rule R4) and cancellation; the protocol decisions live in sotw-watch.ts and delta-watch.ts, and
// the boundary with the cache in watch-source.ts.
import { type Node, ResourceTypes, type TypeUrl } from '@xds/api';
import type { EncodedResource } from './encoded-resource.js';
import { GlobPrefixes } from './glob-index.js';
import type { HeldVersions } from './held-versions.js';
import { internNames, noNames } from './name-set.js';
import { forEachNameWithPrefix } from './names-by-prefix.js';
import type { ResourceView, WatchOptions, WatchSource } from './watch-source.js';

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
