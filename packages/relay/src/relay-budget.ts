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

/**
 * The default of `maxNameBytesPerGroup` (`--max-name-bytes-per-group`): 8 MiB of names in one group's union of one
 * type, half an origin's default `maxRequestBytes` (16 MiB), so that the group's requests carrying the whole union
 * (SotW ones, every stream's first one) are never refused for their size.
 */
export const defaultMaxNameBytesPerGroup = 8 * 1024 * 1024;

/**
 * The default of `maxNameBytesAllGroups` (`--max-name-bytes-all-groups`): 64 MiB of names across every group's
 * unions. The downstream stream's subscription, the group's union, its pending change and the upstream client's
 * subscription share each name's string, so the bound is about that much memory beside the ~700 bytes a name
 * `maxNamesAllGroups` is sized by (an estimate: not measured separately).
 */
export const defaultMaxNameBytesAllGroups = 64 * 1024 * 1024;

/** A relay-wide limit a downstream stream or an upstream resource can be refused by. */
export type RelayBoundName =
  | 'maxNamesPerGroup'
  | 'maxNamesAllGroups'
  | 'maxNameBytesPerGroup'
  | 'maxNameBytesAllGroups'
  | 'maxResourceBytesAllGroups';

/** What the relay holds across groups against its relay-wide bounds, as `/debug/syncz` and `/metrics` show it. */
export interface RelayBounds {
  /** Names in every group's union of every type, together. */
  readonly names: number;
  /** The limit on {@link names}. */
  readonly maxNamesAllGroups: number;
  /** Bytes of the names in every group's union of every type, together. */
  readonly nameBytes: number;
  /** The limit on {@link nameBytes}. */
  readonly maxNameBytesAllGroups: number;
  /** Encoded bytes of the resources every group's upstream client holds, together. */
  readonly resourceBytes: number;
  /** The limit on {@link resourceBytes}. */
  readonly maxResourceBytesAllGroups: number;
  /**
   * Refusals since the relay started, by limit: downstream streams (`maxNamesPerGroup`, `maxNamesAllGroups`,
   * `maxNameBytesPerGroup`, `maxNameBytesAllGroups`) and upstream resources and new groups
   * (`maxResourceBytesAllGroups`).
   */
  readonly refused: { readonly [K in RelayBoundName]: number };
}

/** The bounds of a {@link NameBudget}. */
export interface NameBounds {
  /** Names of one group's union of one type. */
  readonly maxPerGroup: number;
  /** Names of every union together. */
  readonly maxAllGroups: number;
  /** Bytes of the names of one group's union of one type. */
  readonly maxBytesPerGroup: number;
  /** Bytes of the names of every union together. */
  readonly maxBytesAllGroups: number;
}

/**
 * Counts the names of every group's union together, in names and in bytes, and refuses a union that would pass a
 * bound. Bytes matter as much as names (review R1): a name may be up to the downstream server's `maxNameBytes` (16
 * KiB), so 50,000 names of a group were up to 800 MB, the whole union goes upstream in the group's requests (a SotW
 * request, and every stream's first request), and an origin refuses a request past its `maxRequestBytes` (16 MiB by
 * default): a group whose union grew past it, while its upstream was down or not, never got a stream again.
 */
export class NameBudget {
  /** The bound on one group's union of one type. */
  readonly maxPerGroup: number;
  /** The bound on every union together. */
  readonly maxAllGroups: number;
  /** The bound on the bytes of one group's union of one type. */
  readonly maxBytesPerGroup: number;
  /** The bound on the bytes of every union together. */
  readonly maxBytesAllGroups: number;
  readonly refused = {
    maxNamesPerGroup: 0,
    maxNamesAllGroups: 0,
    maxNameBytesPerGroup: 0,
    maxNameBytesAllGroups: 0,
  };
  #names = 0;
  #bytes = 0;

  constructor(bounds: NameBounds) {
    this.maxPerGroup = bounds.maxPerGroup;
    this.maxAllGroups = bounds.maxAllGroups;
    this.maxBytesPerGroup = bounds.maxBytesPerGroup;
    this.maxBytesAllGroups = bounds.maxBytesAllGroups;
  }

  /** Names in every union together. */
  get names(): number {
    return this.#names;
  }

  /** Bytes of the names in every union together. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A union gained (1) or lost (-1) a name of `bytes` bytes. */
  count(delta: 1 | -1, bytes: number): void {
    this.#names += delta;
    this.#bytes += delta * bytes;
  }

  /**
   * True when a union of `size` names of `bytes` bytes that may gain `gain` more names of `gainBytes` bytes stays
   * within every bound, without counting.
   */
  surelyFits(size: number, gain: number, bytes: number, gainBytes: number): boolean {
    return (
      size + gain <= this.maxPerGroup &&
      this.#names + gain <= this.maxAllGroups &&
      bytes + gainBytes <= this.maxBytesPerGroup &&
      this.#bytes + gainBytes <= this.maxBytesAllGroups
    );
  }

  /**
   * Throws RESOURCE_EXHAUSTED naming the bound when group's union of a type would go from `size` names of `bytes`
   * bytes to `next` names of `nextBytes` bytes past one: per group first, then across groups; names, then bytes.
   */
  check(group: string, typeUrl: TypeUrl, size: number, next: number, bytes: number, nextBytes: number): void {
    const refuse = (limit: keyof NameBudget['refused'], flag: string, max: number, what: string): never => {
      this.refused[limit]++;
      throw new XdsError(
        Code.ResourceExhausted,
        `this subscription would take ${what}, past the relay's limit ${limit} (--${flag} ${max}); the stream is ` +
          'refused, the group is not',
      );
    };
    const union = `group "${group}" to`;
    if (next > this.maxPerGroup)
      refuse(
        'maxNamesPerGroup',
        'max-names-per-group',
        this.maxPerGroup,
        `${union} ${next} names of ${typeUrl}`,
      );
    const total = this.#names + (next - size);
    if (next > size && total > this.maxAllGroups)
      refuse(
        'maxNamesAllGroups',
        'max-names-all-groups',
        this.maxAllGroups,
        `the relay to ${total} names across its groups (group "${group}", ${typeUrl})`,
      );
    if (nextBytes > this.maxBytesPerGroup && nextBytes > bytes)
      refuse(
        'maxNameBytesPerGroup',
        'max-name-bytes-per-group',
        this.maxBytesPerGroup,
        `${union} ${nextBytes} bytes of names of ${typeUrl}`,
      );
    const totalBytes = this.#bytes + (nextBytes - bytes);
    if (nextBytes > bytes && totalBytes > this.maxBytesAllGroups)
      refuse(
        'maxNameBytesAllGroups',
        'max-name-bytes-all-groups',
        this.maxBytesAllGroups,
        `the relay to ${totalBytes} bytes of names across its groups (group "${group}", ${typeUrl})`,
      );
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
