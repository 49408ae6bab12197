/**
 * Spreads the relay's groups over upstream HTTP/2 connections. grpc-js shares one connection (subchannel) between
 * every channel to the same address with equal channel options, so without this all groups' upstream streams ride
 * one connection, and an origin caps the streams of a connection (`maxStreamsPerConnection`, 100 by default): the
 * groups past the cap would get nothing (rule X4 needs every group's stream). Each group gets a slot number, at most
 * `perConnection` groups per slot, and passes it as a channel option, so groups of different slots never share a
 * connection.
 */

/** The channel option that tells grpc-js which upstream connection a group's stream belongs to. */
export const connectionSlotOption = 'xds.relay.connection';

/** The default number of groups sharing one upstream connection: half an origin's default per-connection cap. */
export const defaultGroupsPerConnection = 50;

/** Assigns groups to upstream connection slots, the lowest slot with room first. */
export class ConnectionSlots {
  readonly #perConnection: number;
  readonly #used: number[] = [];
  readonly #slotOf = new Map<string, number>();

  /** @param perConnection the most groups on one upstream connection (at least 1). */
  constructor(perConnection: number) {
    if (!Number.isInteger(perConnection) || perConnection < 1)
      throw new RangeError(`groupsPerConnection must be a whole number from 1, not ${perConnection}`);
    this.#perConnection = perConnection;
  }

  /** The slot of a group, assigning one the first time. */
  acquire(group: string): number {
    const held = this.#slotOf.get(group);
    if (held !== undefined) return held;
    let slot = this.#used.findIndex((count) => count < this.#perConnection);
    if (slot === -1) {
      slot = this.#used.length;
      this.#used.push(0);
    }
    this.#used[slot] = (this.#used[slot] ?? 0) + 1;
    this.#slotOf.set(group, slot);
    return slot;
  }

  /** Frees a group's slot (its upstream stream closed). */
  release(group: string): void {
    const slot = this.#slotOf.get(group);
    if (slot === undefined) return;
    this.#slotOf.delete(group);
    this.#used[slot] = (this.#used[slot] ?? 1) - 1;
  }

  /** How many connection slots hold groups now. */
  connections(): number {
    return this.#used.filter((count) => count > 0).length;
  }
}
