import { Code, type Node, ResourceTypes, type TypeUrl, XdsError } from '@xds/api';
import { EventEmitter } from 'eventemitter3';
import { type CacheLogger, silentCacheLogger } from './cache-logger.js';
import { byNodeId, type ConfigWatcher, type NodeKey } from './config-watcher.js';
import { DeltaWatch } from './delta-watch.js';
import { Snapshot, type SnapshotDraft, type SnapshotOptions } from './snapshot.js';
import { SotwWatch } from './sotw-watch.js';
import type { Watch } from './watch.js';
import type { Completeness, ResourceView, WatchOptions, WatchSource } from './watch-source.js';

/** Options of {@link SnapshotCache}. */
export interface SnapshotCacheOptions {
  /**
   * True (default) when the completeness rule applies to ADS streams; false treats every stream as a per-type
   * stream, which always gets the subset it asks for.
   */
  readonly ads?: boolean;
  /** Maps a node to its snapshot key; default `node.id`. */
  readonly nodeKey?: NodeKey;
  /** What an ADS watch does when a client asks for a subset of a type's names; default `subset`. */
  readonly completeness?: Completeness;
  /** Types besides Listener and Cluster that clients may subscribe to by wildcard. */
  readonly wildcardTypes?: readonly TypeUrl[];
  /**
   * The resource types the cache serves: the built-in ones by default, or a set with registered types
   * (`ResourceTypes.builtIn.with(...)`), which then push in their order (rule S11) and are wildcard-capable as
   * they say (rule S9). Snapshots set on the cache should be built with the same set.
   */
  readonly types?: ResourceTypes;
  /**
   * Drop the snapshot of a node key that has had no open watch for this long (milliseconds). Off by default.
   * Sweeps run on an unref'ed timer; {@link SnapshotCache.close} stops it.
   */
  readonly idleTimeoutMs?: number;
  /**
   * Every this many milliseconds, watches of clients that support TTLs re-send the TTL'd resources they hold as
   * heartbeats (rule R4). Off by default; {@link SnapshotCache.close} stops it.
   */
  readonly heartbeatMs?: number;
  /** Where the cache says what it does (debug: snapshots set and cleared, keys dropped); default silent. */
  readonly logger?: CacheLogger;
}

/** The state of one node key, for status pages (go-control-plane's StatusInfo). */
export interface NodeStatus {
  /** The node key. */
  readonly key: string;
  /** The node of the latest request of any watch of the key (the last node seen), if any. */
  readonly node: Node | undefined;
  /** The snapshot's version of each type that has resources, when there is a snapshot. */
  readonly versions: Partial<Record<TypeUrl, string>> | undefined;
  /** The number of open watches, SotW and delta. */
  readonly watches: number;
  /** The number of open SotW watches. */
  readonly sotwWatches: number;
  /** The number of open delta watches. */
  readonly deltaWatches: number;
  /** When the last request of any watch of the key arrived, ACKs included (ms since the epoch). */
  readonly lastRequestAt: number | undefined;
  /** When the snapshot was last set (ms since the epoch). */
  readonly snapshotSetAt: number | undefined;
  /** True when every open watch of the key has ACKed the current snapshot's version of its type. */
  readonly ackedInFull: boolean;
}

/** Events of {@link SnapshotCache}. */
export interface SnapshotCacheEvents {
  /** A snapshot was set for a key. */
  snapshot: [{ readonly key: string; readonly snapshot: Snapshot; readonly previous: Snapshot | undefined }];
  /** A key's snapshot was cleared (`idle`: dropped after `idleTimeoutMs` without watches). */
  clear: [{ readonly key: string; readonly reason: 'cleared' | 'idle' }];
  /** Every open watch of a key ACKed its snapshot: it is now what {@link SnapshotCache.lastAcked} returns. */
  acked: [{ readonly key: string; readonly snapshot: Snapshot }];
}

