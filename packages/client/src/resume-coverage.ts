/**
 * What the `version_info` a SotW client presents on a new stream may claim (rule S13). A server may leave that first
 * request unanswered when the version is its current one, and Envoy's xds_protocol.rst allows it only when the
 * client subscribes to nothing it was not subscribed to before. So the version presented must be the version of the
 * whole state the client holds of the type, and that state must be complete for the subscription asked: the
 * version last accepted, and only while what it was accepted for covers the subscription. Otherwise the client
 * presents `''` and the server answers in full. This tracks what the held state is complete for:
 *
 * - A response answers the subscription the server knew when it sent it, which may be older than the one the client
 *   told since (a push crosses the request). So an accepted response is taken to cover only the *floor* of its
 *   stream: the subscription told on the stream's first request, less every name dropped since (what was added
 *   since may not have reached the server).
 * - A name dropped (or the wildcard left) leaves what is covered: its resource was forgotten.
 * - A NACK that applied part of a response leaves no version describing what is held (it mixes two): nothing is
 *   covered until a response is accepted. After any NACK of a type whose SotW responses carry only changes (all but
 *   Listener and Cluster), the server counts the rejected resources as sent and will not send them again unless they
 *   change, so nothing later on that stream covers anything either; Listener and Cluster responses carry the whole
 *   set, so the next one accepted covers its floor again.
 *
 * Delta presents the version of each resource held instead (rule D6) and needs none of this.
 */
import type { Subscription } from './type-state.js';

/** A subscription as a mutable set: names and the wildcard. */
interface Cover {
  wildcard: boolean;
  readonly names: Set<string>;
}

const nothing = (): Cover => ({ wildcard: false, names: new Set() });

/** What a type's held state is complete for, at the version last accepted. O(1) per change, O(names) per stream. */
export class ResumeCoverage {
  /** What every response of the current stream answers at least. */
  #floor: Cover = nothing();
  /** What the held state is complete for at the version last accepted; undefined when no version describes it. */
  #covered: Cover | undefined;

  /** A new stream: nothing it answers is known until its first request of the type is built. */
  reset(): void {
    this.#floor = nothing();
  }

  /** The stream's first request of the type tells `subscription`: its responses answer at least that (a copy). */
  told(subscription: Subscription): void {
    this.#floor = { wildcard: subscription.wildcard, names: new Set(subscription.names) };
  }

  /** A name left the subscription: its resource is forgotten, so neither the stream nor the held state covers it. */
  dropped(name: string): void {
    this.#floor.names.delete(name);
    this.#covered?.names.delete(name);
  }

  /** The wildcard left the subscription: what it alone held is forgotten. */
  leftWildcard(): void {
    this.#floor.wildcard = false;
    if (this.#covered !== undefined) this.#covered.wildcard = false;
  }

  /** A response was accepted: the held state is complete, at its version, for the stream's floor (shared, O(1)). */
  accepted(): void {
    this.#covered = this.#floor;
  }

  /**
   * A response was NACKed. `applied`: part of it was applied (no version describes what is held). `changesOnly`:
   * the type's responses carry only changes, so the rest of the stream covers nothing.
   */
  rejected(applied: boolean, changesOnly: boolean): void {
    if (applied) this.#covered = undefined;
    if (changesOnly) this.#floor = nothing();
  }

  /**
   * True when the held state is complete for `subscription`: a wildcard only if the wildcard is covered, and every
   * name covered by name, or held under a covered wildcard. O(names).
   */
  covers(subscription: Subscription, held: ReadonlyMap<string, unknown>): boolean {
    const covered = this.#covered;
    if (covered === undefined || (subscription.wildcard && !covered.wildcard)) return false;
    for (const name of subscription.names)
      if (!covered.names.has(name) && !(covered.wildcard && held.has(name))) return false;
    return true;
  }
}
