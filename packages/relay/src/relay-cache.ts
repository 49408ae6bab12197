/**
 * The relay's cache: a SnapshotCache with one snapshot per group, filled from upstream (not from a model). It adds
 * three things to SnapshotCache:
 * - entries are built from the upstream's bytes (`encodeResource(message, { bytes })`, rule X2) and carry the
 *   origin's type versions (rule X1), so downstream clients see what the origin would have sent them;
 * - a type is served only once the upstream answered it for the group (an empty view is not "no clusters"), and
 *   only while the view covers what the group's watches subscribe to: when the group's union gains the wildcard or
 *   a name, every watch of the type waits until the upstream answers the request asking for it (group-answers.ts;
 *   a wildcard watch answered from a by-name or emptied view would be told that the other clusters are deleted,
 *   under the origin's version of the full set: probe5 P1);
 * - it counts what the group's watches subscribe to and reports the union per type (rule X4), so the group's one
 *   upstream stream asks for exactly that;
 * - it bounds that union (rule L2): a downstream subscription that would take a group's names of one type past
 *   `maxNamesPerGroup` (or its names' bytes past `maxNameBytesPerGroup`), or every group's names together past
 *   `maxNamesAllGroups` (or `maxNameBytesAllGroups`; relay-budget.ts, review R1), ends THAT
 *   stream with RESOURCE_EXHAUSTED naming the limit; the group's upstream never asks the origin for more (an origin
 *   refuses a request past its own maxNamesPerRequest, which would stop the group).
 */
import { Code, type Node, type TypeUrl, XdsError } from '@xds/api';
import {
  type DeltaWatch,
  encodeResource,
  type ResourceView,
  Snapshot,
  SnapshotCache,
  type SotwWatch,
  type SubscriptionChange,
  type Watch,
  type WatchOptions,
} from '@xds/cache';
import type { XdsResource } from '@xds/client';
import { defaultMaxGroups } from './group-admission.js';
import { GroupAnswers } from './group-answers.js';
import type { GroupBy } from './group-by.js';
import { checkGroupKey, defaultMaxGroupKeyBytes } from './group-key.js';
import { defaultMaxGroupsPerPeer, PeerGroups } from './peer-share.js';
import {
  defaultMaxNameBytesAllGroups,
  defaultMaxNameBytesPerGroup,
  defaultMaxNamesAllGroups,
  NameBudget,
} from './relay-budget.js';
import {
  defaultMaxNamesPerGroup,
  type Interest,
  type InterestChange,
  type RelayCacheHooks,
  type RelayCacheLimits,
} from './relay-cache-types.js';
import { type Counts, checkUnion, countName, type Pending } from './union-counts.js';

interface Indexed {
  readonly group: string;
  /** The watch's stream's peer, whose share of groups it counts in (peer-share.ts). */
  readonly peer: string | undefined;
  wildcard: boolean;
  readonly names: Set<string>;
}

/** A SnapshotCache keyed by relay group, filled from upstream. */
export class RelayCache extends SnapshotCache {
  readonly #hooks: RelayCacheHooks;
  readonly #maxGroups: number;
  /** The names of every group's union against `maxNamesPerGroup` and `maxNamesAllGroups`. */
  readonly names: NameBudget;
  /** The groups each downstream peer has watches in, against `maxGroupsPerPeer` (rule L2, review Q6). */
  readonly peers: PeerGroups;
  readonly #maxGroupKeyBytes: number;
  readonly #groupValueRequired: boolean;
  readonly #groupBy: GroupBy;
  readonly #indexed = new Map<Watch, Indexed>();
  readonly #groups = new Map<
    string,
    { readonly watches: Set<Watch>; readonly counts: Map<TypeUrl, Counts> }
  >();
  /** Per group, the types the upstream answered at least once. */
  readonly #ready = new Map<string, Set<TypeUrl>>();
  /**
   * Per group, the types whose view does not cover the group's subscriptions until the upstream answers, and which
   * requests are unanswered (the group's upstream tells it of its stream; the cache of answers and waits over).
   */
  readonly answers = new GroupAnswers();
  /** Per group and type, what its union gained and lost since its upstream last took it; kept until forget(). */
  readonly #pending = new Map<string, Map<TypeUrl, Pending>>();

