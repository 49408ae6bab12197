/**
 * `@xds/cache`: immutable xDS snapshots and the caches that decide what each client gets and when.
 *
 * @packageDocumentation
 */
export { type CacheLogger, silentCacheLogger } from './cache-logger.js';
export { checkSnapshot, connectionManagers, edsServiceName, type Problem } from './check.js';
export { byNodeId, type ConfigWatcher, type NodeKey } from './config-watcher.js';
export { type DeltaRequestInfo, type DeltaResponse, DeltaWatch } from './delta-watch.js';
export {
  contentHash,
  EncodedResource,
  type EncodeOptions,
  encodeAny,
  encodeCount,
  encodeResource,
  type OpaqueResourceInit,
  opaqueResource,
} from './encoded-resource.js';
export { type FetchRequest, fetchResources } from './fetch.js';
export { HeldVersions } from './held-versions.js';
export {
  LinearCache,
  type LinearCacheOptions,
  type LinearCacheStats,
  type LinearResource,
} from './linear-cache.js';
export { type Classify, MuxCache, type MuxCacheOptions, type MuxClassifyOptions } from './mux-cache.js';
export { internNames, noNames } from './name-set.js';
export { PersistentMap, persistentMapCopies } from './persistent-map.js';
export {
  type BytesResource,
  type NamedResource,
  type ResourceWithTtl,
  Snapshot,
  type SnapshotChanges,
  type SnapshotDraft,
  type SnapshotOptions,
  type SnapshotResource,
} from './snapshot.js';
export {
  type NodeStatus,
  SnapshotCache,
  type SnapshotCacheEvents,
  type SnapshotCacheOptions,
} from './snapshot-cache.js';
export { type SotwRequestInfo, type SotwResponse, SotwWatch } from './sotw-watch.js';
export { isKnownSubscription } from './subscription-bytes.js';
export { TypeHash } from './type-version.js';
export { isGlob, Watch } from './watch.js';
export type {
  Completeness,
  ResourceView,
  SubscriptionChange,
  WatchOptions,
  WatchSource,
} from './watch-source.js';
