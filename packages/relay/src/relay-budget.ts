/**
 * The relay's bounds across every group (rule L2; probe5 P2). A group's own bounds (`maxNamesPerGroup` per type,
 * the upstream client's `maxResourceBytesTotal`) multiply by groups, and a downstream client opens a group just by
 * naming a new node id: 10,000 groups × 50,000 names allowed 5×10^8 names, and 12 groups of 50,000 names took the
 * relay 147 → 555 MiB (about 700 bytes of relay memory a name: the downstream stream's subscription, the group's
 * union, its pending change, the upstream client's subscription); 30 groups each answered a 14.4 MB CDS took it to
 * 727 MiB (a resource costs about 4× its encoded size: the client's bytes and decoded message, the snapshot entry).
 *
 * - {@link NameBudget}: the names of every group's union of every type together, `maxNamesAllGroups`, checked where
 *   a group's union is checked against `maxNamesPerGroup` (relay-cache.ts): a downstream subscription that would
 *   pass either ends that stream with RESOURCE_EXHAUSTED naming the limit; other streams and groups are untouched.
 * - {@link ResourceBytesBudget}: the encoded bytes every group's upstream client holds together,
 *   `maxResourceBytesAllGroups`. An upstream resource that would take the relay past it is rejected (the response is
 *   NACKed upstream naming the limit, what the group held of that name stays); while the relay holds that much, a
 *   node of a new group is refused with RESOURCE_EXHAUSTED naming it (the group could be served nothing).
 *
 * The defaults, sized to memory: 500,000 names × ~700 B ≈ 350 MiB (measured: 10 groups of 50,000 names of 100 bytes,
 * relay 147 → 470 MiB), and 128 MiB of resources × 4 to 8 ≈ 0.5 to 1 GiB (a resource costs about 4× its encoded size,
 * up to 8× when it is mostly a long name; measured: 18 groups of 7.2 MB of clusters with 16,000-byte names, relay
 * 150 → 1,188 MiB with every downstream answer unread); with the process's ~150 MiB they fit a 2 GiB pod. Raise both
 * with the pod's memory.
 */
import { Code, type TypeUrl, XdsError } from '@xds/api';

/** The default of `maxNamesAllGroups` (`--max-names-all-groups`): about 350 MiB of relay memory at ~700 B a name. */
export const defaultMaxNamesAllGroups = 500_000;

/**
 * The default of `maxResourceBytesAllGroups` (`--max-resource-bytes-all-groups`): 128 MiB of encoded resources, 0.5 to
 * 1 GiB of relay memory; one group may still reach its client's own default `maxResourceBytesTotal` (128 MiB).
 */
export const defaultMaxResourceBytesAllGroups = 128 * 1024 * 1024;

/** A relay-wide limit a downstream stream or an upstream resource can be refused by. */
export type RelayBoundName = 'maxNamesPerGroup' | 'maxNamesAllGroups' | 'maxResourceBytesAllGroups';

/** What the relay holds across groups against its relay-wide bounds, as `/debug/syncz` and `/metrics` show it. */
export interface RelayBounds {
  /** Names in every group's union of every type, together. */
  readonly names: number;
  /** The limit on {@link names}. */
  readonly maxNamesAllGroups: number;
  /** Encoded bytes of the resources every group's upstream client holds, together. */
  readonly resourceBytes: number;
  /** The limit on {@link resourceBytes}. */
  readonly maxResourceBytesAllGroups: number;
  /**
   * Refusals since the relay started, by limit: downstream streams (`maxNamesPerGroup`, `maxNamesAllGroups`) and
   * upstream resources and new groups (`maxResourceBytesAllGroups`).
   */
  readonly refused: { readonly [K in RelayBoundName]: number };
}

/** Counts the names of every group's union together, and refuses a union that would pass either name bound. */
export class NameBudget {
  /** The bound on one group's union of one type. */
  readonly maxPerGroup: number;
  /** The bound on every union together. */
  readonly maxAllGroups: number;
  readonly refused = { maxNamesPerGroup: 0, maxNamesAllGroups: 0 };
  #names = 0;

  constructor(maxPerGroup: number, maxAllGroups: number) {
    this.maxPerGroup = maxPerGroup;
    this.maxAllGroups = maxAllGroups;
  }

  /** Names in every union together. */
  get names(): number {
    return this.#names;
  }

  /** A union gained (1) or lost (-1) a name. */
  count(delta: 1 | -1): void {
    this.#names += delta;
  }

  /** True when a union of `size` names that may gain `gain` more stays within both bounds, without counting. */
  surelyFits(size: number, gain: number): boolean {
    return size + gain <= this.maxPerGroup && this.#names + gain <= this.maxAllGroups;
  }