  /**
   * @param groupBy how nodes are grouped: a group's key is its snapshot key.
   * @param limits what the cache bounds (rule L2).
   */
  constructor(groupBy: GroupBy, hooks: RelayCacheHooks, limits: RelayCacheLimits = {}) {
    super({ nodeKey: (node) => groupBy.keyOf(node) });
    this.#groupBy = groupBy;
    this.#hooks = hooks;
    this.#maxGroups = limits.maxGroups ?? defaultMaxGroups;
    this.names = new NameBudget({
      maxPerGroup: limits.maxNamesPerGroup ?? defaultMaxNamesPerGroup,
      maxAllGroups: limits.maxNamesAllGroups ?? defaultMaxNamesAllGroups,
      maxBytesPerGroup: limits.maxNameBytesPerGroup ?? defaultMaxNameBytesPerGroup,
      maxBytesAllGroups: limits.maxNameBytesAllGroups ?? defaultMaxNameBytesAllGroups,
    });
    this.peers = new PeerGroups(limits.maxGroupsPerPeer ?? defaultMaxGroupsPerPeer);
    this.#maxGroupKeyBytes = limits.maxGroupKeyBytes ?? defaultMaxGroupKeyBytes;
    this.#groupValueRequired = limits.groupValueRequired ?? false;
  }

