// The boundary between a cache and the watches it opens for the server (go-control-plane's ConfigWatcher boundary):
// what a watch reads of its cache (one type's resources for one node), what it tells the cache (subscription
// changes, requests, ACKs and NACKs: rule S5), and what the server gives to open one. Every cache implements
// `WatchSource`; a custom cache implements it too. The watches themselves are in watch.ts, sotw-watch.ts and
// delta-watch.ts.
import type { Node, ResourceTypes, TypeUrl } from '@xds/api';
import type { EncodedResource } from './encoded-resource.js';
import type { Watch } from './watch.js';

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
  /**
   * The stream's peer as the server's per-peer limits count it: an IPv4 address, or an IPv6 address's /64 (rule L2);
   * undefined when unknown. A cache may give each peer a share of what it holds (the relay's groups).
   */
  readonly peer?: string | undefined;
}
