// Routes each watch to one of several caches (go-control-plane's MuxCache): by type URL (EDS from a LinearCache,
// the rest from a SnapshotCache), or by any attribute of the request that opens the watch (its node, whether it is
// ADS, its type) through a `classify` function.
import { Code, ResourceTypes, type TypeUrl, XdsError } from '@xds/api';
import type { ConfigWatcher } from './config-watcher.js';
import type { DeltaWatch } from './delta-watch.js';
import type { SotwWatch } from './sotw-watch.js';
import type { WatchOptions } from './watch-source.js';

/** Picks the cache of a watch from what opens it (node, type URL, ADS or not); undefined when none serves it. */
export type Classify = (request: WatchOptions) => ConfigWatcher | undefined;

/** Options of {@link MuxCache}. */
export interface MuxCacheOptions {
  /** The cache for every type not in the map. */
  readonly fallback?: ConfigWatcher;
}

/** Options of a {@link MuxCache} that classifies by any attribute of the request. */
export interface MuxClassifyOptions {
  /** Picks the cache of each watch. */
  readonly classify: Classify;
  /** The resource types the mux serves (for a server that asks); default the union of known ones, built-in. */
  readonly types?: ResourceTypes;
}

/**
 * Routes each watch to a cache. `new MuxCache({ [typeUrl]: cache }, { fallback })` routes by type URL;
 * `new MuxCache({ classify: (request) => cache })` by anything in the request (the node's id or metadata, ADS or
 * not, the type). A watch no cache serves is `Unimplemented`.
 */
export class MuxCache implements ConfigWatcher {
  /** The resource types the caches serve (the registered ones of each cache, when they say). */
  readonly types: ResourceTypes;
  readonly #caches: ReadonlyMap<string, ConfigWatcher>;
  readonly #fallback: ConfigWatcher | undefined;
  readonly #classify: Classify | undefined;

  constructor(
    caches: Partial<Record<TypeUrl, ConfigWatcher>> | MuxClassifyOptions,
    options: MuxCacheOptions = {},
  ) {
    if (isClassify(caches)) {
      if (typeof caches.classify !== 'function')
        throw new XdsError(Code.InvalidArgument, 'MuxCache: classify must be a function');
      this.#classify = caches.classify;
      this.#caches = new Map();
      this.#fallback = undefined;
      this.types = caches.types ?? ResourceTypes.builtIn;
      return;
    }
    this.#classify = undefined;
    this.#caches = new Map(
      Object.entries(caches).filter((e): e is [string, ConfigWatcher] => e[1] !== undefined),
    );
    this.#fallback = options.fallback;
    this.types = unionOf([
      ...this.#caches.values(),
      ...(this.#fallback === undefined ? [] : [this.#fallback]),
    ]);
  }

  /** The cache that serves a type by the type map, if any (undefined for a classifying mux). */
  cacheFor(typeUrl: TypeUrl): ConfigWatcher | undefined {
    if (this.#classify !== undefined) return undefined;
    return this.#caches.get(typeUrl) ?? this.#fallback;
  }

  /** {@inheritDoc ConfigWatcher.watchSotw} */
  watchSotw(options: WatchOptions): SotwWatch {
    return this.#route(options).watchSotw(options);
  }

  /** {@inheritDoc ConfigWatcher.watchDelta} */
  watchDelta(options: WatchOptions): DeltaWatch {
    return this.#route(options).watchDelta(options);
  }

  #route(options: WatchOptions): ConfigWatcher {
    const cache = this.#classify === undefined ? this.cacheFor(options.typeUrl) : this.#classify(options);
    if (cache === undefined) throw new XdsError(Code.Unimplemented, `no cache serves ${options.typeUrl}`);
    return cache;
  }
}

function isClassify(
  value: Partial<Record<TypeUrl, ConfigWatcher>> | MuxClassifyOptions,
): value is MuxClassifyOptions {
  return Object.hasOwn(value, 'classify');
}

/** The registered types of every cache that says which it serves, over the built-in ones. */
function unionOf(caches: readonly ConfigWatcher[]): ResourceTypes {
  let types = ResourceTypes.builtIn;
  for (const cache of caches) {
    for (const type of cache.types ?? []) if (!types.has(type.typeUrl)) types = types.with(type);
  }
  return types;
}
