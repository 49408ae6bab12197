// The public shapes of the relay's cache (relay-cache.ts): the bounds it keeps (rule L2), what a group's watches
// subscribe to (rule X4) and the hooks through which it tells its owner; kept apart so the cache itself stays one
// concept.
import type { Node, TypeUrl } from '@xds/api';
import type { RelayCache } from './relay-cache.js';

/**
 * The default bound on a group's names of one type (`--max-names-per-group`): below the origin's default
 * maxNamesPerRequest (100,000), so a group's upstream request is never refused for its size.
 */
export const defaultMaxNamesPerGroup = 50_000;

/** The bounds a {@link RelayCache} keeps (rule L2); each has a default. */
export interface RelayCacheLimits {
  /** The most groups with watches; a node of one more group is refused (RESOURCE_EXHAUSTED). Default 10,000. */
  readonly maxGroups?: number;
  /**
   * The most groups one downstream peer (an IPv4 address, an IPv6 /64) may have watches in; a watch of one more is
   * refused (RESOURCE_EXHAUSTED). Default 1,024.
   */
  readonly maxGroupsPerPeer?: number;
  /** The most names (and globs) of one type a group's watches may subscribe to together. Default 50,000. */
  readonly maxNamesPerGroup?: number;
  /**
   * The most names (and globs) of every group's unions of every type together (relay-budget.ts). Default 500,000.
   */
  readonly maxNamesAllGroups?: number;
  /** The most bytes of the names of one type a group's watches subscribe to together. Default 8 MiB. */
  readonly maxNameBytesPerGroup?: number;
  /** The most bytes of the names of every group's unions together. Default 64 MiB. */
  readonly maxNameBytesAllGroups?: number;
  /** The most bytes of a group key; a node with a longer one is refused (INVALID_ARGUMENT). Default 1 KiB. */
  readonly maxGroupKeyBytes?: number;
  /**
   * Refuse (INVALID_ARGUMENT) a node whose group-by field is empty. The relay sets it when node identity is on:
   * a group must then come from what the identity check verified.
   */
  readonly groupValueRequired?: boolean;
}

/** What a group's watches subscribe to, for one type. */
export interface Interest {
  /** True when some watch subscribes by wildcard. */
  readonly wildcard: boolean;
  /** Every name (or `prefix/*` glob) some watch subscribes to. */
  readonly names: ReadonlySet<string>;
}

/** What the cache tells its owner. */
export interface RelayCacheHooks {
  /** A group got its first watch; `node` is the downstream node that opened it. */
  groupOpened(group: string, node: Node): void;
  /**
   * A group's union of subscriptions of a type may have changed: take what changed with
   * {@link RelayCache.takeInterestChange} (or read the whole union with {@link RelayCache.interest}).
   */
  interestChanged(group: string, typeUrl: TypeUrl): void;
  /** A group has no watch left. */
  groupIdle(group: string): void;
  /**
   * A node of a group without watches asks for a first one, past the key, `maxGroupsPerPeer` and `maxGroups`
   * checks, from `peer` (undefined when unknown): throw an XdsError to refuse it (the relay's
   * `maxNewGroupsPerSecond`, per peer and in all). Optional.
   */
  admitGroup?(group: string, peer: string | undefined): void;
  /**
   * A node was refused because its group would pass `maxGroups`, or its peer's `maxGroupsPerPeer`; `message` is the
   * refusal. Optional.
   */
  groupRefused?(group: string, limit: 'maxGroups' | 'maxGroupsPerPeer', message: string): void;
}

/** What changed in a group's union of subscriptions of one type since its upstream last took it. */
export interface InterestChange {
  /** Names (and globs) the union gained. */
  readonly added: readonly string[];
  /** Names (and globs) the union lost. */
  readonly removed: readonly string[];
  /** Whether some watch subscribes by wildcard now. */
  readonly wildcard: boolean;
}
