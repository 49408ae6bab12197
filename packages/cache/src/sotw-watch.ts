import { create } from '@bufbuild/protobuf';
import { ClusterLoadAssignmentSchema, TypeUrl } from '@xds/api';
import { changedAmong } from './changed-among.js';
import { type EncodedResource, encodeResource } from './encoded-resource.js';
import { HeldVersions } from './held-versions.js';
import { allOf, changedBetween, changedList, coversAll, subscribedList } from './shared-lists.js';
import { hasBytes, rememberBytes, subscriptionByBytes } from './subscription-bytes.js';
import { isGlob, Watch } from './watch.js';
import type { ResourceView, WatchOptions, WatchSource } from './watch-source.js';

/** A state-of-the-world response a watch hands to the server. */
export interface SotwResponse {
  /** The type. */
  readonly typeUrl: TypeUrl;
  /** `version_info`. */
  readonly version: string;
  /** The resources, each name once (rule S8). */
  readonly resources: readonly EncodedResource[];
  /**
   * TTLs in milliseconds of the resources that have one, only for clients that support TTLs (rule R4); the server
   * wraps those resources in `envoy.service.discovery.v3.Resource`.
   */
  readonly ttls: ReadonlyMap<string, number> | undefined;
  /** The names in `resources` that the stream held before at another version (changed, not new). */
  readonly changed: readonly string[];
  /**
   * Names in `resources` sent as TTL heartbeats: the `Resource` wrapper with name, version and TTL but no body
   * (rule R4). Undefined for ordinary responses.
   */
  readonly heartbeats?: ReadonlySet<string>;
}

/** What a SotW request says about the subscription, as the server passes it on. */
export interface SotwRequestInfo {
  /** `resource_names` as sent. */
  readonly names: readonly string[];
  /** `version_info` as sent. */
  readonly versionInfo: string;
  /** True for the first request of the type on the stream. */
  readonly initial: boolean;
  /**
   * The encoded `resource_names` fields of the request, when the server has them. An Envoy repeats every name in
   * every ACK; when these bytes equal those of the request that set the current subscription, the names are not
   * looked at again.
   */
  readonly namesBytes?: Uint8Array | undefined;
}

/** Encoded names found equal to the bytes of an (interned) subscription, by the buffer that holds them. */
const verifiedBytes = new WeakMap<Uint8Array, ReadonlySet<string>>();

const emptyAssignments = new Map<string, EncodedResource>();
/** An empty ClusterLoadAssignment for a name the snapshot lacks (completeness `empty`). */
function emptyAssignment(name: string): EncodedResource {
  let entry = emptyAssignments.get(name);
  if (entry === undefined) {
    entry = encodeResource(Object.freeze(create(ClusterLoadAssignmentSchema, { clusterName: name })));
    if (emptyAssignments.size > 10_000) emptyAssignments.clear();
    emptyAssignments.set(name, entry);
  }
  return entry;
}

/**
 * One SotW stream's watch of one type: its subscription (rule S9), what it was sent, and the decision of what to
 * send next (rules S6–S10, S13). The server drives it: `request()` for each request that answers the latest nonce
 * or opens the type, `take()` when it can write. The cache calls `notify()` when resources change.
 */
export class SotwWatch extends Watch {
  readonly #legacyWildcard: boolean;
  #namedEver = false;
  /** Name -> version of what this stream was sent (the client holds it, or rejected it: rule S6). */
  #sent = new HeldVersions();
  /** Set by a take whose `changed` list is shared with other streams (see `changedBetween`). */
  #sharedChanged: readonly string[] | undefined;

  constructor(source: WatchSource, key: string, options: WatchOptions) {
    super(source, key, options);
    this.#legacyWildcard = options.legacyWildcard ?? true;
  }

  /** Name -> version of the resources this stream was sent and still subscribes to. */
  get sent(): HeldVersions {
    return this.#sent;
  }

