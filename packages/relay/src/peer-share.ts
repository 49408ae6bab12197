/**
 * Each downstream peer's share of the relay's groups (rule L2; review Q6). `maxGroups` and `maxNewGroupsPerSecond`
 * are relay-wide: before these shares one peer minting node ids took the whole of both, and no other peer could open
 * a group (a new node, a new cluster) until it stopped. A peer is what the downstream server's per-peer limits count:
 * an IPv4 address, or an IPv6 address's /64 (one host holds a whole /64; `WatchOptions.peer`).
 *
 * - {@link PeerGroups}: the groups a peer has a downstream watch in, at most `maxGroupsPerPeer`. A group counts for
 *   every peer with a watch in it, and stops counting when the peer's last watch in it ends: a group whose clients
 *   left (idle, kept `groupIdleMs` and then freed) is in no peer's share.
 * - {@link PeerRates}: the new groups a peer opens, at most `maxNewGroupsPerSecondPerPeer`, a token bucket per peer
 *   taken before the relay-wide one (and given back when the relay-wide one refuses).
 */
import { Code, XdsError } from '@xds/api';
import { NewGroupRate } from './group-admission.js';

/** The default of `maxGroupsPerPeer` (`--max-groups-per-peer`): as many as a peer's connections (1,024). */
export const defaultMaxGroupsPerPeer = 1_024;

/**
 * The default of `maxNewGroupsPerSecondPerPeer` (`--max-new-groups-per-second-per-peer`): a quarter of the relay-wide
 * default, so that a peer at its limit leaves three quarters of the new groups to the others.
 */
export const defaultMaxNewGroupsPerSecondPerPeer = 50;

/** Buckets of peers kept before the full ones (peers that opened nothing for a second) are dropped. */
const maxIdleBuckets = 1_024;

/** The groups each peer has watches in, against `maxGroupsPerPeer`. */
export class PeerGroups {
  /** The limit. */
  readonly max: number;
  /** Per peer, per group, its watches there. */
  readonly #peers = new Map<string, Map<string, number>>();

  constructor(max: number) {
    this.max = max;
  }

  /** How many groups `peer` has watches in. */
  groupsOf(peer: string): number {
    return this.#peers.get(peer)?.size ?? 0;
  }

  /**
   * Throws RESOURCE_EXHAUSTED naming the limit when a watch of `peer` in `group` would take the peer past its share
   * (a peer already in the group takes nothing more). An unknown peer (undefined) has no share.
   */
  check(peer: string | undefined, group: string): void {
    if (peer === undefined) return;
    const groups = this.#peers.get(peer);
    if (groups === undefined || groups.has(group) || groups.size < this.max) return;
    throw new XdsError(
      Code.ResourceExhausted,
      `peer ${peer} has clients in ${groups.size} groups, its share maxGroupsPerPeer (--max-groups-per-peer ` +
        `${this.max}) of the relay's groups; group "${group}" is refused`,
    );
  }

  /** A watch of `peer` in `group` began (+1) or ended (-1). */
  count(peer: string | undefined, group: string, delta: 1 | -1): void {
    if (peer === undefined) return;
    let groups = this.#peers.get(peer);
    if (groups === undefined) {
      if (delta < 0) return;
      groups = new Map();
      this.#peers.set(peer, groups);
    }
    const watches = (groups.get(group) ?? 0) + delta;
    if (watches > 0) groups.set(group, watches);
    else groups.delete(group);
    if (groups.size === 0) this.#peers.delete(peer);
  }
}

/** A token bucket of new groups per peer, `maxNewGroupsPerSecondPerPeer`. */
export class PeerRates {
  /** The rate of each peer. */
  readonly perSecond: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, NewGroupRate>();

  /** @param now a clock in ms (`performance.now` by default). */
  constructor(perSecond: number, now: () => number = () => performance.now()) {
    this.perSecond = perSecond;
    this.#now = now;
  }

  /** Takes a token of `peer` for `group`, or throws RESOURCE_EXHAUSTED naming the limit. */
  take(peer: string | undefined, group: string): void {
    if (peer === undefined) return;
    let bucket = this.#buckets.get(peer);
    if (bucket === undefined) {
      if (this.#buckets.size >= maxIdleBuckets) this.#dropFull();
      bucket = new NewGroupRate(this.perSecond, this.#now);
      this.#buckets.set(peer, bucket);
    }
    if (bucket.tryTake()) return;
    throw new XdsError(
      Code.ResourceExhausted,
      `peer ${peer} opens at most ${this.perSecond} new groups a second, its share ` +
        `maxNewGroupsPerSecondPerPeer (--max-new-groups-per-second-per-peer ${this.perSecond}); group "${group}" ` +
        'is refused, try again later',
    );
  }

  /** Gives back the token `peer` took (the relay-wide rate refused the group). */
  giveBack(peer: string | undefined): void {
    if (peer !== undefined) this.#buckets.get(peer)?.giveBack();
  }

  /** Drops the buckets that refilled: their peers opened nothing lately, and a new bucket starts full. */
  #dropFull(): void {
    for (const [peer, bucket] of this.#buckets) if (bucket.full()) this.#buckets.delete(peer);
  }
}