  /** The groups that have watches. */
  groups(): string[] {
    return [...this.#groups.keys()];
  }

  /** The union of a group's subscriptions of a type. */
  interest(group: string, typeUrl: TypeUrl): Interest {
    const counts = this.#groups.get(group)?.counts.get(typeUrl);
    return { wildcard: (counts?.wildcard ?? 0) > 0, names: new Set(counts?.names.keys() ?? []) };
  }

  /** True when the upstream answered, for the group, every type its watches subscribe to, at least once. */
  answersEveryType(group: string): boolean {
    for (const [typeUrl, counts] of this.#groups.get(group)?.counts ?? [])
      if ((counts.wildcard > 0 || counts.names.size > 0) && !this.#answeredOnce(group, typeUrl)) return false;
    return true;
  }

  /**
   * True when the group's view of the type may be served: the upstream answered the type, and answered every
   * request that asked for what the group's watches subscribe to now (no wildcard or name still awaited).
   */
  isReady(group: string, typeUrl: TypeUrl): boolean {
    return this.#answeredOnce(group, typeUrl) && !this.answers.awaiting(group, typeUrl);
  }

  /**
   * The group's upstream took the type's interest change ({@link takeInterestChange}): `sent` when it sent a
   * request upstream; `where` it went while the stream, opened again, has not answered the type (GroupAnswers). A
   * gain that came to nothing stops waiting at once.
   */
  flushed(group: string, typeUrl: TypeUrl, sent: boolean, where?: 'first' | 'afterFirst'): void {
    if (this.answers.flushed(group, typeUrl, sent, where)) this.#release(group, typeUrl);
  }

  /**
   * A response of the type came from the group's upstream (accepted or NACKed, and applied) after the requests it
   * sent before it (group-answers.ts says which), or `answerWaitMs` passed since the oldest of them on a connected
   * stream (`waitOver`: a delta origin need not answer a subscription that brings nothing new). When they are all
   * answered, the view covers them, and the watches held back may answer, even with nothing (rule S7a).
   */
  upstreamAnswered(group: string, typeUrl: TypeUrl, waitOver = false): void {
    // The wait stands for an answer only where the origin answered the type before: a group it never answered has
    // nothing to serve, and an empty answer to a wildcard would tell the client every resource is gone (probe7 N3:
    // a jammed upstream made a new node's wildcard CDS answer empty, with 2,000 clusters at the origin).
    if (waitOver && !this.#answeredOnce(group, typeUrl)) return;
    const answers = this.answers;
    if (!(waitOver ? answers.waitOver(group, typeUrl) : answers.answered(group, typeUrl))) return;
    this.#readyOf(group).add(typeUrl);
    this.#release(group, typeUrl);
  }

  /**
   * Applies an accepted upstream response to a group's snapshot: `upserts` by their received bytes (rule X2),
   * `removed` dropped, the type's version set to the origin's (rule X1; a content hash when it gave none).
   */
  apply(
    group: string,
    typeUrl: TypeUrl,
    version: string,
    upserts: readonly XdsResource[],
    removed: readonly string[],
  ): void {
    // O(the change), however many resources the group holds: only the new messages are frozen (by encodeResource),
    // and the snapshot's map of the type is shared with the previous one, not copied (Snapshot.change).
    const entries = upserts.map((resource) =>
      encodeResource(resource.message, { bytes: resource.bytes, name: resource.name }),
    );
    const current = this.getSnapshot(group) ?? Snapshot.create([]);
    const next = current.change(typeUrl, entries, removed, version === '' ? undefined : version);
    const ready = this.#readyOf(group);
    const first = !ready.has(typeUrl);
    ready.add(typeUrl);
    if (next !== current || this.getSnapshot(group) === undefined) this.setSnapshot(group, next);
    // While the view does not cover the subscriptions, upstreamAnswered() releases the watches.
    if (first && !this.answers.awaiting(group, typeUrl)) this.#release(group, typeUrl);
  }

  /** Forgets a group's snapshot and readiness (the group is gone). */
  forget(group: string): void {
    this.#ready.delete(group);
    this.answers.forget(group);
    this.#pending.delete(group);
    this.clearSnapshot(group);
  }

  override watchSotw(options: WatchOptions): SotwWatch {
    this.#admit(options.node, options.peer);
    return this.#track(super.watchSotw(options), options);
  }

  override watchDelta(options: WatchOptions): DeltaWatch {
    this.#admit(options.node, options.peer);
    return this.#track(super.watchDelta(options), options);
  }

  /** A type the upstream has not answered for the group yet has no view: its watches wait. */
  override view(key: string, typeUrl: TypeUrl): ResourceView | undefined {
    return this.isReady(key, typeUrl) ? super.view(key, typeUrl) : undefined;
  }

  /**
   * Re-counts a watch's subscription into its group's union. A delta watch says what its request changed
   * (`change`): O(the change), however many names the watch or the group hold (rule L2). A SotW request carries
   * the whole subscription, so it is compared with what was counted for the watch: O(the request).
   */
  override subscriptionChanged(watch: Watch, change?: SubscriptionChange): void {
    super.subscriptionChanged(watch);
    const indexed = this.#indexed.get(watch);
    if (indexed === undefined) return;
    let added: string[];
    let removed: string[];
    if (change !== undefined) {
      added = change.added.filter((name) => !indexed.names.has(name));
      removed = change.removed.filter((name) => indexed.names.has(name));
    } else {
      const next = watch.subscribed;
      added = [];
      removed = [];
      for (const name of next) if (!indexed.names.has(name)) added.push(name);
      if (indexed.names.size + added.length !== next.size)
        for (const name of indexed.names) if (!next.has(name)) removed.push(name);
    }
    if (added.length === 0 && removed.length === 0 && indexed.wildcard === watch.wildcard) return;
    // Rule L2: checked before anything is counted; the throw ends this watch's stream, and its release then
    // uncounts what was counted for it before (indexed is unchanged), so the group is untouched.
    const counts = this.#counts(indexed.group, watch.typeUrl);
    if (counts === undefined) return;
    checkUnion(this.names, indexed.group, watch.typeUrl, counts, added, removed);
    const covered = counts.wildcard > 0;
    let gained = false;
    for (const name of removed) {
      indexed.names.delete(name);
      countName(this.names, counts, name, -1);
    }
    for (const name of added) {
      indexed.names.add(name);
      if (countName(this.names, counts, name, 1)) gained = true;
    }
    if (indexed.wildcard !== watch.wildcard) {
      counts.wildcard += watch.wildcard ? 1 : -1;
      indexed.wildcard = watch.wildcard;
    }
    // The view covers a name already asked for, and every name while the group's upstream holds the wildcard. What
    // else the union gains is not covered until the upstream answers (synchronously here: this watch's answer to the
    // very request that gained it is computed next).
    if (!covered && (gained || counts.wildcard > 0)) this.answers.gained(indexed.group, watch.typeUrl);
    this.#hooks.interestChanged(indexed.group, watch.typeUrl);
  }

  /** What changed in a group's union of a type since the last call, which it clears: O(the change). */
  takeInterestChange(group: string, typeUrl: TypeUrl): InterestChange {
    const wildcard = (this.#groups.get(group)?.counts.get(typeUrl)?.wildcard ?? 0) > 0;
    const pending = this.#pending.get(group)?.get(typeUrl);
    if (pending === undefined) return { added: [], removed: [], wildcard };
    const change = { added: [...pending.added], removed: [...pending.removed], wildcard };
    pending.added.clear();
    pending.removed.clear();
    return change;
  }

  override release(watch: Watch): void {
    super.release(watch);
    const indexed = this.#indexed.get(watch);
    if (indexed === undefined) return;
    this.#indexed.delete(watch);
    const counts = this.#counts(indexed.group, watch.typeUrl);
    if (counts !== undefined) {
      if (indexed.wildcard) counts.wildcard--;
      for (const name of indexed.names) countName(this.names, counts, name, -1);
    }
    this.peers.count(indexed.peer, indexed.group, -1);
    const group = this.#groups.get(indexed.group);
    group?.watches.delete(watch);
    if (indexed.wildcard || indexed.names.size > 0) this.#hooks.interestChanged(indexed.group, watch.typeUrl);
    if (group !== undefined && group.watches.size === 0) {
      this.#groups.delete(indexed.group);
      this.#hooks.groupIdle(indexed.group);
    }
  }

  /** The types the upstream answered for a group, made on first use. */
  #readyOf(group: string): Set<TypeUrl> {
    let ready = this.#ready.get(group);
    if (ready === undefined) {
      ready = new Set();
      this.#ready.set(group, ready);
    }
    return ready;
  }

  /** True once the upstream answered the type for the group (what the view holds may still not cover a gain). */
  answeredOnce(group: string, typeUrl: TypeUrl): boolean {
    return this.#answeredOnce(group, typeUrl);
  }

  #answeredOnce(group: string, typeUrl: TypeUrl): boolean {
    return this.#ready.get(group)?.has(typeUrl) ?? false;
  }

  /** The type was held back until now: every watch of it may answer, even with nothing (rule S7a). */
  #release(group: string, typeUrl: TypeUrl): void {
    if (!this.#answeredOnce(group, typeUrl)) return;
    for (const watch of this.#groups.get(group)?.watches ?? [])
      if (watch.typeUrl === typeUrl) watch.notify('all');
  }

  #admit(node: Node, peer: string | undefined): void {
    // Under node identity the group must come from a field the identity check compared with the certificate:
    // metadata NAMESPACE is checked only when present, and nodes of every namespace without it would share the
    // group "" (probe4 F8).
    if (this.#groupValueRequired && this.#groupBy.valueOf(node) === '')
      throw new XdsError(
        Code.InvalidArgument,
        `${this.#groupBy.field} is empty: under node identity a node must send the field the relay groups by ` +
          '(--group-by), which is checked against its certificate',
      );
    const group = this.keyOf(node);
    const known = this.#groups.has(group);
    // Rules L5, L2: the key names the group upstream; checked before the group exists.
    if (!known) checkGroupKey(group, this.#groupBy.field, this.#maxGroupKeyBytes);
    // Rule L2 (review Q6): the peer's share first, so that one peer cannot take the relay's whole maxGroups.
    this.#refuseIf(group, 'maxGroupsPerPeer', () => this.peers.check(peer, group));
    if (known) return;
    this.#refuseIf(group, 'maxGroups', () => {
      if (this.#groups.size < this.#maxGroups) return;
      throw new XdsError(
        Code.ResourceExhausted,
        `the relay serves ${this.#groups.size} groups, its limit maxGroups (--max-groups ${this.#maxGroups}); ` +
          `group "${group}" is refused`,
      );
    });
    this.#hooks.admitGroup?.(group, peer);
  }

  /** Runs a check that throws an XdsError to refuse a group; a refusal is told to the hooks, then thrown. */
  #refuseIf(group: string, limit: 'maxGroups' | 'maxGroupsPerPeer', check: () => void): void {
    try {
      check();
    } catch (error) {
      this.#hooks.groupRefused?.(group, limit, error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  #track<W extends Watch>(watch: W, { node, peer }: WatchOptions): W {
    let group = this.#groups.get(watch.key);
    if (group === undefined) {
      group = { watches: new Set(), counts: new Map() };
      this.#groups.set(watch.key, group);
      this.#hooks.groupOpened(watch.key, node);
    }
    group.watches.add(watch);
    this.peers.count(peer, watch.key, 1);
    this.#indexed.set(watch, { group: watch.key, peer, wildcard: false, names: new Set() });
    return watch;
  }

  /** A group's counts of a type, made on first use; undefined when the group is gone. */
  #counts(group: string, typeUrl: TypeUrl): Counts | undefined {
    const state = this.#groups.get(group);
    if (state === undefined) return undefined;
    let counts = state.counts.get(typeUrl);
    if (counts === undefined) {
      let types = this.#pending.get(group);
      if (types === undefined) {
        types = new Map();
        this.#pending.set(group, types);
      }
      let pending = types.get(typeUrl);
      if (pending === undefined) {
        pending = { added: new Set(), removed: new Set() };
        types.set(typeUrl, pending);
      }
      counts = { wildcard: 0, names: new Map(), bytes: 0, pending };
      state.counts.set(typeUrl, counts);
    }
    return counts;
  }
}
