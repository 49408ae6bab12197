/**
 * What the client knows about one resource type: the watches on it, their union (the subscription the server is
 * told), the resources held, and the version and nonce of the latest response. It outlives streams: on reconnect the
 * client presents what it holds from here (rules S13, D6), so a server with the same content sends nothing again.
 */
import { resourceType } from '@xds/api';
import type { XdsResource } from './resource.js';
import { ResumeCoverage } from './resume-coverage.js';

/** What a watch is told: the resources it wants that changed, and the names it wants that were removed. */
export interface WatchUpdate {
  /** The type. */
  readonly typeUrl: string;
  /** The response's `version_info` (SotW) or `system_version_info` (delta). */
  readonly version: string;
  /** Resources added or changed (a new version). */
  readonly updated: readonly XdsResource[];
  /** Names removed: in `removed_resources` (delta), or missing from a SotW Listener or Cluster response. */
  readonly removed: readonly string[];
  /** Every resource of the type the watch wants that the client holds now, by name. */
  readonly resources: ReadonlyMap<string, XdsResource>;
}

/** One `watch()`: its names, whether it wants the whole type besides them, and its listener. */
export interface Watcher {
  /** The names watched by name (kept while the watch is also a wildcard one, so that leaving it costs nothing). */
  readonly names: ReadonlySet<string>;
  /** True when the watch wants every resource of the type (`'*'`). */
  readonly wildcard: boolean;
  /** The listener. */
  readonly listener: (update: WatchUpdate) => void;
}

/** The subscription of a type: wildcard and/or explicit names. */
export interface Subscription {
  readonly wildcard: boolean;
  readonly names: ReadonlySet<string>;
}

/** What changed in a type's subscription since the server was last told, to send as a delta request. */
export interface SubscriptionDelta {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** The wildcard now, when it changed; undefined when it did not. */
  readonly wildcard: boolean | undefined;
}

/** A resource as {@link TypeState.project} counts it: its name and version when known, and its encoded size. */
export interface Upsert {
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly size: number;
}

/** The resources that changed in one accepted response. */
export interface Applied {
  readonly updated: readonly XdsResource[];
  readonly removed: readonly string[];
}

/**
 * One type's watches, subscription and held resources. The subscription (the union of the watches) is kept as
 * counts, and what changed since the server was last told as two sets, so that a watch that adds or drops a few
 * names costs O(those names), not O(the subscription) (rule L2).
 */
export class TypeState {
  /** The type URL. */
  readonly typeUrl: string;
  /** True when a SotW response holds the whole set, so that a missing name means removed (Listener, Cluster). */
  readonly fullState: boolean;
  /** The watches. */
  readonly watchers = new Set<Watcher>();
  /** The resources accepted, by name. */
  readonly #held = new Map<string, XdsResource>();
  /** The encoded bytes of #held, summed (rule L2: `limits.maxResourceBytesPerType`). */
  #bytes = 0;
  /**
   * The version of the latest accepted response (`''` before any): what an ACK or a NACK repeats. On a new stream
   * SotW presents {@link resumeVersion} instead.
   */
  version = '';
  /** What the held state is complete for at {@link version} (rule S13). */
  readonly #coverage = new ResumeCoverage();
  /** The nonce of the latest response on the current stream (`''` on a new stream). */
  nonce = '';
  /** How many watches want each name. */
  readonly #counts = new Map<string, number>();
  /** The names some watch wants (the keys of #counts, as a set callers may read). */
  readonly #names = new Set<string>();
  #wildcards = 0;
  /** True once the current stream was told the subscription (its first request of the type). */
  #told = false;
  #toldWildcard = false;
  readonly #added = new Set<string>();
  readonly #removed = new Set<string>();
  /**
   * Names dropped and asked again before the stream was told the drop (its requests were waiting for room, rule
   * L2): the server still counts them subscribed, but their resources were forgotten when they were dropped, so
   * they are withdrawn and asked anew for the server to send them again (rules S7, D3). See {@link takeBounced}.
   */
  readonly #bounced = new Set<string>();
  /** The wildcard was left since the stream was told it (and #wildcardForgot: what it alone held was forgotten). */
  #leftWildcard = false;
  #wildcardForgot = false;
  /** The wildcard was left, its resources forgotten, and taken again before the stream was told. */
  #bouncedWildcard = false;
  /**
   * The held names no watch names (held under a wildcard only): what leaving the wildcard forgets, found in
   * O(those names), not by a walk of every held resource.
   */
  readonly #unnamed = new Set<string>();

  constructor(typeUrl: string) {
    this.typeUrl = typeUrl;
    this.fullState = resourceType(typeUrl)?.allRequiredInSotW ?? false;
  }