  /**
   * Applies a request's subscription (rule S9). Names newly subscribed will be sent even if unchanged (rule S7b);
   * names dropped are forgotten. An initial request is always answered, except a wildcard one whose version is the
   * current version (rule S13).
   */
  request(info: SotwRequestInfo): void {
    this.requested();
    if (!info.initial && this.#sameBytes(info.namesBytes)) {
      if (this.unanswered || this.mustSend.size > 0) this.schedule();
      return;
    }
    const wasWildcard = this.wildcardOn;
    const known = subscriptionByBytes(info.namesBytes);
    let listed = 0;
    let changed: boolean;
    if (known !== undefined) {
      // Bytes seen before from another stream: exactly these plain names, without decoding them.
      this.#namedEver = true;
      this.wildcardOn = false;
      changed = wasWildcard || known !== this.names || this.prefixes.size > 0;
      if (changed) this.#subscribe(known, new Set());
    } else {
      const explicitWildcard = info.names.includes('*');
      const names = info.names.filter((name) => name !== '*');
      listed = names.length;
      if (info.names.length === 0) {
        this.wildcardOn = this.wildcardCapable && this.#legacyWildcard && !this.#namedEver;
      } else {
        this.#namedEver = true;
        this.wildcardOn = this.wildcardCapable && explicitWildcard;
      }
      changed = wasWildcard !== this.wildcardOn;
      if (!this.#sameNames(names)) {
        changed = true;
        const plain = new Set<string>();
        const prefixes = new Set<string>();
        for (const name of names) {
          if (isGlob(name)) prefixes.add(name.slice(0, -1));
          else plain.add(name);
        }
        this.#subscribe(plain, prefixes);
      }
    }
    if (this.wildcardOn && !wasWildcard) this.pendingAll = true;
    if (changed) {
      this.pendingAll = true;
      this.source.subscriptionChanged(this);
    }
    if (info.initial) {
      this.unanswered = true;
      const view = this.source.view(this.key, this.typeUrl);
      if (
        this.wildcardOn &&
        info.versionInfo !== '' &&
        view !== undefined &&
        info.versionInfo === view.version
      ) {
        // Rule S13: the client already holds this version of the whole type.
        this.#sent = HeldVersions.of(view.entries);
        this.unanswered = false;
      }
    }
    if (this.unanswered || this.mustSend.size > 0 || changed) this.schedule();
    if (known === undefined) this.#rememberBytes(info, listed);
  }

