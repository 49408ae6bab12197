/**
 * One group's upstream: one `@xds/client` stream carrying the union of the group's downstream subscriptions
 * (rule X4), whose accepted updates fill the group's snapshot in the relay cache with the bytes and versions received
 * (rules X1, X2). It outlives upstream failures: the client reconnects and presents what it holds (rule X3), and the
 * group's snapshot keeps serving meanwhile. Every response of a type, accepted or NACKed, answers the requests sent
 * before it: the cache then serves the watches it held back while the group's view did not cover their
 * subscriptions (group-answers.ts). An origin need not answer a delta subscription that brings nothing new (a
 * wildcard over resources the group holds already): after `answerWaitMs` on a connected stream the view counts as
 * answered, for a type the origin answered before (one it never answered waits for its answer). The resources the group's client takes count against the relay-wide `maxResourceBytesAllGroups`
 * (relay-budget.ts): one that would pass it is rejected, and the response NACKed naming the limit.
 */
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import type { Node, TypeUrl } from '@xds/api';
import {
  type BackoffOptions,
  type ClientLimits,
  type ClientLogger,
  type Protocol,
  type WatchHandle,
  XdsClient,
  type XdsResource,
} from '@xds/client';
import type { HeldResources, ResourceBytesBudget } from './relay-budget.js';
import type { RelayCache } from './relay-cache.js';

/** How a group's upstream client is made. */
export interface UpstreamOptions {
  readonly servers: readonly string[];
  readonly protocol: Protocol;
  readonly credentials?: ChannelCredentials;
  readonly backoff?: BackoffOptions;
  readonly limits?: ClientLimits;
  readonly logger?: ClientLogger;
  /** The group's upstream channel options (its connection slot, see connection-slots.ts). */
  readonly channelOptions?: ChannelOptions;
  /**
   * How long a request that asks for more (the wildcard, new names) may stay unanswered on a connected stream
   * before the group's view counts as covering it (ms); default {@link defaultAnswerWaitMs}.
   */
  readonly answerWaitMs?: number;
  /** The relay-wide budget of resource bytes the group's client takes from (none: only the client's own limits). */
  readonly bytes?: ResourceBytesBudget;
}

/**
 * The default of {@link UpstreamOptions.answerWaitMs}: a delta origin need not answer a subscription that brings
 * nothing new, and a watch held back for it waits this long at most on a connected stream (Envoy's initial fetch
 * timeout is 15 s).
 */
export const defaultAnswerWaitMs = 10_000;