  /** The union of the watches: wildcard when any watch is, plus every name watched (a live view, not a copy). */
  subscription(): Subscription {
    return { wildcard: this.#wildcards > 0, names: this.#names };
  }

  /** The resources accepted, by name (read-only: they change through {@link apply} and the forget methods). */
  get held(): ReadonlyMap<string, XdsResource> {
    return this.#held;
  }

  /** The encoded bytes of the held resources, summed. */
  get heldBytes(): number {
    return this.#bytes;
  }

  /** True once the current stream was told the subscription. */
  get told(): boolean {
    return this.#told;
  }

  /** The current stream was told the whole subscription (its first request of the type, or a SotW request). */
  markTold(): void {
    this.#told = true;
    this.#toldWildcard = this.#wildcards > 0;
    this.#added.clear();
    this.#removed.clear();
    this.#leftWildcard = false;
    this.#wildcardForgot = false;
  }

  /** A new stream: nothing is told yet. */
  resetTold(): void {
    this.#told = false;
    this.#coverage.reset();
    this.#added.clear();
    this.#removed.clear();
    this.#bounced.clear();
    this.#leftWildcard = false;
    this.#wildcardForgot = false;
    this.#bouncedWildcard = false;
  }

  /**
   * What was dropped and asked again before the stream was told (names, and the wildcard), or undefined when
   * nothing was. Taking them means the request that withdraws them is written next: the subscription the stream
   * knows is then the one it was told without them, so the next request asks them anew (delta: in
   * `resource_names_subscribe`; SotW: a changed whole).
   */
  takeBounced(): { readonly names: ReadonlySet<string>; readonly wildcard: boolean } | undefined {
    if (this.#bounced.size === 0 && !this.#bouncedWildcard) return undefined;
    const names = new Set(this.#bounced);
    const wildcard = this.#bouncedWildcard;
    this.#bounced.clear();
    this.#bouncedWildcard = false;
    for (const name of names) this.#added.add(name);
    if (wildcard) this.#toldWildcard = false;
    return { names, wildcard };
  }

  /**
   * The `version_info` a SotW stream's first request presents (rule S13), and that request tells the subscription:
   * {@link version} when the held state is complete at it for the subscription asked now, else `''` (after a NACK
   * that applied part of a response, or when the subscription gained a name or the wildcard since the version was
   * accepted; see `resume-coverage.ts`). O(names), as the request itself is.
   */
  resumeVersion(): string {
    const sub = this.subscription();
    const version = this.version !== '' && this.#coverage.covers(sub, this.#held) ? this.version : '';
    this.#coverage.told(sub);
    return version;
  }

  /** A response was accepted at `version`: the held state is complete at it for what the stream answers. */
  accepted(version: string): void {
    this.version = version;
    this.#coverage.accepted();
  }

  /**
   * A response was NACKed; `applied`: part of it was applied all the same. `changesOnly`: a server sends the type
   * only what changed (delta, and SotW types but Listener and Cluster), and counts the rejected resources as sent.
   */
  rejected(applied: boolean, changesOnly: boolean): void {
    this.#coverage.rejected(applied, changesOnly);
  }

  /** True when the subscription differs from what the current stream was told. */
  get changed(): boolean {
    return this.#added.size > 0 || this.#removed.size > 0 || this.#toldWildcard !== this.#wildcards > 0;
  }

  /** What changed since the stream was told, and marks it told: O(the change). */
  takeDelta(): SubscriptionDelta {
    const wildcard = this.#wildcards > 0;
    const delta = {
      added: [...this.#added],
      removed: [...this.#removed],
      wildcard: wildcard === this.#toldWildcard ? undefined : wildcard,
    };
    this.markTold();
    return delta;
  }

  /** Counts names in (`+1`) or out (`-1`) of the subscription: O(names). */
  count(names: Iterable<string>, delta: 1 | -1): void {
    for (const name of names) this.#countName(name, delta);
  }

  /** Counts a wildcard watch in (`+1`) or out (`-1`) of the subscription: O(1). */
  countWildcard(delta: 1 | -1): void {
    const before = this.#wildcards > 0;
    this.#wildcards += delta;
    const after = this.#wildcards > 0;
    if (before && !after) this.#coverage.leftWildcard();
    if (!this.#told || !this.#toldWildcard || before === after) return;
    if (!after) {
      this.#leftWildcard = true;
      this.#bouncedWildcard = false;
    } else if (this.#leftWildcard && this.#wildcardForgot) this.#bouncedWildcard = true;
  }

  #countName(name: string, delta: 1 | -1): void {
    const next = (this.#counts.get(name) ?? 0) + delta;
    if (next > 0) {
      this.#counts.set(name, next);
      if (delta === 1 && next === 1) {
        this.#names.add(name);
        this.#unnamed.delete(name);
        // Dropped and asked again before the stream was told: if its resource was forgotten meanwhile, the server
        // (which still counts it subscribed) must be made to send it again.
        if (!this.#removed.delete(name)) this.#added.add(name);
        else if (this.#told && !this.#held.has(name)) this.#bounced.add(name);
      }
      return;
    }
    if (!this.#counts.delete(name)) return;
    this.#names.delete(name);
    this.#coverage.dropped(name);
    this.#bounced.delete(name);
    if (this.#held.has(name)) this.#unnamed.add(name);
    if (!this.#added.delete(name)) this.#removed.add(name);
  }

  /** True when some watch wants the name: O(1). */
  wants(name: string): boolean {
    return this.#wildcards > 0 || this.#counts.has(name);
  }

  /**
   * Drops the held resources no watch wants any more (after a watch is cancelled or leaves its wildcard) and returns
   * their names: O(those names), however many resources the type holds.
   */
  forgetUnwanted(): string[] {
    if (this.#wildcards > 0) return [];
    const gone = [...this.#unnamed];
    for (const name of gone) this.#drop(name);
    if (gone.length > 0 && this.#leftWildcard) this.#wildcardForgot = true;
    return gone;
  }

  /** Drops the held resources among `names` no watch wants any more and returns their names: O(names). */
  forgetUnwantedOf(names: Iterable<string>): string[] {
    if (this.#wildcards > 0) return [];
    const gone: string[] = [];
    for (const name of names) if (!this.wants(name) && this.#drop(name)) gone.push(name);
    return gone;
  }

  /** Drops one held resource; true when one was held. */
  #drop(name: string): boolean {
    const resource = this.#held.get(name);
    if (resource === undefined) return false;
    this.#held.delete(name);
    this.#unnamed.delete(name);
    this.#bytes -= resource.bytes.length;
    return true;
  }

  /**
   * How many resources, and how many bytes of them, the type would hold after {@link apply} of `upserts` and
   * `removed`, without applying anything: O(upserts + removed). An upsert without a name counts as a new resource.
   */
  project(upserts: Iterable<Upsert>, removed: Iterable<string>): { count: number; bytes: number } {
    let count = this.#held.size;
    let bytes = this.#bytes;
    const gone = new Set<string>();
    for (const name of removed) {
      const resource = this.#held.get(name);
      if (resource === undefined || gone.has(name)) continue;
      gone.add(name);
      count--;
      bytes -= resource.bytes.length;
    }
    for (const { name, version, size } of upserts) {
      if (name !== undefined && !this.wants(name)) continue;
      const old = name === undefined || gone.has(name) ? undefined : this.#held.get(name);
      if (old !== undefined && old.version === version) continue;
      if (old === undefined) count++;
      bytes += size - (old?.bytes.length ?? 0);
    }
    return { count, bytes };
  }

  /**
   * Applies an accepted response: stores `upserts` (those whose version is new), drops `removed`. Returns what
   * changed; resources already held at the same version are not reported again.
   */
  apply(upserts: readonly XdsResource[], removed: readonly string[]): Applied {
    const updated: XdsResource[] = [];
    const gone: string[] = [];
    for (const name of removed) if (this.#drop(name)) gone.push(name);
    for (const resource of upserts) {
      if (!this.wants(resource.name)) continue;
      const old = this.#held.get(resource.name);
      if (old?.version === resource.version) continue;
      this.#held.set(resource.name, resource);
      if (old === undefined && !this.#counts.has(resource.name)) this.#unnamed.add(resource.name);
      this.#bytes += resource.bytes.length - (old?.bytes.length ?? 0);
      updated.push(resource);
    }
    return { updated, removed: gone };
  }

  /**
   * The update of one watch: the part of `applied` it wants, or undefined when it wants none of it. `resources` is
   * computed when read (a relay never reads it).
   */
  updateFor(watcher: Watcher, version: string, applied: Applied): WatchUpdate | undefined {
    const wanted = (name: string) => watcher.wildcard || watcher.names.has(name);
    const updated = applied.updated.filter((r) => wanted(r.name));
    const removed = applied.removed.filter(wanted);
    if (updated.length === 0 && removed.length === 0) return undefined;
    let resources: ReadonlyMap<string, XdsResource> | undefined;
    const view = () => {
      resources ??= this.viewOf(watcher);
      return resources;
    };
    return {
      typeUrl: this.typeUrl,
      version,
      updated,
      removed,
      get resources() {
        return view();
      },
    };
  }

  /** The held resources a watch wants. */
  viewOf(watcher: Watcher): ReadonlyMap<string, XdsResource> {
    if (watcher.wildcard) return new Map(this.#held);
    const out = new Map<string, XdsResource>();
    for (const name of watcher.names) {
      const resource = this.#held.get(name);
      if (resource !== undefined) out.set(name, resource);
    }
    return out;
  }
}
