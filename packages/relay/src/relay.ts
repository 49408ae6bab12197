/**
 * `Relay`: the xDS fan-in tier. Downstream it is an `XdsServer` (SotW and delta, ADS and per-type) over a
 * {@link RelayCache}; upstream it holds one `@xds/client` stream per group of downstream nodes (rule X4). Versions and
 * bytes pass through (rules X1, X2); with no upstream it keeps serving what it holds and resumes without resends
 * (rule X3). A downstream NACK is that client's status on the relay; the relay NACKs upstream only when it cannot
 * decode a resource itself (X4).
 */
import { readFileSync } from 'node:fs';
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { TypeUrl } from '@xds/api';
import { type BackoffOptions, type ClientLimits, type Protocol, resolveClientLimits } from '@xds/client';
import { type ListenOptions, type Logger, silentLogger, XdsServer, type XdsServerOptions } from '@xds/server';
import { EventEmitter } from 'eventemitter3';
import { ConnectionSlots, connectionSlotOption, defaultGroupsPerConnection } from './connection-slots.js';
import {
  checkPositive,
  defaultMaxGroups,
  defaultMaxNewGroupsPerSecond,
  type GroupCounts,
  type GroupLimitName,
  NewGroupRate,
} from './group-admission.js';
import { type GroupBy, parseGroupBy } from './group-by.js';
import { defaultMaxGroupKeyBytes } from './group-key.js';
import { GroupUpstream } from './group-upstream.js';
import { OriginProbe } from './origin-probe.js';
import { type Readiness, UpstreamReadiness } from './readiness.js';
import { RelayCache } from './relay-cache.js';
import { defaultMaxNamesPerGroup } from './relay-cache-types.js';
import { upstreamNode } from './upstream-node.js';

let version: string | undefined;
/** The relay's version (its package's), read once: the upstream nodes' user agent version. */
function relayVersion(): string {
  version ??= (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return version;
}

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
   * The most names (and globs) of one type a group's downstream watches subscribe to together, which is what the
   * group's upstream stream asks for; default 50,000, below an origin's default maxNamesPerRequest (100,000). A
   * downstream subscription that would pass it ends that stream with RESOURCE_EXHAUSTED; the group is untouched.
   */
  readonly maxNamesPerGroup?: number;
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
   * before) may stay unanswered on a connected stream before the group's view counts as covering it (ms); default
   * 10 s. Meanwhile the downstream watches of that type in the group wait: a view that does not cover a wildcard
   * watch would tell it the missing clusters are deleted. A SotW origin answers such a request at once; a delta
   * origin need not when it has nothing new to send.
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

/** The relay: an XdsServer downstream, one upstream client per group. */
export class Relay extends EventEmitter<RelayEvents> {
  /** The downstream server. */
  readonly server: XdsServer;
  /** The cache the server serves from, one snapshot per group. */
  readonly cache: RelayCache;
  /** How nodes are grouped. */
  readonly groupBy: GroupBy;
  readonly #options: RelayOptions;
  readonly #logger: Logger;
  readonly #upstreams = new Map<string, GroupUpstream>();
  readonly #idle = new Map<string, NodeJS.Timeout>();
  readonly #slots: ConnectionSlots;
  readonly #probe: OriginProbe;
  readonly #readiness: UpstreamReadiness;
  readonly #maxGroups: number;
  readonly #rate: NewGroupRate;
  readonly #refused: Record<GroupLimitName, number> = { maxGroups: 0, maxNewGroupsPerSecond: 0 };
  #closing: Promise<void> | undefined;

