/**
 * What a {@link Relay} is given and what it tells: its options (every bound with its default, rule L2), the status of
 * a group (rule X3) and its events. Kept apart from relay.ts so that the relay itself stays one concept.
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { TypeUrl } from '@xds/api';
import type { BackoffOptions, ClientLimits, Protocol } from '@xds/client';
import type { Logger, XdsServerOptions } from '@xds/server';
import type { GroupLimitName } from './group-admission.js';
import type { Relay } from './relay.js';

/** Options of {@link Relay}. */
export interface RelayOptions {
  /** The upstream servers, `host:port`; each group's stream fails over between them in order. */
  readonly upstreams: readonly string[];
  /** The protocol of the upstream streams; default `delta` (resume by per-resource versions, rule D6). */
  readonly upstreamProtocol?: Protocol;
  /** How downstream nodes are grouped: `node-id` (default), `cluster` or `metadata:KEY`. */
  readonly groupBy?: string;
  /** Upstream channel credentials (TLS); insecure by default. */
  readonly credentials?: ChannelCredentials;
  /** Upstream reconnect backoff. */
  readonly backoff?: BackoffOptions;
  /**
   * Bounds on what an upstream server can make a group's client keep (`@xds/client`'s limits); checked here, so a
   * bad one is an error naming it at construction, not at the first group.
   */
  readonly upstreamLimits?: ClientLimits;
  /**
   * The most groups (upstream streams) at once, idle ones included (the oldest idle one gives way to a new group);
   * default 10,000. A node of one more group is refused with RESOURCE_EXHAUSTED naming the limit.
   */
  readonly maxGroups?: number;
  /**
   * The most new groups (new upstream streams) a second, in bursts of up to one second's worth; default 200. A
   * group whose upstream stream is still open (idle, coming back) is not new. A node of one more new group is
   * refused with RESOURCE_EXHAUSTED naming the limit; a fraction is allowed (0.1: one new group every 10 s).
   */
  readonly maxNewGroupsPerSecond?: number;
  /**
   * Each downstream peer's share of the groups (rule L2, review Q6): the most groups the clients of one peer address
   * (an IPv4 address, or an IPv6 /64, as the downstream server's per-peer limits count peers) have watches in at
   * once; default 1,024 (a peer's default `maxConnectionsPerPeer`). A group counts for each peer with a client in it
   * while that client is there; an idle group (its clients left) counts for none. A node of one more group from that
   * peer is refused with RESOURCE_EXHAUSTED naming the limit; other peers are untouched, so one peer minting node
   * ids cannot take `maxGroups` from the rest.
   */
  readonly maxGroupsPerPeer?: number;
  /**
   * Each downstream peer's share of `maxNewGroupsPerSecond` (rule L2, review Q6): the most new groups a second one
   * peer address opens, in bursts of up to one second's worth; default 50 (a quarter of the relay-wide default). Past
   * it, RESOURCE_EXHAUSTED naming the limit; the relay-wide bucket is not touched, so other peers still open groups.
   */
  readonly maxNewGroupsPerSecondPerPeer?: number;
  /**
   * The most names (and globs) of one type a group's downstream watches subscribe to together, which is what the
   * group's upstream stream asks for; default 50,000, below an origin's default maxNamesPerRequest (100,000). A
   * downstream subscription that would pass it ends that stream with RESOURCE_EXHAUSTED; the group is untouched.
   */
  readonly maxNamesPerGroup?: number;
  /**
   * The most names (and globs) of every group's subscriptions of every type together (each group's union counted
   * once); default 500,000, about 350 MiB of relay memory at ~700 bytes a name. A downstream subscription that would
   * pass it ends that stream with RESOURCE_EXHAUSTED naming the limit; other streams and groups are untouched.
   */
  readonly maxNamesAllGroups?: number;
  /**
   * The most bytes (UTF-8) of the names (and globs) of one type a group's downstream watches subscribe to together
   * (rule L2, review R1); default 8 MiB, half an origin's default `maxRequestBytes` (16 MiB). The group's requests
   * carry its whole union (SotW ones, and every upstream stream's first one, after an outage too): a union past the
   * origin's request bound would make the origin refuse the group's stream for good. A downstream subscription that
   * would pass it ends that stream with RESOURCE_EXHAUSTED naming the limit; the group is untouched.
   */
  readonly maxNameBytesPerGroup?: number;
  /**
   * The most bytes of the names of every group's subscriptions together (each group's union counted once); default
   * 64 MiB (the relay's structures share each name's string). A downstream subscription that would
   * pass it ends that stream with RESOURCE_EXHAUSTED naming the limit; other streams and groups are untouched.
   */
  readonly maxNameBytesAllGroups?: number;
  /**
   * The most encoded bytes of resources every group's upstream client holds together (each group is also bound by
   * `upstreamLimits.maxResourceBytesTotal`); default 128 MiB, 0.5 to 1 GiB of relay memory. An upstream resource that
   * would pass it is rejected (the response NACKed upstream naming the limit; what the group held of that name
   * stays), and while the relay holds that much a node of a new group is refused with RESOURCE_EXHAUSTED naming it.
   */
  readonly maxResourceBytesAllGroups?: number;
  /**
   * The most bytes of a group key (the node field `groupBy` reads); default 1,024. The key becomes the upstream node
   * id `relay~KEY`: a node whose key is longer, or holds a control character (rule L5), is refused with
   * INVALID_ARGUMENT naming the field, and nothing is opened upstream. Keep it below the origin's `maxNodeIdBytes`
   * minus 6.
   */
  readonly maxGroupKeyBytes?: number;
  /**
   * The most groups whose upstream streams share one HTTP/2 connection; default 50. Origins cap the streams of a
   * connection (`maxStreamsPerConnection`, 100 by default) and grpc-js would put every group on one connection:
   * keep this below the origin's cap.
   */
  readonly groupsPerConnection?: number;
  /**
   * How long a group may be without a live upstream stream before it counts as failing for readiness (ms); default
   * 30 s. See {@link Relay.readiness}.
   */
  readonly readyGraceMs?: number;
  /**
   * How long a group without downstream watches keeps its upstream stream (ms); default 60 s. An idle group holds no
   * resources (its subscription is dropped upstream and its snapshot emptied), then it is freed whole.
   */
  readonly groupIdleMs?: number;
  /**
   * How long a group's upstream request that asks for more (a wildcard or names no client of the group wanted
   * before) may stay unanswered on a connected stream before the group's view counts as covering it (ms), measured
   * from that request (the group's later requests do not restart it); default 10 s. Meanwhile the downstream watches of that type in the group wait: a view that does not cover a wildcard
   * watch would tell it the missing clusters are deleted. A SotW origin answers such a request at once; a delta
   * origin need not when it has nothing new to send. Only a type the origin answered for the group before counts as
   * covered after the wait: a type it never answered waits for its first answer (else a jammed origin made a new
   * node's wildcard answer empty).
   */
  readonly upstreamAnswerWaitMs?: number;
  /** The downstream XdsServer's options (its cache is the relay's). */
  readonly server?: Omit<XdsServerOptions, 'cache' | 'logger'>;
  /** A pino-compatible logger. */
  readonly logger?: Logger;
}

