/**
 * How many groups a relay holds and how fast it opens new ones (rule L2). Every group costs an upstream stream, an
 * `@xds/client` and a snapshot (about 270 KB of RSS with small configurations), and makes the origin open a stream
 * and generate configuration for the node `relay~KEY`; a downstream client opens a new group just by naming a new
 * node id (or cluster, or metadata value, as `--group-by` reads). `maxGroups` bounds the groups held at once, idle
 * ones included; `maxNewGroupsPerSecond` bounds how fast new ones open, so that a client minting keys (each new group
 * evicting the oldest idle one) cannot churn upstream streams as fast as it can open downstream ones. Past either,
 * the downstream stream is refused with RESOURCE_EXHAUSTED naming the limit and its flag.
 */
import { Code, XdsError } from '@xds/api';

/** The default of `maxGroups` (`--max-groups`): groups, each with its upstream stream, held at once. */
export const defaultMaxGroups = 10_000;

/**
 * The default of `maxNewGroupsPerSecond` (`--max-new-groups-per-second`): new groups (new upstream streams) a second,
 * in bursts of up to one second's worth. A relay restarted under 5,000 node-id groups serves them all within 25 s
 * (clients refused meanwhile keep what they hold and retry), and an origin never sees more new streams than that.
 */
export const defaultMaxNewGroupsPerSecond = 200;

/**
 * A limit a new group can be refused by: `maxResourceBytesAllGroups` while the relay holds that many bytes of
 * resources across its groups (relay-budget.ts); the per-peer shares of groups (peer-share.ts).
 */
export type GroupLimitName =
  | 'maxGroups'
  | 'maxNewGroupsPerSecond'
  | 'maxResourceBytesAllGroups'
  | 'maxGroupsPerPeer'
  | 'maxNewGroupsPerSecondPerPeer';

/** The relay's groups and their limits, as metrics, `/debug/syncz` and the status page show them. */
export interface GroupCounts {
  /** Groups held: each has an upstream stream (active and idle). */
  readonly groups: number;
  /** Groups without a downstream watch, kept for `groupIdleMs` (they hold no resources). */
  readonly idle: number;
  /** Upstream HTTP/2 connections the groups' streams use (`groupsPerConnection` a connection at most). */
  readonly upstreamConnections: number;
  /** The limit on {@link groups}. */
  readonly maxGroups: number;
  /** The limit on new groups a second. */
  readonly maxNewGroupsPerSecond: number;
  /** Each downstream peer's share of the groups: groups it may have clients in (peer-share.ts). */
  readonly maxGroupsPerPeer: number;
  /** Each downstream peer's share of the new groups a second. */
  readonly maxNewGroupsPerSecondPerPeer: number;
  /** Downstream streams refused for a new group, by the limit that refused them, since the relay started. */
  readonly refused: { readonly [K in GroupLimitName]: number };
}

/**
 * A token bucket of new groups: `perSecond` tokens a second, holding at most one second's worth (and at least one
 * token), full at the start.
 */
export class NewGroupRate {
  /** The rate. */
  readonly perSecond: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  /** @param now a clock in ms (`performance.now` by default; tests give their own). */
  constructor(perSecond: number, now: () => number = () => performance.now()) {
    this.perSecond = perSecond;
    this.#capacity = Math.max(1, perSecond);
    this.#now = now;
    this.#tokens = this.#capacity;
    this.#at = now();
  }

  /** Takes a token for `group`, or throws an XdsError (RESOURCE_EXHAUSTED) naming the limit. */
  take(group: string): void {
    if (this.tryTake()) return;
    throw new XdsError(
      Code.ResourceExhausted,
      `the relay opens at most ${this.perSecond} new groups a second, its limit maxNewGroupsPerSecond ` +
        `(--max-new-groups-per-second ${this.perSecond}); group "${group}" is refused, try again later`,
    );
  }

  /** Takes a token: true, or false when there is none. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Gives back a token taken (the group was refused after all). */
  giveBack(): void {
    this.#tokens = Math.min(this.#capacity, this.#tokens + 1);
  }

  /** True when the bucket holds all it can: a new one would be the same. */
  full(): boolean {
    this.#refill();
    return this.#tokens >= this.#capacity;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#capacity,
      this.#tokens + (Math.max(0, now - this.#at) / 1000) * this.perSecond,
    );
    this.#at = now;
  }
}

/**
 * Throws an XdsError (InvalidArgument) naming `options.NAME` and the value unless `value` is absent or a positive
 * number (a whole one when `whole`).
 */
export function checkPositive(name: string, value: unknown, whole = true): void {
  if (value === undefined) return;
  const fine =
    typeof value === 'number' && value > 0 && (whole ? Number.isSafeInteger(value) : Number.isFinite(value));
  if (!fine)
    throw new XdsError(
      Code.InvalidArgument,
      `Relay: options.${name} must be a positive ${whole ? 'whole ' : ''}number, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
    );
}
