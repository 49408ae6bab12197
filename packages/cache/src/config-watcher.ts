import type { Node, ResourceTypes } from '@xds/api';
import type { DeltaWatch } from './delta-watch.js';
import type { SotwWatch } from './sotw-watch.js';
import type { WatchOptions } from './watch-source.js';

/**
 * The boundary between the server and a cache: the server opens one watch per stream and type, feeds it the
 * stream's requests and takes responses from it. SnapshotCache, LinearCache and MuxCache implement it.
 */
export interface ConfigWatcher {
  /** Opens a state-of-the-world watch. Throws an XdsError when the cache does not serve the type. */
  watchSotw(options: WatchOptions): SotwWatch;
  /** Opens an incremental (delta) watch. Throws an XdsError when the cache does not serve the type. */
  watchDelta(options: WatchOptions): DeltaWatch;
  /**
   * The resource types the cache serves, when it says (the caches of this package do): a server serves these
   * types on ADS and may mount a per-type service for each. Undefined means the built-in ones.
   */
  readonly types?: ResourceTypes;
}

/** Maps a node to the key its snapshot is kept under. */
export type NodeKey = (node: Node) => string;

/** The default node key: `node.id`. */
export const byNodeId: NodeKey = (node) => node.id;