/** One group as `/debug/syncz` and `/readyz` show it. */
export interface GroupStatus {
  readonly group: string;
  /** The upstream node id, `relay~GROUP`. */
  readonly upstreamNodeId: string;
  /** The upstream server of the current stream, when there is one. */
  readonly upstream: string | undefined;
  readonly connected: boolean;
  /** The origin's version of each type the group holds. */
  readonly versions: Partial<Record<TypeUrl, string>>;
  /** How many downstream watches the group serves. */
  readonly watches: number;
}

/** The events of {@link Relay}. */
export interface RelayEvents {
  /** A group's upstream stream connected. */
  upstreamConnected: [{ readonly group: string; readonly address: string }];
  /** A group's upstream stream ended; the relay keeps serving what it holds (rule X3). */
  upstreamDisconnected: [{ readonly group: string; readonly address: string; readonly details: string }];
  /** A group's upstream response was accepted and applied. */
  upstreamUpdate: [
    {
      readonly group: string;
      readonly typeUrl: string;
      readonly version: string;
      readonly updated: readonly string[];
      readonly removed: readonly string[];
    },
  ];
  /**
   * The relay NACKed an upstream response: it could not decode a resource, or the response went past an upstream
   * limit (`upstreamLimits`: a version past `maxVersionBytes`, more resources than `maxResourcesPerType`).
   */
  upstreamNack: [{ readonly group: string; readonly typeUrl: string; readonly message: string }];
  /** A downstream stream was refused because it would open a group past a limit (rule L2). */
  groupRefused: [{ readonly group: string; readonly limit: GroupLimitName; readonly message: string }];
}