interface KeyState {
  snapshot: Snapshot | undefined;
  snapshotSetAt: number | undefined;
  readonly watches: Map<TypeUrl, Set<Watch>>;
  count: number;
  sotw: number;
  lastRequestAt: number | undefined;
  idleSince: number | undefined;
  node: Node | undefined;
  /** The watches whose ACKed version is the current snapshot's version of their type. */
  readonly ackedCurrent: Set<Watch>;
  lastAcked: Snapshot | undefined;
}

/**
 * Holds one snapshot per node key and answers each node's watches from it (rules S7–S14, D3–D7). Setting a
 * snapshot wakes only the watches of that key and of the types whose content changed, in ADS order (rule S11).
 */
export class SnapshotCache extends EventEmitter<SnapshotCacheEvents> implements ConfigWatcher, WatchSource {
  readonly completeness: Completeness;
  /** The resource types this cache serves. */
  readonly types: ResourceTypes;
  readonly #ads: boolean;
  readonly #nodeKey: NodeKey;
  readonly #wildcardTypes: ReadonlySet<TypeUrl>;
  readonly #keys = new Map<string, KeyState>();
  readonly #idleTimeoutMs: number | undefined;
  readonly #logger: CacheLogger;
  #timer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(options: SnapshotCacheOptions = {}) {
    super();
    this.#ads = options.ads ?? true;
    this.#nodeKey = options.nodeKey ?? byNodeId;
    this.completeness = options.completeness ?? 'subset';
    this.#wildcardTypes = new Set(options.wildcardTypes ?? []);
    this.types = options.types ?? ResourceTypes.builtIn;
    this.#logger = options.logger ?? silentCacheLogger;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    if (this.#idleTimeoutMs !== undefined) {
      const period = Math.max(10, Math.min(this.#idleTimeoutMs, 60_000));
      this.#timer = setInterval(() => this.sweep(), period).unref();
    }
    if (options.heartbeatMs !== undefined) {
      this.#heartbeatTimer = setInterval(() => this.heartbeat(), Math.max(10, options.heartbeatMs)).unref();
    }
  }

  /** Sends TTL heartbeats now to every watch whose client supports TTLs and holds a resource with a TTL (R4). */
  heartbeat(): void {
    for (const state of this.#keys.values()) {
      if (state.snapshot === undefined) continue;
      for (const [typeUrl, watches] of state.watches) {
        if (!state.snapshot.hasTtls(typeUrl)) continue;
        for (const watch of watches) watch.heartbeat();
      }
    }
  }

  /** The key a node's snapshot is kept under. */
  keyOf(node: Node): string {
    return this.#nodeKey(node);
  }

  /** Sets a key's snapshot and wakes the watches of the types that changed, in ADS push order. */
  setSnapshot(key: string, snapshot: Snapshot): void {
    if (!(snapshot instanceof Snapshot)) {
      throw new XdsError(
        Code.InvalidArgument,
        `setSnapshot("${key}"): not a Snapshot (build one with Snapshot.create)`,
      );
    }
    const state = this.#state(key);
    const previous = state.snapshot;
    state.snapshot = snapshot;
    state.snapshotSetAt = Date.now();
    const changes = snapshot.changesSince(previous);
    this.#logger.debug({ key, types: changes.size }, 'snapshot set');
    this.#recountAcks(key, state);
    // Rule S11: the types wake in push order.
    const order = [...changes.keys()].sort((a, b) => this.types.pushOrder(a) - this.types.pushOrder(b));
    for (const typeUrl of order) {
      const names = changes.get(typeUrl);
      const watches = state.watches.get(typeUrl);
      if (names === undefined || watches === undefined) continue;
      // A new version with the same resources changes nothing to send (rule S7c): the watches are not woken.
      if (previous !== undefined && names.size === 0) continue;
      const changed = previous === undefined ? 'all' : names;
      // One set for every watch of the key and type (never changed afterwards): they share what they make of it.
      for (const watch of watches) watch.notify(changed, true);
    }
    this.emit('snapshot', { key, snapshot, previous });
  }

