import { create } from '@bufbuild/protobuf';
import { ClusterLoadAssignmentSchema, TypeUrl } from '@xds/api';
import { type EncodedResource, encodeResource } from './encoded-resource.js';
import { type ResourceView, Watch, type WatchOptions, type WatchSource } from './watch.js';

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
}

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
  #sent = new Map<string, string>();

  constructor(source: WatchSource, key: string, options: WatchOptions) {
    super(source, key, options);
    this.#legacyWildcard = options.legacyWildcard ?? true;
  }

  /** Name -> version of the resources this stream was sent and still subscribes to. */
  get sent(): ReadonlyMap<string, string> {
    return this.#sent;
  }

  /**
   * Applies a request's subscription (rule S9). Names newly subscribed will be sent even if unchanged (rule S7b);
   * names dropped are forgotten. An initial request is always answered, except a wildcard one whose version is the
   * current version (rule S13).
   */
  request(info: SotwRequestInfo): void {
    const explicitWildcard = info.names.includes('*');
    const listed = info.names.filter((name) => name !== '*');
    const wasWildcard = this.wildcardOn;
    if (info.names.length === 0) {
      this.wildcardOn = this.wildcardCapable && this.#legacyWildcard && !this.#namedEver;
    } else {
      this.#namedEver = true;
      this.wildcardOn = this.wildcardCapable && explicitWildcard;
    }
    const wanted = new Set(listed);
    let changed = wasWildcard !== this.wildcardOn;
    for (const name of [...this.names, ...[...this.prefixes].map((p) => `${p}*`)]) {
      if (wanted.has(name)) continue;
      this.removeName(name);
      changed = true;
    }
    for (const name of wanted) {
      if (!this.addName(name)) continue;
      this.#sent.delete(name);
      this.mustSend.add(name);
      changed = true;
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
        for (const [name, entry] of view.entries) this.#sent.set(name, entry.version);
        this.unanswered = false;
      }
    }
    if (this.unanswered || this.mustSend.size > 0 || changed) this.schedule();
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
    const resources = this.fullState ? this.#takeFull(view, changed) : this.#takePartial(view, changed);
    this.pending = new Set();
    this.pendingAll = false;
    this.mustSend = new Set();
    if (resources === undefined) return this.heartbeatDue ? this.#heartbeat(view) : undefined;
    this.heartbeatDue = false;
    this.unanswered = false;
    return {
      typeUrl: this.typeUrl,
      version: view.version,
      resources,
      ttls: this.ttlsOf(view, resources),
      changed,
    };
  }

  /** A heartbeat response: Listener and Cluster still carry the whole set, the TTL ones as heartbeats. */
  #heartbeat(view: ResourceView): SotwResponse | undefined {
    const due = this.heartbeatOf(view, this.#sent);
    if (due === undefined) return undefined;
    const heartbeats = new Set(due.map((e) => e.name));
    let resources = due;
    if (this.fullState) {
      resources = [];
      for (const [name, version] of this.#sent) {
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
    let any = false;
    for (const name of names) {
      if (!this.wants(name)) continue;
      this.#sent.delete(name);
      this.mustSend.add(name);
      any = true;
    }
    if (any) this.schedule();
  }

  /** Listener and Cluster: the whole subscribed set, when it differs from what was sent (rule S8). */
  #takeFull(view: ResourceView, changed: string[]): EncodedResource[] | undefined {
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
    const resources: EncodedResource[] = [];
    const sent = new Map<string, string>();
    for (const name of this.wantedNames(view)) {
      const entry = view.entries.get(name);
      if (entry === undefined) continue;
      resources.push(entry);
      sent.set(name, entry.version);
      const before = this.#sent.get(name);
      if (before !== undefined && before !== entry.version) changed.push(name);
    }
    this.#sent = sent;
    return resources;
  }

  /** Other types: only the names that changed or were newly subscribed (rules S8, S10). */
  #takePartial(view: ResourceView, changed: string[]): EncodedResource[] | undefined {
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
    if (resources.length === 0 && !this.unanswered) return undefined;
    return resources;
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
