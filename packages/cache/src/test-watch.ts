// Drives watches the way the server does, for the cache's unit tests.
import type { TypeUrl } from '@xds/api';
import type { ConfigWatcher } from './config-watcher.js';
import type { DeltaResponse, DeltaWatch } from './delta-watch.js';
import type { SotwResponse, SotwWatch } from './sotw-watch.js';
import { node } from './test-resources.js';
import type { WatchOptions } from './watch-source.js';

export interface SotwDriver {
  readonly watch: SotwWatch;
  /** How many times the watch said it may have something. */
  readonly ready: number;
  request(names: readonly string[], versionInfo?: string): void;
  /** take() and the names of what it returned (undefined: nothing to send). */
  take(): SotwResponse | undefined;
  names(): string[] | undefined;
}

export function sotw(
  cache: ConfigWatcher,
  id: string,
  typeUrl: TypeUrl,
  extra: Partial<WatchOptions> = {},
  order?: string[],
): SotwDriver {
  let ready = 0;
  let initial = true;
  const watch = cache.watchSotw({
    node: node(id),
    typeUrl,
    ads: true,
    ...extra,
    onReady: () => {
      ready++;
      order?.push(typeUrl);
    },
  });
  const driver: SotwDriver = {
    watch,
    get ready() {
      return ready;
    },
    request(names, versionInfo = '') {
      watch.request({ names, versionInfo, initial });
      initial = false;
    },
    take: () => watch.take(),
    names() {
      return watch.take()?.resources.map((r) => r.name);
    },
  };
  return driver;
}

export interface DeltaDriver {
  readonly watch: DeltaWatch;
  readonly ready: number;
  request(
    subscribe: readonly string[],
    unsubscribe?: readonly string[],
    initialVersions?: Record<string, string>,
  ): void;
  take(): DeltaResponse | undefined;
  /** take() as [sent names, removed names], or undefined. */
  diff(): [string[], string[]] | undefined;
}

export function delta(
  cache: ConfigWatcher,
  id: string,
  typeUrl: TypeUrl,
  extra: Partial<WatchOptions> = {},
): DeltaDriver {
  let ready = 0;
  let initial = true;
  const watch = cache.watchDelta({
    node: node(id),
    typeUrl,
    ads: true,
    ...extra,
    onReady: () => {
      ready++;
    },
  });
  return {
    watch,
    get ready() {
      return ready;
    },
    request(subscribe, unsubscribe = [], initialVersions) {
      watch.request({ subscribe, unsubscribe, initial, ...(initialVersions ? { initialVersions } : {}) });
      initial = false;
    },
    take: () => watch.take(),
    diff() {
      const r = watch.take();
      return r === undefined ? undefined : [r.resources.map((e) => e.name).sort(), [...r.removed].sort()];
    },
  };
}