/** The upstream stream of one group. */
export class GroupUpstream {
  /** The group. */
  readonly group: string;
  /** The client. */
  readonly client: XdsClient;
  readonly #cache: RelayCache;
  readonly #handles = new Map<TypeUrl, WatchHandle>();
  readonly #dirty = new Set<TypeUrl>();
  #flush: NodeJS.Immediate | undefined;
  readonly #answerWaitMs: number;
  #answerTimer: NodeJS.Timeout | undefined;
  /** When {@link #answerTimer} fires (ms, performance.now). */
  #answerDue = 0;
  /** Types whose stream was opened again and has not answered them since (its first request is answered first). */
  readonly #resumed = new Set<TypeUrl>();
  readonly #bytes: ResourceBytesBudget | undefined;
  /** The group's client as the budget reads it. */
  readonly #held: HeldResources = {
    heldBytes: () => this.client.heldBytes(),
    heldSize: (typeUrl, name) => this.client.resource(typeUrl, name)?.bytes.length ?? 0,
  };

  constructor(group: string, node: Node, cache: RelayCache, options: UpstreamOptions) {
    this.group = group;
    this.#cache = cache;
    this.#answerWaitMs = options.answerWaitMs ?? defaultAnswerWaitMs;
    this.client = new XdsClient({
      servers: options.servers,
      node,
      protocol: options.protocol,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.channelOptions === undefined ? {} : { channelOptions: options.channelOptions }),
      ...(options.bytes === undefined
        ? {}
        : { validate: (typeUrl, resource) => this.#admit(typeUrl, resource) }),
    });
    this.#bytes = options.bytes;
    this.client.on('update', (event) => {
      const typeUrl = event.typeUrl as TypeUrl;
      const upserts: XdsResource[] = [];
      for (const name of event.updated) {
        const resource = this.client.resource(typeUrl, name);
        if (resource !== undefined) upserts.push(resource);
      }
      this.#cache.apply(group, typeUrl, event.version, upserts, event.removed);
    });
    // `ack` and `nack` come before the response's `update`: the cache hears of the answer once it is applied.
    const answered = ({ typeUrl }: { readonly typeUrl: string }) => {
      // What the response left the client holding counts now (the response was applied before its ACK or NACK).
      this.#bytes?.settle(group, this.#held);
      queueMicrotask(() => this.#cache.upstreamAnswered(group, typeUrl as TypeUrl));
    };
    this.client.on('ack', answered);
    this.client.on('nack', answered);
    this.client.on('ack', ({ typeUrl }) => this.#resumed.delete(typeUrl as TypeUrl));
    this.client.on('nack', ({ typeUrl }) => this.#resumed.delete(typeUrl as TypeUrl));
    this.client.on('disconnected', () => {
      // The next stream's first request carries every type the group holds (rule X3).
      for (const typeUrl of this.#handles.keys()) this.#resumed.add(typeUrl);
      this.#cache.answers.disconnected(group);
    });
    this.client.on('connected', () => {
      this.#cache.answers.connected(group);
      this.#armAnswerTimer();
    });
  }

  /** The group's subscription of a type may have changed; the upstream is told once per turn of the event loop. */
  interestChanged(typeUrl: TypeUrl): void {
    this.#dirty.add(typeUrl);
    this.#flush ??= setImmediate(() => this.flush());
  }

  /** Closes the upstream stream (the relay counts what its client held off the budget: Relay's closeGroup). */
  close(): Promise<void> {
    if (this.#flush !== undefined) clearImmediate(this.#flush);
    this.#flush = undefined;
    clearTimeout(this.#answerTimer);
    this.#answerTimer = undefined;
    return this.client.close();
  }

  /**
   * Tells the upstream what the group's subscriptions gained and lost since the last flush (run once per turn of
   * the event loop after {@link interestChanged}): O(the change), whatever the group holds (rule L2), a wildcard
   * toggle included (the client keeps the names beside the wildcard, so no toggle walks them).
   */
  flush(): void {
    if (this.#flush !== undefined) clearImmediate(this.#flush);
    this.#flush = undefined;
    if (this.client.closed) return;
    // Between streams (nothing written yet) a request rides on the next stream's first request.
    const where = this.client.requestBacklog().written === 0 ? 'first' : 'afterFirst';
    for (const typeUrl of this.#dirty) {
      const sent = this.#send(typeUrl);
      this.#cache.flushed(this.group, typeUrl, sent, this.#resumed.has(typeUrl) ? where : undefined);
    }
    this.#dirty.clear();
    // The wait runs from each type's oldest unanswered request: a later flush does not restart it (review R2).
    this.#armAnswerTimer();
  }

  /** Sends what the group's subscription of a type gained and lost since the last flush; true when a request went. */
  #send(typeUrl: TypeUrl): boolean {
    const change = this.#cache.takeInterestChange(this.group, typeUrl);
    const handle = this.#handles.get(typeUrl);
    if (handle === undefined) {
      if (!change.wildcard && change.added.length === 0) return false;
      // The type's first watch: the change is the whole union.
      const open = this.#cache.interest(this.group, typeUrl);
      // Never an empty first request: a server reads it as a legacy wildcard (rules S9, D7).
      const opened = this.client.watch(typeUrl, open.wildcard ? '*' : open.names, () => {});
      if (open.wildcard && open.names.size > 0) opened.change(open.names, []);
      this.#handles.set(typeUrl, opened);
      return true;
    }
    const forgotten: string[] = [];
    const names = change.added.length > 0 || change.removed.length > 0;
    const sent = names || change.wildcard !== handle.wildcard;
    // Into wildcard first (names dropped meanwhile stay held), out of it last (it forgets them all at once).
    if (change.wildcard && !handle.wildcard) handle.setWildcard(true);
    if (names) forgotten.push(...handle.change(change.added, change.removed));
    if (!change.wildcard && handle.wildcard) forgotten.push(...handle.setWildcard(false));
    // Names no downstream client wants any more leave the group's snapshot too (memory follows interest), and the
    // relay-wide byte budget at once: an idle group holds none of it (review Q6: until its next response, or its
    // close after groupIdleMs, it kept the relay "full" and new groups were refused).
    if (forgotten.length === 0) return sent;
    this.#bytes?.settle(this.group, this.#held);
    const entries = this.#cache.getSnapshot(this.group)?.entries(typeUrl);
    const gone = forgotten.filter((name) => entries?.has(name) === true);
    if (gone.length > 0) this.#cache.apply(this.group, typeUrl, this.client.version(typeUrl), [], gone);
    return sent;
  }

  /** The validation hook: a resource that would take the relay past `maxResourceBytesAllGroups` is rejected. */
  #admit(typeUrl: string, resource: XdsResource): string | undefined {
    return this.#bytes?.admit(this.group, this.#held, typeUrl, resource.name, resource.bytes.length);
  }

  /**
   * After `answerWaitMs` from a type's oldest unanswered request, on a connected stream, the request counts as
   * answered: the origin had nothing new to send (a delta origin need not answer then). On a stream that is not
   * connected it waits on: the client presents its subscription again when it reconnects, and the wait starts
   * again then. One timer per group, set for the earliest deadline; requests sent later do not move it (review R2).
   */
  #armAnswerTimer(): void {
    if (this.client.closed) return;
    let due: number | undefined;
    for (const typeUrl of this.#cache.answers.sentTypes(this.group)) {
      // A type the origin never answered for the group waits for its answer, not for the timer (probe7 N3).
      if (!this.#cache.answeredOnce(this.group, typeUrl)) continue;
      const since = this.#cache.answers.sentSince(this.group, typeUrl);
      if (since !== undefined && (due === undefined || since < due)) due = since;
    }
    if (due === undefined || (this.#answerTimer !== undefined && this.#answerDue <= due + this.#answerWaitMs))
      return;
    clearTimeout(this.#answerTimer);
    this.#answerDue = due + this.#answerWaitMs;
    this.#answerTimer = setTimeout(
      () => this.#answerWaitOver(),
      Math.max(0, this.#answerDue - performance.now()),
    );
    this.#answerTimer.unref();
  }

  #answerWaitOver(): void {
    this.#answerTimer = undefined;
    if (this.client.closed || !this.client.connected) return;
    const now = performance.now();
    for (const typeUrl of this.#cache.answers.sentTypes(this.group)) {
      const since = this.#cache.answers.sentSince(this.group, typeUrl);
      if (since !== undefined && since + this.#answerWaitMs <= now)
        this.#cache.upstreamAnswered(this.group, typeUrl, true);
    }
    this.#armAnswerTimer();
  }
}