  /** Replaces the explicit names and globs; names new to the stream must be sent (rule S7b). */
  #subscribe(names: ReadonlySet<string>, prefixes: ReadonlySet<string>): void {
    for (const name of names) {
      if (this.names.has(name)) continue;
      this.#sent.delete(name);
      this.addMustSend(name);
    }
    for (const prefix of prefixes) if (!this.prefixes.has(prefix)) this.addMustSend(`${prefix}*`);
    this.prefixes.clear();
    for (const prefix of prefixes) this.prefixes.add(prefix);
    this.setNames(names);
  }

  /** True when `bytes` are the encoded names that set the current plain-name subscription. */
  #sameBytes(bytes: Uint8Array | undefined): boolean {
    if (bytes === undefined || this.wildcardOn || this.prefixes.size > 0 || this.names.size === 0)
      return false;
    // The server hands every ACK that repeats a run of names it saw before the same buffer: compared once.
    if (verifiedBytes.get(bytes) === this.names) return true;
    if (!hasBytes(this.names, bytes)) return false;
    verifiedBytes.set(bytes, this.names);
    return true;
  }

  #rememberBytes(info: SotwRequestInfo, listed: number): void {
    const bytes = info.namesBytes;
    if (bytes === undefined || this.wildcardOn || this.prefixes.size > 0) return;
    // Only when the names were exactly the subscription: no `*`, no globs, no name twice.
    if (listed !== info.names.length || this.names.size !== listed || this.names.size === 0) return;
    rememberBytes(this.names, bytes);
  }

  /** True when `listed` (without `*`) is exactly the current subscription: the common ACK, checked without copying. */
  #sameNames(listed: readonly string[]): boolean {
    if (listed.length !== this.names.size + this.prefixes.size) return false;
    for (const name of listed) {
      if (isGlob(name) ? !this.prefixes.has(name.slice(0, -1)) : !this.names.has(name)) return false;
    }
    return true;
  }

  /**
   * The response to send now, or undefined when there is nothing to send (rules S6–S8, S10). What it returns
   * counts as sent: the server writes it at once.
   */
  take(): SotwResponse | undefined {
    const view = this.beginTake();
    if (view === undefined) return undefined;
    if (this.source.completeness === 'hold' && this.ads && !this.wildcardOn && !this.#coversAll(view))
      return undefined;
    const changed: string[] = [];
    this.#sharedChanged = undefined;
    const resources = this.fullState ? this.#takeFull(view, changed) : this.#takePartial(view, changed);
    const changedNames = this.#sharedChanged ?? changed;
    this.#sharedChanged = undefined;
    this.clearPending();
    this.clearMustSend();
    if (resources === undefined) return this.heartbeatDue ? this.#heartbeat(view) : undefined;
    this.heartbeatDue = false;
    this.unanswered = false;
    this.taken(view.version);
    return {
      typeUrl: this.typeUrl,
      version: view.version,
      resources,
      ttls: this.ttlsOf(view, resources),
      changed: changedNames,
    };
  }

  /** A heartbeat response: Listener and Cluster still carry the whole set, the TTL ones as heartbeats. */
  #heartbeat(view: ResourceView): SotwResponse | undefined {
    const due = this.heartbeatOf(view, this.#sent);
    if (due === undefined) return undefined;
    const heartbeats = new Set(due.map((e) => e.name));
    this.taken(view.version);
    let resources = due;
    if (this.fullState) {
      resources = [];
      for (const [name, version] of this.#sent.entries()) {
        const entry = view.entries.get(name);
        if (entry?.version === version) resources.push(entry);
      }
    }
    return {
      typeUrl: this.typeUrl,
      version: view.version,
      resources,
      ttls: this.ttlsOf(view, resources),
      changed: [],
      heartbeats,
    };
  }

  /**
   * Sends the named resources again even if unchanged (rule S11: after a Cluster changes, its endpoints follow).
   * Names the stream does not want are ignored.
   */
  resend(names: Iterable<string>): void {
    const wanted: string[] = [];
    for (const name of names) if (this.wants(name)) wanted.push(name);
    if (wanted.length === 0) return;
    if (!this.wildcardOn && this.prefixes.size === 0 && coversAll(names, wanted, this.names)) {
      // Every subscribed name (a push that changed every Cluster): forget what was sent and send them all,
      // instead of forgetting them one by one.
      this.#sent = new HeldVersions();
      this.pendingAll = true;
      this.schedule();
      return;
    }
    for (const name of wanted) {
      this.#sent.delete(name);
      this.addMustSend(name);
    }
    this.schedule();
  }

  /** Listener and Cluster: the whole subscribed set, when it differs from what was sent (rule S8). */
  #takeFull(view: ResourceView, changed: string[]): readonly EncodedResource[] | undefined {
    let differs = this.unanswered || this.mustSend.size > 0;
    if (!differs) {
      const names = this.pendingAll ? this.#sentAndWanted(view) : this.pending;
      for (const name of names) {
        const entry = this.wants(name) ? view.entries.get(name) : undefined;
        if (this.#sent.get(name) !== entry?.version) {
          differs = true;
          break;
        }
      }
    }
    if (!differs) return undefined;
    if (this.wildcardOn && this.names.size === 0) {
      // The whole type as the snapshot has it: shared by every wildcard stream of that snapshot.
      const resources = allOf(view);
      const base = this.#sent.pureBase;
      // Shared by every stream that held the same snapshot (the server derives what follows from it once).
      if (base !== undefined) this.#sharedChanged = changedBetween(base, view);
      else if (!this.#sent.empty)
        for (const entry of resources) {
          const before = this.#sent.get(entry.name);
          if (before !== undefined && before !== entry.version) changed.push(entry.name);
        }
      this.#sent = HeldVersions.of(view.entries);
      return resources;
    }
    const resources: EncodedResource[] = [];
    const sent = new HeldVersions();
    for (const name of this.wantedNames(view)) {
      const entry = view.entries.get(name);
      if (entry === undefined) continue;
      resources.push(entry);
      sent.set(name, entry.version);
      const before = this.#sent.get(name);
      if (before !== undefined && before !== entry.version) changed.push(name);
    }
    sent.compact(view.entries);
    this.#sent = sent;
    return resources;
  }

  /** Other types: only the names that changed or were newly subscribed (rules S8, S10). */
  #takePartial(view: ResourceView, changed: string[]): readonly EncodedResource[] | undefined {
    const first = this.#firstOfNames(view) ?? this.#changedOfNames(view, changed);
    if (first !== undefined) return first.length === 0 && !this.unanswered ? undefined : first;
    const must = this.expandGlobs(this.mustSend, view);
    const names = this.pendingAll ? this.#sentAndWanted(view) : new Set([...this.pending, ...must]);
    if (this.pendingAll) for (const name of must) names.add(name);
    const empty = this.source.completeness === 'empty' && this.ads && this.typeUrl === TypeUrl.Endpoint;
    const resources: EncodedResource[] = [];
    for (const name of names) {
      if (!this.wants(name)) {
        this.#sent.delete(name);
        continue;
      }
      const entry = view.entries.get(name) ?? (empty ? emptyAssignment(name) : undefined);
      if (entry === undefined) {
        this.#sent.delete(name);
        continue;
      }
      const before = this.#sent.get(name);
      if (must.has(name) || before !== entry.version) {
        resources.push(entry);
        this.#sent.set(name, entry.version);
        if (before !== undefined && before !== entry.version) changed.push(name);
      }
    }
    this.#sent.compact(view.entries);
    if (resources.length === 0 && !this.unanswered) return undefined;
    return resources;
  }

  /**
   * The common first response (a stream subscribes to plain names and holds nothing yet): every subscribed name
   * the view has. The list is shared by every stream with the same (interned) subscription and view, and so is
   * its encoded body; the stream holds it as (view, subscription), two references. Undefined otherwise.
   */
  #firstOfNames(view: ResourceView): readonly EncodedResource[] | undefined {
    if (!this.pendingAll || this.wildcardOn || this.prefixes.size > 0 || !this.#sent.empty) return undefined;
    if (this.source.completeness === 'empty' && this.ads && this.typeUrl === TypeUrl.Endpoint)
      return undefined;
    const resources = subscribedList(this.names, view);
    this.#sent = HeldVersions.of(view.entries, this.names);
    return resources;
  }

  /**
   * A push to a stream that holds exactly its subscription of an earlier snapshot (plain names, nothing it must be
   * sent whatever it holds): the subscribed names whose version differs, among the names that changed or, after a
   * change of anything, among all. Computed once for every stream with the same subscription, the same two
   * snapshots and the same change (and so encoded once); the stream then holds the new snapshot's resources of its
   * subscription as two references. Undefined when that is not the case.
   */
  #changedOfNames(view: ResourceView, changed: string[]): readonly EncodedResource[] | undefined {
    if (this.wildcardOn || this.prefixes.size > 0 || this.mustSend.size > 0) return undefined;
    if (this.source.completeness === 'empty' && this.ads && this.typeUrl === TypeUrl.Endpoint)
      return undefined;
    const names = this.names;
    const before = this.#sent.restrictedBase(names);
    if (before === undefined) return undefined;
    if (this.pendingAll) {
      const known = changedList(names, before, view);
      for (const name of known.changed) changed.push(name);
      this.#sent = HeldVersions.of(view.entries, names);
      return known.resources;
    }
    const known = changedAmong(names, before, view, this.pending, this.pendingShared);
    this.#sharedChanged = known.changed;
    this.#sent = HeldVersions.of(view.entries, names);
    return known.resources;
  }

  #sentAndWanted(view: ResourceView): Set<string> {
    const names = this.wantedNames(view);
    for (const name of this.#sent.keys()) names.add(name);
    return names;
  }

  #coversAll(view: ResourceView): boolean {
    for (const name of view.entries.keys()) if (!this.wants(name)) return false;
    return true;
  }
}