  /** The snapshot of a key, if any. */
  getSnapshot(key: string): Snapshot | undefined {
    return this.#keys.get(key)?.snapshot;
  }

  /**
   * Changes a key's snapshot by an immer recipe (see {@link Snapshot.update}) and sets the result, which it
   * returns. Throws an XdsError (NotFound) when the key has no snapshot.
   */
  updateSnapshot(key: string, recipe: (draft: SnapshotDraft) => void, options?: SnapshotOptions): Snapshot {
    const current = this.getSnapshot(key);
    if (current === undefined)
      throw new XdsError(Code.NotFound, `updateSnapshot("${key}"): the key has no snapshot`);
    const next = current.update(recipe, options);
    if (next !== current) this.setSnapshot(key, next);
    return next;
  }

  /** Forgets a key's snapshot. Its watches stay open and are answered when a snapshot is set again. */
  clearSnapshot(key: string): void {
    this.#clear(key, 'cleared');
  }

  /** The keys that have a snapshot or an open watch. */
  keys(): string[] {
    return [...this.#keys.keys()];
  }

  /** The status of one key, or of every key. */
  status(key: string): NodeStatus | undefined;
  status(): NodeStatus[];
  status(key?: string): NodeStatus | NodeStatus[] | undefined {
    if (key === undefined) return [...this.#keys.keys()].map((k) => this.status(k)!);
    const state = this.#keys.get(key);
    if (state === undefined) return undefined;
    let versions: Partial<Record<TypeUrl, string>> | undefined;
    if (state.snapshot !== undefined) {
      versions = {};
      for (const typeUrl of state.snapshot.typeUrls()) versions[typeUrl] = state.snapshot.version(typeUrl);
    }
    return {
      key,
      node: state.node,
      versions,
      watches: state.count,
      sotwWatches: state.sotw,
      deltaWatches: state.count - state.sotw,
      lastRequestAt: state.lastRequestAt,
      snapshotSetAt: state.snapshotSetAt,
      ackedInFull: state.snapshot !== undefined && state.count > 0 && state.ackedCurrent.size === state.count,
    };
  }

  /**
   * The snapshot the key's nodes last ACKed in full, for rolling a NACKed change back (go-control-plane #564):
   * the latest snapshot set on the key such that, at some moment, every open watch of the key (every stream and
   * type of every node under the key, SotW and delta) had ACKed that snapshot's version of its type. ACKs are
   * per type, so a snapshot whose Clusters were ACKed and whose Endpoints were NACKed is not ACKed in full, and
   * the previous one stays the answer. A type no watch asks for does not count; a snapshot set while no watch is
   * open is not ACKed by anyone. Needs a server that reports ACKs to watches (`watch.answered()`; `@xds/server`
   * does). Undefined when no snapshot was ever ACKed in full.
   */
  lastAcked(key: string): Snapshot | undefined {
    return this.#keys.get(key)?.lastAcked;
  }

  /** Drops the snapshots of keys without a watch for `idleTimeoutMs`; returns the keys dropped. */
  sweep(now: number = Date.now()): string[] {
    const timeout = this.#idleTimeoutMs;
    if (timeout === undefined) return [];
    const dropped: string[] = [];
    for (const [key, state] of this.#keys) {
      if (state.count === 0 && state.idleSince !== undefined && now - state.idleSince >= timeout) {
        this.#clear(key, 'idle');
        dropped.push(key);
      }
    }
    return dropped;
  }

  /** Stops the idle sweep and heartbeat timers. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    this.#timer = undefined;
    this.#heartbeatTimer = undefined;
  }

  /** {@inheritDoc ConfigWatcher.watchSotw} */
  watchSotw(options: WatchOptions): SotwWatch {
    return this.#add(new SotwWatch(this, this.#nodeKey(options.node), this.#options(options)));
  }

  /** {@inheritDoc ConfigWatcher.watchDelta} */
  watchDelta(options: WatchOptions): DeltaWatch {
    return this.#add(new DeltaWatch(this, this.#nodeKey(options.node), this.#options(options)));
  }

  /** @internal WatchSource */
  view(key: string, typeUrl: TypeUrl): ResourceView | undefined {
    return this.#keys.get(key)?.snapshot?.view(typeUrl);
  }

  /** @internal WatchSource */
  wildcardCapable(typeUrl: TypeUrl): boolean {
    return this.#wildcardTypes.has(typeUrl) || this.types.get(typeUrl)?.wildcard === true;
  }

  /** @internal WatchSource */
  subscriptionChanged(watch: Watch): void {
    this.requested(watch);
  }

  /** @internal WatchSource */
  requested(watch: Watch): void {
    const state = this.#keys.get(watch.key);
    if (state === undefined) return;
    state.lastRequestAt = Date.now();
    state.node = watch.node;
  }

  /** @internal WatchSource */
  answered(watch: Watch, accepted: boolean): void {
    this.requested(watch);
    const state = this.#keys.get(watch.key);
    if (state === undefined || !accepted || state.snapshot === undefined) return;
    if (watch.ackedVersion !== state.snapshot.version(watch.typeUrl)) return;
    state.ackedCurrent.add(watch);
    this.#checkAckedInFull(watch.key, state);
  }

  /** @internal WatchSource */
  release(watch: Watch): void {
    const state = this.#keys.get(watch.key);
    if (state === undefined || !state.watches.get(watch.typeUrl)?.delete(watch)) return;
    state.count--;
    if (watch instanceof SotwWatch) state.sotw--;
    state.ackedCurrent.delete(watch);
    if (state.count > 0) return;
    state.idleSince = Date.now();
    if (state.snapshot === undefined) this.#keys.delete(watch.key);
  }

  #options(options: WatchOptions): WatchOptions {
    return this.#ads || !options.ads ? options : { ...options, ads: false };
  }

  #add<W extends Watch>(watch: W): W {
    const state = this.#state(watch.key);
    let set = state.watches.get(watch.typeUrl);
    if (set === undefined) {
      set = new Set();
      state.watches.set(watch.typeUrl, set);
    }
    set.add(watch);
    state.count++;
    if (watch instanceof SotwWatch) state.sotw++;
    state.idleSince = undefined;
    state.lastRequestAt = Date.now();
    state.node = watch.node;
    return watch;
  }

