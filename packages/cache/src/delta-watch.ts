import type { TypeUrl } from '@xds/api';
import type { EncodedResource } from './encoded-resource.js';
import { HeldVersions } from './held-versions.js';
import { isGlob, Watch } from './watch.js';
import type { ResourceView, WatchOptions, WatchSource } from './watch-source.js';

/** An incremental response a delta watch hands to the server. */
export interface DeltaResponse {
  /** The type. */
  readonly typeUrl: TypeUrl;
  /** `system_version_info`: informative only (rule D4). */
  readonly systemVersion: string;
  /** Resources to add or update, each with its own version (rule D4). */
  readonly resources: readonly EncodedResource[];
  /** Names the client must drop (rules D3, D5). */
  readonly removed: readonly string[];
  /** TTLs in milliseconds of the resources that have one, for clients that support TTLs (rule R4). */
  readonly ttls: ReadonlyMap<string, number> | undefined;
  /** Names in `resources` sent as TTL heartbeats (a `Resource` without body; rule R4). */
  readonly heartbeats?: ReadonlySet<string>;
}

/** What a delta request says about the subscription. */
export interface DeltaRequestInfo {
  /** `resource_names_subscribe`. */
  readonly subscribe: readonly string[];
  /** `resource_names_unsubscribe`. */
  readonly unsubscribe: readonly string[];
  /** `initial_resource_versions` (first request of the type on the stream only). */
  readonly initialVersions?: Readonly<Record<string, string>>;
  /** True for the first request of the type on the stream. */
  readonly initial: boolean;
}

/**
 * One delta stream's watch of one type: subscribe / unsubscribe state and the versions the client holds (rules
 * D2–D7). The server calls `request()` for every request, stale nonce or not (rule D2), and `take()` when it can
 * write.
 */
export class DeltaWatch extends Watch {
  readonly #legacyWildcard: boolean;
  /** Name -> version the client holds (from `initial_resource_versions` and what was sent). */
  readonly #known = new HeldVersions();

  constructor(source: WatchSource, key: string, options: WatchOptions) {
    super(source, key, options);
    this.#legacyWildcard = options.legacyWildcard ?? true;
  }

  /** Name -> version of what the client holds, as far as the server knows. */
  get known(): HeldVersions {
    return this.#known;
  }

  /** Applies a request's subscription changes (rules D2, D3, D6, D7). */
  request(info: DeltaRequestInfo): void {
    this.requested();
    let changed = false;
    if (info.initial) {
      this.unanswered = true;
      this.pendingAll = true;
      changed = true;
      if (info.subscribe.length === 0 && info.unsubscribe.length === 0) {
        this.wildcardOn = this.wildcardCapable && this.#legacyWildcard;
      }
      for (const [name, version] of Object.entries(info.initialVersions ?? {}))
        this.#known.set(name, version);
    }
    // The first request of a type states a whole subscription: it is built apart and interned (streams that
    // subscribe to the same names share one set). Later requests change the watch's own set in place, copied at
    // most once if it was shared: a change of one name costs O(1), whatever the subscription's size (rule L2).
    const fresh = this.names.size === 0 && info.subscribe.length >= 4 ? new Set<string>() : undefined;
    const add = (name: string): boolean => {
      if (fresh === undefined) return this.addName(name);
      if (fresh.has(name)) return false;
      fresh.add(name);
      return true;
    };
    const remove = (name: string) => (fresh === undefined ? this.deleteName(name) : fresh.delete(name));
    // What changed, for a cache that indexes watches by name: it applies the change, not the whole subscription.
    const added: string[] = [];
    const removedNames: string[] = [];
    for (const name of info.subscribe) {
      if (name === '*') {
        if (this.wildcardCapable && !this.wildcardOn) {
          this.wildcardOn = true;
          this.pendingAll = true;
          changed = true;
        }
        continue;
      }
      if (isGlob(name) ? this.#addPrefix(name.slice(0, -1)) : add(name)) added.push(name);
      changed = true;
      // Rule D6: on a new stream, the versions the client presents are what it has.
      if (info.initial && Object.hasOwn(info.initialVersions ?? {}, name)) continue;
      // Rule D3: a subscribed name is sent (or reported removed) even if the client may have it.
      this.#known.delete(name);
      this.addMustSend(name);
    }
    for (const name of info.unsubscribe) {
      if (name === '*') {
        if (this.wildcardOn) {
          this.wildcardOn = false;
          this.pendingAll = true;
          changed = true;
        }
        continue;
      }
      const removed = isGlob(name) ? this.prefixes.delete(name.slice(0, -1)) : remove(name);
      if (!removed) continue;
      removedNames.push(name);
      changed = true;
      this.deleteMustSend(name);
      // Rule D7: under wildcard the client cannot tell whether it still has the name: tell it either way.
      if (this.wildcardOn) {
        this.#known.delete(name);
        this.addMustSend(name);
      }
    }
    if (fresh !== undefined && fresh.size > 0) this.setNames(fresh);
    if (!changed) return;
    this.source.subscriptionChanged(this, { added, removed: removedNames });
    this.schedule();
  }

  /** Adds a glob prefix; false when it was there. */
  #addPrefix(prefix: string): boolean {
    if (this.prefixes.has(prefix)) return false;
    this.prefixes.add(prefix);
    return true;
  }

  /** The response to send now, or undefined when there is nothing to send (rules D3, D5, D6). */
  take(): DeltaResponse | undefined {
    const view = this.beginTake();
    if (view === undefined) return undefined;
    const must = this.expandGlobs(this.mustSend, view);
    const names = this.pendingAll ? this.#everyName(view) : new Set(this.pending);
    for (const name of must) names.add(name);
    const resources: EncodedResource[] = [];
    const removed: string[] = [];
    for (const name of names) {
      if (!this.wants(name)) {
        this.#known.delete(name);
        continue;
      }
      const entry = view.entries.get(name);
      if (entry !== undefined) {
        if (must.has(name) || this.#known.get(name) !== entry.version) {
          resources.push(entry);
          this.#known.set(name, entry.version);
        }
      } else if (this.#known.delete(name) || this.mustSend.has(name)) {
        removed.push(name);
      }
    }
    this.clearPending();
    this.clearMustSend();
    this.#known.compact(view.entries);
    if (resources.length === 0 && removed.length === 0 && !this.unanswered) {
      if (!this.heartbeatDue) return undefined;
      const due = this.heartbeatOf(view, this.#known);
      if (due === undefined) return undefined;
      this.taken(view.version);
      return {
        typeUrl: this.typeUrl,
        systemVersion: view.version,
        resources: due,
        removed: [],
        ttls: this.ttlsOf(view, due),
        heartbeats: new Set(due.map((e) => e.name)),
      };
    }
    this.heartbeatDue = false;
    this.unanswered = false;
    this.taken(view.version);
    return {
      typeUrl: this.typeUrl,
      systemVersion: view.version,
      resources,
      removed,
      ttls: this.ttlsOf(view, resources),
    };
  }

  #everyName(view: ResourceView): Set<string> {
    const names = this.wantedNames(view);
    for (const name of this.#known.keys()) names.add(name);
    return names;
  }
}
