/**
 * `Relay`: the xDS fan-in tier. Downstream it is an `XdsServer` (SotW and delta, ADS and per-type) over a
 * {@link RelayCache}; upstream it holds one `@xds/client` stream per group of downstream nodes (rule X4). Versions and
 * bytes pass through (rules X1, X2); with no upstream it keeps serving what it holds and resumes without resends
 * (rule X3). A downstream NACK is that client's status on the relay; the relay NACKs upstream only when it cannot
 * decode a resource itself (X4).
 */
import { readFileSync } from 'node:fs';
import { resolveClientLimits } from '@xds/client';
import { type ListenOptions, type Logger, silentLogger, XdsServer } from '@xds/server';
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
import { defaultMaxGroupsPerPeer, defaultMaxNewGroupsPerSecondPerPeer, PeerRates } from './peer-share.js';
import { type Readiness, UpstreamReadiness } from './readiness.js';
import {
  defaultMaxNameBytesAllGroups,
  defaultMaxNameBytesPerGroup,
  defaultMaxResourceBytesAllGroups,
  type RelayBounds,
  ResourceBytesBudget,
} from './relay-budget.js';
import { RelayCache } from './relay-cache.js';
import { defaultMaxNamesPerGroup } from './relay-cache-types.js';
import type { GroupStatus, RelayEvents, RelayOptions } from './relay-options.js';
import { upstreamNode } from './upstream-node.js';

let version: string | undefined;
/** The relay's version (its package's), read once: the upstream nodes' user agent version. */
function relayVersion(): string {
  version ??= (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return version;
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
  readonly #refused: Record<GroupLimitName, number> = {
    maxGroups: 0,
    maxNewGroupsPerSecond: 0,
    maxResourceBytesAllGroups: 0,
    maxGroupsPerPeer: 0,
    maxNewGroupsPerSecondPerPeer: 0,
  };
  readonly #peerRates: PeerRates;
  readonly #bytes: ResourceBytesBudget;
  #closing: Promise<void> | undefined;

  /** Creates the relay; nothing listens until {@link listen}. */
  constructor(options: RelayOptions) {
    super();
    if (options.upstreams.length === 0) throw new RangeError('Relay: options.upstreams names no server');
    // Bad options are named now, not when the first group opens.
    resolveClientLimits(options.upstreamLimits, 'Relay: options.upstreamLimits');
    for (const name of [
      'maxGroups',
      'maxGroupsPerPeer',
      'maxNamesPerGroup',
      'maxNamesAllGroups',
      'maxNameBytesPerGroup',
      'maxNameBytesAllGroups',
      'maxResourceBytesAllGroups',
      'maxGroupKeyBytes',
      'readyGraceMs',
      'groupIdleMs',
      'upstreamAnswerWaitMs',
    ] as const)
      checkPositive(name, options[name]);
    checkPositive('maxNewGroupsPerSecond', options.maxNewGroupsPerSecond, false);
    checkPositive('maxNewGroupsPerSecondPerPeer', options.maxNewGroupsPerSecondPerPeer, false);
    this.#options = options;
    this.#maxGroups = options.maxGroups ?? defaultMaxGroups;
    this.#rate = new NewGroupRate(options.maxNewGroupsPerSecond ?? defaultMaxNewGroupsPerSecond);
    this.#peerRates = new PeerRates(
      options.maxNewGroupsPerSecondPerPeer ?? defaultMaxNewGroupsPerSecondPerPeer,
    );
    this.#bytes = new ResourceBytesBudget(
      options.maxResourceBytesAllGroups ?? defaultMaxResourceBytesAllGroups,
    );
    this.#logger = options.logger ?? silentLogger;
    this.#slots = new ConnectionSlots(options.groupsPerConnection ?? defaultGroupsPerConnection);
    this.groupBy = parseGroupBy(options.groupBy ?? 'node-id');
    this.cache = new RelayCache(
      this.groupBy,
      {
        groupOpened: (group) => this.#open(group),
        interestChanged: (group, typeUrl) => this.#upstreams.get(group)?.interestChanged(typeUrl),
        groupIdle: (group) => this.#idleGroup(group),
        admitGroup: (group, peer) => this.#admitGroup(group, peer),
        groupRefused: (group, limit, message) => this.#groupRefused(group, limit, message),
      },
      {
        maxGroups: this.#maxGroups,
        maxGroupsPerPeer: options.maxGroupsPerPeer ?? defaultMaxGroupsPerPeer,
        maxNamesPerGroup: options.maxNamesPerGroup ?? defaultMaxNamesPerGroup,
        ...(options.maxNamesAllGroups === undefined ? {} : { maxNamesAllGroups: options.maxNamesAllGroups }),
        maxNameBytesPerGroup: options.maxNameBytesPerGroup ?? defaultMaxNameBytesPerGroup,
        maxNameBytesAllGroups: options.maxNameBytesAllGroups ?? defaultMaxNameBytesAllGroups,
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
      maxGroupsPerPeer: this.cache.peers.max,
      maxNewGroupsPerSecondPerPeer: this.#peerRates.perSecond,
      refused: { ...this.#refused },
    };
  }

  /** What the relay holds across its groups against its relay-wide bounds, and their refusals (rule L2). */
  bounds(): RelayBounds {
    const names = this.cache.names;
    return {
      names: names.names,
      maxNamesAllGroups: names.maxAllGroups,
      nameBytes: names.bytes,
      maxNameBytesAllGroups: names.maxBytesAllGroups,
      resourceBytes: this.#bytes.total,
      maxResourceBytesAllGroups: this.#bytes.max,
      refused: { ...names.refused, maxResourceBytesAllGroups: this.#bytes.refused },
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
      bytes: this.#bytes,
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
   * A group the cache has no watch of asks to open (after its key, `maxGroupsPerPeer` and `maxGroups` checks): a
   * group whose upstream stream is still open (idle) comes back free; a new one takes a token of its peer's
   * `maxNewGroupsPerSecondPerPeer`, then of `maxNewGroupsPerSecond`, or is refused (the peer's token given back).
   */
  #admitGroup(group: string, peer: string | undefined): void {
    if (this.#upstreams.has(group)) return;
    this.#refuseIf(group, 'maxResourceBytesAllGroups', () => this.#bytes.checkNewGroup(group));
    this.#refuseIf(group, 'maxNewGroupsPerSecondPerPeer', () => this.#peerRates.take(peer, group));
    this.#refuseIf(group, 'maxNewGroupsPerSecond', () => {
      try {
        this.#rate.take(group);
      } catch (error) {
        this.#peerRates.giveBack(peer);
        throw error;
      }
    });
  }

  /** Runs a check that throws to refuse a group: a refusal is counted and logged, then thrown. */
  #refuseIf(group: string, limit: GroupLimitName, check: () => void): void {
    try {
      check();
    } catch (error) {
      this.#groupRefused(group, limit, error instanceof Error ? error.message : String(error));
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
    this.#bytes.forget(group);
    this.cache.forget(group);
    void upstream?.close();
    this.#logger.info({ group }, 'relay: group idle, upstream closed');
  }
}