  /** A new snapshot: which watches already hold its version of their type (its unchanged types, say). */
  #recountAcks(key: string, state: KeyState): void {
    state.ackedCurrent.clear();
    const snapshot = state.snapshot;
    if (snapshot === undefined) return;
    for (const [typeUrl, watches] of state.watches) {
      const version = snapshot.version(typeUrl);
      for (const watch of watches) if (watch.ackedVersion === version) state.ackedCurrent.add(watch);
    }
    this.#checkAckedInFull(key, state);
  }

  #checkAckedInFull(key: string, state: KeyState): void {
    const snapshot = state.snapshot;
    if (snapshot === undefined || state.count === 0 || state.ackedCurrent.size !== state.count) return;
    if (state.lastAcked === snapshot) return;
    state.lastAcked = snapshot;
    this.#logger.debug({ key }, 'snapshot ACKed in full');
    this.emit('acked', { key, snapshot });
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = {
        snapshot: undefined,
        snapshotSetAt: undefined,
        watches: new Map(),
        count: 0,
        sotw: 0,
        lastRequestAt: undefined,
        idleSince: Date.now(),
        node: undefined,
        ackedCurrent: new Set(),
        lastAcked: undefined,
      };
      this.#keys.set(key, state);
    }
    return state;
  }

  #clear(key: string, reason: 'cleared' | 'idle'): void {
    const state = this.#keys.get(key);
    if (state?.snapshot === undefined) return;
    state.snapshot = undefined;
    state.snapshotSetAt = undefined;
    state.ackedCurrent.clear();
    this.#logger.debug({ key, reason }, 'snapshot cleared');
    if (state.count === 0) this.#keys.delete(key);
    this.emit('clear', { key, reason });
  }
}