  /** Creates the relay; nothing listens until {@link listen}. */
  constructor(options: RelayOptions) {
    super();
    if (options.upstreams.length === 0) throw new RangeError('Relay: options.upstreams names no server');
    // Bad options are named now, not when the first group opens.
    resolveClientLimits(options.upstreamLimits, 'Relay: options.upstreamLimits');
    for (const name of [
      'maxGroups',
      'maxNamesPerGroup',
      'maxGroupKeyBytes',
      'readyGraceMs',
      'groupIdleMs',
      'upstreamAnswerWaitMs',
    ] as const)
      checkPositive(name, options[name]);
    checkPositive('maxNewGroupsPerSecond', options.maxNewGroupsPerSecond, false);
    this.#options = options;
    this.#maxGroups = options.maxGroups ?? defaultMaxGroups;
    this.#rate = new NewGroupRate(options.maxNewGroupsPerSecond ?? defaultMaxNewGroupsPerSecond);
    this.#logger = options.logger ?? silentLogger;
    this.#slots = new ConnectionSlots(options.groupsPerConnection ?? defaultGroupsPerConnection);
    this.groupBy = parseGroupBy(options.groupBy ?? 'node-id');
    this.cache = new RelayCache(
      this.groupBy,
      {
        groupOpened: (group) => this.#open(group),
        interestChanged: (group, typeUrl) => this.#upstreams.get(group)?.interestChanged(typeUrl),
        groupIdle: (group) => this.#idleGroup(group),
        admitGroup: (group) => this.#admitGroup(group),
        groupRefused: (group, message) => this.#groupRefused(group, 'maxGroups', message),
      },
      {
        maxGroups: this.#maxGroups,
        maxNamesPerGroup: options.maxNamesPerGroup ?? defaultMaxNamesPerGroup,
        maxGroupKeyBytes: options.maxGroupKeyBytes ?? defaultMaxGroupKeyBytes,
        groupValueRequired: options.server?.nodeIdentity !== undefined,
      },
    );
    this.server = new XdsServer({ ...options.server, cache: this.cache, logger: this.#logger });
    this.#probe = new OriginProbe({
      servers: options.upstreams,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
    this.#readiness = new UpstreamReadiness(
      this.#probe,
      options.readyGraceMs === undefined ? {} : { graceMs: options.readyGraceMs },
    );
  }

  /**
   * Whether the relay can serve new clients (`/readyz`), by the rule of readiness.ts: not while `draining` or
   * closed; ready while some group has a live upstream stream (connected, and answered or resumed); with none, only
   * when an upstream answers a gRPC health check and some group is still within `readyGraceMs` of its start (or
   * there is no group yet). Clients it has are served what it holds either way (rule X3).
   */
  readiness(draining = false): Promise<Readiness> {
    return this.#readiness.check(draining || this.#closing !== undefined);
  }

  /** Listens for downstream xDS on `host:port` (over TLS with `options.tls`); resolves the bound port. */
  listen(address: string, options: ListenOptions = {}): Promise<number> {
    return this.server.listen(address, options);
  }

  /** The groups and their upstream state. */
  groups(): GroupStatus[] {
    const watches = new Map(this.cache.status().map((s) => [s.key, s.watches]));
    return [...this.#upstreams.values()].map((upstream) => ({
      group: upstream.group,
      upstreamNodeId: upstream.client.node.id,
      upstream: upstream.client.address,
      connected: upstream.client.connected,
      versions: this.cache.status(upstream.group)?.versions ?? {},
      watches: watches.get(upstream.group) ?? 0,
    }));
  }

  /** How many groups the relay holds, idle and refused, against their limits (rule L2). */
  groupCounts(): GroupCounts {
    return {
      groups: this.#upstreams.size,
      idle: this.#idle.size,
      upstreamConnections: this.#slots.connections(),
      maxGroups: this.#maxGroups,
      maxNewGroupsPerSecond: this.#rate.perSecond,
      refused: { ...this.#refused },
    };
  }

  /** `connected` when every group's upstream is connected, `disconnected` when one is not, `idle` with no group. */
  upstreamState(): 'connected' | 'disconnected' | 'idle' {
    if (this.#upstreams.size === 0) return 'idle';
    for (const upstream of this.#upstreams.values()) if (!upstream.client.connected) return 'disconnected';
    return 'connected';
  }

  /** Closes the downstream server (streams end with UNAVAILABLE, clients go elsewhere) and every upstream stream. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const timer of this.#idle.values()) clearTimeout(timer);
      this.#idle.clear();
      await this.server.close();
      await Promise.all([...this.#upstreams.values()].map((u) => u.close()));
      this.#upstreams.clear();
      this.#probe.close();
      this.cache.close();
    })();
    return this.#closing;
  }

  #open(group: string): void {
    const timer = this.#idle.get(group);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.#idle.delete(group);
    }
    if (this.#upstreams.has(group)) return;
    // --max-groups bounds upstream streams, idle groups included: the oldest idle group gives way.
    for (const idle of this.#idle.keys()) {
      if (this.#upstreams.size < this.#maxGroups) break;
      this.#closeGroup(idle);
    }
    const options = this.#options;
    const upstream = new GroupUpstream(group, upstreamNode(group, this.groupBy, relayVersion()), this.cache, {
      servers: options.upstreams,
      protocol: options.upstreamProtocol ?? 'delta',
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(options.upstreamLimits === undefined ? {} : { limits: options.upstreamLimits }),
      logger: this.#logger,
      channelOptions: { [connectionSlotOption]: this.#slots.acquire(group) },
      ...(options.upstreamAnswerWaitMs === undefined ? {} : { answerWaitMs: options.upstreamAnswerWaitMs }),
    });
    const client = upstream.client;
    client.on('connected', ({ address }) => {
      this.#logger.info({ group, upstream: address }, 'relay: upstream connected');
      this.emit('upstreamConnected', { group, address });
    });
    client.on('disconnected', ({ address, details }) => {
      if (client.closed) return;
      this.#logger.warn(
        { group, upstream: address, details },
        'relay: upstream disconnected; serving what it holds',
      );
      this.emit('upstreamDisconnected', { group, address, details });
    });
    client.on('update', ({ typeUrl, version, updated, removed }) =>
      this.emit('upstreamUpdate', { group, typeUrl, version, updated, removed }),
    );
    client.on('nack', ({ typeUrl, message }) => {
      this.#logger.warn({ group, typeUrl, message }, 'relay: NACKed an upstream response it cannot take');
      this.emit('upstreamNack', { group, typeUrl, message });
    });
    this.#readiness.track(group, client, () => this.cache.answersEveryType(group));
    this.#upstreams.set(group, upstream);
  }

  /**
   * A group the cache has no watch of asks to open (after its key and `maxGroups` checks): a group whose upstream
   * stream is still open (idle) comes back free; a new one takes a token of `maxNewGroupsPerSecond` or is refused.
   */
  #admitGroup(group: string): void {
    if (this.#upstreams.has(group)) return;
    try {
      this.#rate.take(group);
    } catch (error) {
      this.#groupRefused(
        group,
        'maxNewGroupsPerSecond',
        error instanceof Error ? error.message : String(error),
      );
      throw error;
    }
  }

  /** Counts a refused group; of a run of refusals the 1st, 2nd, 4th, 8th, … are logged (a client chooses how many). */
  #groupRefused(group: string, limit: GroupLimitName, message: string): void {
    const count = ++this.#refused[limit];
    if ((count & (count - 1)) === 0) this.#logger.warn({ group, limit, refused: count }, `relay: ${message}`);
    this.emit('groupRefused', { group, limit, message });
  }

  #idleGroup(group: string): void {
    if (this.#closing !== undefined) return;
    const ms = this.#options.groupIdleMs ?? 60_000;
    const timer = setTimeout(() => this.#closeGroup(group), ms);
    timer.unref();
    this.#idle.set(group, timer);
  }

  /** Closes an idle group's upstream stream and forgets what it held. */
  #closeGroup(group: string): void {
    clearTimeout(this.#idle.get(group));
    this.#idle.delete(group);
    const upstream = this.#upstreams.get(group);
    this.#upstreams.delete(group);
    this.#readiness.forget(group);
    this.#slots.release(group);
    this.cache.forget(group);
    void upstream?.close();
    this.#logger.info({ group }, 'relay: group idle, upstream closed');
  }
}
