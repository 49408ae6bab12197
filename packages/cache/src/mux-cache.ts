import { Code, type TypeUrl, XdsError } from '@xds/api';
import type { ConfigWatcher } from './config-watcher.js';
import type { DeltaWatch } from './delta-watch.js';
import type { SotwWatch } from './sotw-watch.js';
import type { WatchOptions } from './watch.js';

/** Options of {@link MuxCache}. */
export interface MuxCacheOptions {
  /** The cache for every type not in the map. */
  readonly fallback?: ConfigWatcher;
}

/** Routes each watch to a cache by its type URL (for example EDS from a LinearCache, the rest from a SnapshotCache). */
export class MuxCache implements ConfigWatcher {
  readonly #caches: ReadonlyMap<string, ConfigWatcher>;
  readonly #fallback: ConfigWatcher | undefined;

  constructor(caches: Partial<Record<TypeUrl, ConfigWatcher>>, options: MuxCacheOptions = {}) {
    this.#caches = new Map(
      Object.entries(caches).filter((e): e is [string, ConfigWatcher] => e[1] !== undefined),
    );
    this.#fallback = options.fallback;
  }

  /** The cache that serves a type, if any. */
  cacheFor(typeUrl: TypeUrl): ConfigWatcher | undefined {
    return this.#caches.get(typeUrl) ?? this.#fallback;
  }

  /** {@inheritDoc ConfigWatcher.watchSotw} */
  watchSotw(options: WatchOptions): SotwWatch {
    return this.#route(options.typeUrl).watchSotw(options);
  }

  /** {@inheritDoc ConfigWatcher.watchDelta} */
  watchDelta(options: WatchOptions): DeltaWatch {
    return this.#route(options.typeUrl).watchDelta(options);
  }

  #route(typeUrl: TypeUrl): ConfigWatcher {
    const cache = this.cacheFor(typeUrl);
    if (cache === undefined) throw new XdsError(Code.Unimplemented, `no cache serves ${typeUrl}`);
    return cache;
  }
}
