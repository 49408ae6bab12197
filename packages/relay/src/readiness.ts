/**
 * When a relay is ready (`/readyz`): when it can serve, not merely when a channel to its origin is up. The rule:
 * 1. draining: not ready;
 * 2. some group's upstream is **live**: ready. A group is live while its current upstream stream is connected and
 *    has received a response, or, after a reconnect, has stayed open `stableMs` while the group already holds an
 *    answer of every type it subscribes to (an origin holding the same versions need not answer again, S13 / D6);
 * 3. no group is live: ready only when the origin answers a gRPC health check (origin-probe.ts) and, when there are
 *    groups, some group has been without a live upstream for less than `graceMs` (it is still starting). No group
 *    at all needs the probe alone, so a new relay becomes ready before its first client.
 * A relay that is not ready keeps serving what it holds to the clients it has (rule X3): readiness only steers new
 * clients to a relay that can reach its origin. One group that fails while others are live does not make the relay
 * unready: a single client can make its own group fail (a type the origin never answers), and must not take the
 * relay out of service for everyone.
 */
import type { XdsClient } from '@xds/client';
import type { OriginProbe } from './origin-probe.js';

/** What `/readyz` says. */
export interface Readiness {
  readonly ready: boolean;
  /** One line for people: why. */
  readonly reason: string;
}

/** Options of {@link UpstreamReadiness}. */
export interface ReadinessOptions {
  /** How long a group may be without a live upstream before it counts as failing (ms); default 30,000. */
  readonly graceMs?: number;
  /** How long a resumed stream that got no response must stay open to count as live (ms); default 1,000. */
  readonly stableMs?: number;
}

interface GroupState {
  readonly client: XdsClient;
  /** True once the group holds an answer of every type it subscribes to. */
  readonly answered: () => boolean;
  /** When the current stream connected, or undefined while it is not. */
  connectedAt: number | undefined;
  /** True once the current stream received a response. */
  responded: boolean;
  /** When the group last stopped being live (or was opened). */
  downSince: number;
}

/** Follows each group's upstream stream and answers {@link UpstreamReadiness.check}. */
export class UpstreamReadiness {
  readonly #probe: OriginProbe;
  readonly #graceMs: number;
  readonly #stableMs: number;
  readonly #groups = new Map<string, GroupState>();

  constructor(probe: OriginProbe, options: ReadinessOptions = {}) {
    this.#probe = probe;
    this.#graceMs = options.graceMs ?? 30_000;
    this.#stableMs = options.stableMs ?? 1000;
  }

  /** Follows a group's upstream client; `answered` says whether the group holds an answer of every type it wants. */
  track(group: string, client: XdsClient, answered: () => boolean): void {
    const state: GroupState = {
      client,
      answered,
      connectedAt: undefined,
      responded: false,
      downSince: Date.now(),
    };
    this.#groups.set(group, state);
    const responded = () => {
      state.responded = true;
    };
    client.on('connected', () => {
      state.connectedAt = Date.now();
    });
    client.on('ack', responded);
    client.on('nack', responded);
    client.on('disconnected', () => {
      if (this.#live(state)) state.downSince = Date.now();
      state.connectedAt = undefined;
      state.responded = false;
    });
  }

  /** Stops following a group (it closed). */
  forget(group: string): void {
    this.#groups.delete(group);
  }

  /** The groups whose upstream is live now. */
  liveGroups(): number {
    let live = 0;
    for (const state of this.#groups.values()) if (this.#live(state)) live++;
    return live;
  }

  /** The readiness rule (see the file's comment). */
  async check(draining: boolean): Promise<Readiness> {
    if (draining) return { ready: false, reason: 'draining' };
    const groups = this.#groups.size;
    const live = this.liveGroups();
    if (live > 0) return { ready: true, reason: `${live} of ${groups} groups have a live upstream stream` };
    const now = Date.now();
    let starting = 0;
    for (const state of this.#groups.values()) if (now - state.downSince < this.#graceMs) starting++;
    if (groups > 0 && starting === 0)
      return {
        ready: false,
        reason: `none of ${groups} groups has had a live upstream stream for ${this.#graceMs} ms or more`,
      };
    const probe = await this.#probe.check();
    if (!probe.reachable) return { ready: false, reason: `no upstream reachable: ${probe.detail}` };
    return {
      ready: true,
      reason:
        groups === 0
          ? `no group yet; upstream reachable (${probe.detail})`
          : `${starting} of ${groups} groups starting; upstream reachable (${probe.detail})`,
    };
  }

  /** Live by the state events tell (`connectedAt` is cleared only after `disconnected` asked whether it was live). */
  #live(state: GroupState): boolean {
    if (state.connectedAt === undefined) return false;
    if (state.responded) return true;
    return state.answered() && Date.now() - state.connectedAt >= this.#stableMs;
  }
}
