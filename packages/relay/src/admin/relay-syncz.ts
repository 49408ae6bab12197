/**
 * `/debug/syncz` of the relay: per downstream node and type what was sent, acked and rejected (rule X4: a NACK is
 * that client's status), against the group's current version (the origin's, rule X1), as `xds-server`'s syncz
 * builds it (`synczNodes`); per group its upstream stream (rule X3); the relay-wide bounds (names and resource
 * bytes across groups, relay-budget.ts); and, as `xds-server`'s, the downstream server's
 * connections and request messages partly received against their limits (rule L2).
 */
import {
  type StatusView,
  type SynczCounts,
  type SynczNode,
  type SynczServer,
  synczNodes,
  synczServer,
} from '@xds/reference-server';
import type { GroupCounts } from '../group-admission.js';
import type { Relay } from '../relay.js';
import type { RelayBounds } from '../relay-budget.js';
import type { GroupStatus } from '../relay-options.js';

/** The body of the relay's `/debug/syncz`. */
export interface RelaySyncz extends StatusView {
  readonly generatedAt: string;
  readonly server: SynczServer;
  readonly counts: SynczCounts;
  /** `connected`, `disconnected` (some group serves what it holds without its upstream) or `idle`. */
  readonly upstream: 'connected' | 'disconnected' | 'idle';
  /** How many groups the relay holds (idle ones included), against `maxGroups`, and the refusals (rule L2). */
  readonly groupCounts: GroupCounts;
  /** Names and resource bytes across every group against `maxNamesAllGroups` and `maxResourceBytesAllGroups`. */
  readonly bounds: RelayBounds;
  readonly groups: readonly GroupStatus[];
  /** Each downstream node; its `key` is its group. NACKED first. */
  readonly nodes: readonly SynczNode[];
}

/** Builds `/debug/syncz`; `version` and `startedAt` are the relay process's. */
export function relaySyncz(relay: Relay, version: string, startedAt: number): RelaySyncz {
  const { nodes, counts } = synczNodes({
    xds: relay.server,
    keyOf: (node) => relay.cache.keyOf(node),
    // A type the upstream has not answered yet has no current version (an empty view is not "no clusters").
    currentVersion: (group, typeUrl) =>
      relay.cache.isReady(group, typeUrl) ? relay.cache.getSnapshot(group)?.version(typeUrl) : undefined,
  });
  const now = Date.now();
  return {
    generatedAt: new Date(now).toISOString(),
    server: synczServer(
      version,
      startedAt,
      now,
      relay.server.connectionStats(),
      relay.server.partialRequestStats(),
    ),
    counts,
    upstream: relay.upstreamState(),
    groupCounts: relay.groupCounts(),
    bounds: relay.bounds(),
    groups: relay.groups(),
    nodes,
  };
}