  /**
   * Throws RESOURCE_EXHAUSTED naming the bound when group's union of a type would go from `size` to `next` names
   * past one: `maxNamesPerGroup` first, then `maxNamesAllGroups`.
   */
  check(group: string, typeUrl: TypeUrl, size: number, next: number): void {
    if (next > this.maxPerGroup) {
      this.refused.maxNamesPerGroup++;
      throw new XdsError(
        Code.ResourceExhausted,
        `this subscription would take group "${group}" to ${next} names of ${typeUrl}, past the relay's limit ` +
          `maxNamesPerGroup (--max-names-per-group ${this.maxPerGroup}); the stream is refused, the group is not`,
      );
    }
    const total = this.#names + (next - size);
    if (next > size && total > this.maxAllGroups) {
      this.refused.maxNamesAllGroups++;
      throw new XdsError(
        Code.ResourceExhausted,
        `this subscription would take the relay to ${total} names across its groups (group "${group}", ` +
          `${typeUrl}), past its limit maxNamesAllGroups (--max-names-all-groups ${this.maxAllGroups}); the ` +
          'stream is refused, the group is not',
      );
    }
  }
}

/** What {@link ResourceBytesBudget} needs of a group's upstream client. */
export interface HeldResources {
  /** The encoded bytes the client holds across types. */
  heldBytes(): number;
  /** The encoded size of the resource the client holds of `name`, 0 when none. */
  heldSize(typeUrl: string, name: string): number;
}

/**
 * The encoded bytes every group's upstream client holds together, against `maxResourceBytesAllGroups`. Each group
 * reports what its client holds after each response ({@link settle}); while a response is judged, what its
 * resources would add is counted against what the other groups and the group itself hold ({@link admit}).
 */
export class ResourceBytesBudget {
  /** The bound. */
  readonly max: number;
  readonly #held = new Map<string, number>();
  #total = 0;
  /** Resources rejected and new groups refused for the bound. */
  refused = 0;
  /** Per group, what the response being judged adds so far. */
  readonly #pending = new Map<string, number>();
  /** A resource was refused, and the relay has held no less since: it is as full as it gets. */
  #refusing = false;

  constructor(max: number) {
    this.max = max;
  }

  /** The encoded bytes every group's client holds. */
  get total(): number {
    return this.#total;
  }

  /**
   * True when the relay holds its bound, or refused a resource and has held no less since (what it holds then stays
   * just under the bound): a new group could be served nothing.
   */
  full(): boolean {
    return this.#total >= this.max || this.#refusing;
  }

  /**
   * One resource of a response a group's client is judging: undefined when the relay may take it, else why not
   * (naming the bound). What it replaces of the same name is counted off; the names a SotW response leaves out
   * (removed) are not, so near the bound a response is judged as if it removed nothing.
   */
  admit(
    group: string,
    client: HeldResources,
    typeUrl: string,
    name: string,
    bytes: number,
  ): string | undefined {
    const growth = bytes - client.heldSize(typeUrl, name);
    const pending = this.#pending.get(group) ?? 0;
    const would = this.#total + pending + growth;
    if (growth > 0 && would > this.max) {
      this.refused++;
      this.#refusing = true;
      return (
        `the relay would hold ${would} bytes of resources across its groups, past its limit ` +
        `maxResourceBytesAllGroups (--max-resource-bytes-all-groups ${this.max})`
      );
    }
    this.#pending.set(group, pending + growth);
    return undefined;
  }

  /** A group's response was handled (ACKed or NACKed): what its client holds now is counted. */
  settle(group: string, client: HeldResources): void {
    this.#pending.delete(group);
    const now = client.heldBytes();
    const before = this.#held.get(group) ?? 0;
    if (now < before) this.#refusing = false;
    this.#total += now - before;
    this.#held.set(group, now);
  }

  /** A group is gone: what it held is counted off. */
  forget(group: string): void {
    this.#pending.delete(group);
    if ((this.#held.get(group) ?? 0) > 0) this.#refusing = false;
    this.#total -= this.#held.get(group) ?? 0;
    this.#held.delete(group);
  }

  /** Throws RESOURCE_EXHAUSTED naming the bound when the relay holds it already (a new group is refused). */
  checkNewGroup(group: string): void {
    if (!this.full()) return;
    this.refused++;
    throw new XdsError(
      Code.ResourceExhausted,
      `the relay holds ${this.#total} bytes of resources across its groups, its limit maxResourceBytesAllGroups ` +
        `(--max-resource-bytes-all-groups ${this.max}); group "${group}" is refused, try another relay or later`,
    );
  }
}
