/**
 * Which of a group's types wait for an upstream answer (rule S7a across a relay, probe5 P1): a group's view of a
 * type covers only what its upstream subscription asked for so far. When the group's union of subscriptions gains
 * something (the wildcard, or a name no watch of the group wanted), the view does not cover it until the upstream
 * answers the request that asks for it, and a downstream watch answered from it meanwhile would be told that the
 * missing resources do not exist (SotW Cluster and Listener: deleted), under the origin's version of the full set.
 *
 * Which response answers which request (review R3; rules S4, S5, D2). A response that crossed a request in flight
 * (the origin sent it before it read the request) does not answer it. Of the requests sent since the latest
 * response, only the first can be answered by the next one: a SotW origin answers the first request that carries
 * the latest nonce and finds the later ones stale (rule S4); a delta origin answers them one by one (rule D2). The
 * others ride on the ACK or NACK of that response, which carries the whole subscription (SotW) or follows them
 * (delta), so the response after it answers them. A request sent while the stream was down is carried by the next
 * stream's first request, which the first response of the type on that stream answers, and a request sent after that
 * first request waits for the response after it. A response the origin pushed before it read the only request in
 * flight cannot be told apart on the wire; the wait (`answerWaitMs`) still bounds it.
 *
 * The wait is measured from the request (review R2): per type, when the oldest request still unanswered was sent,
 * not when the group's upstream last sent anything, so a steady flow of other requests does not postpone it. O(1)
 * per call; one entry per group and type, dropped when the type is answered or the group is forgotten.
 */
import type { TypeUrl } from '@xds/api';

interface Awaited {
  /** The union gained something not yet asked of the upstream. */
  unsent: boolean;
  /** Requests sent before the latest response (or the stream's first request): the next response answers them. */
  older: boolean;
  /** When the oldest of {@link older} was sent (ms, performance.now). */
  olderSince: number;
  /** Requests asking for a gain sent since the latest response of the type. */
  latest: number;
  /** When the first of {@link latest} was sent (ms). */
  latestSince: number;
}

/** The types of each group that wait for an upstream answer. */
export class GroupAnswers {
  readonly #groups = new Map<string, Map<TypeUrl, Awaited>>();
  readonly #now: () => number;

  /** @param now a clock in ms (`performance.now` by default). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** True while the group's view of the type does not cover what its watches subscribe to. */
  awaiting(group: string, typeUrl: TypeUrl): boolean {
    return this.#groups.get(group)?.has(typeUrl) ?? false;
  }

  /** The types of a group whose request went upstream and is not answered yet. */
  sentTypes(group: string): TypeUrl[] {
    const types: TypeUrl[] = [];
    for (const [typeUrl, awaited] of this.#groups.get(group) ?? [])
      if (awaited.older || awaited.latest > 0) types.push(typeUrl);
    return types;
  }

  /** When the oldest unanswered request of the type was sent (ms), or undefined when none is. */
  sentSince(group: string, typeUrl: TypeUrl): number | undefined {
    const awaited = this.#groups.get(group)?.get(typeUrl);
    if (awaited === undefined) return undefined;
    if (awaited.older) return awaited.olderSince;
    return awaited.latest > 0 ? awaited.latestSince : undefined;
  }

  /** The group's union of the type gained the wildcard or a name: the view waits until the upstream answers. */
  gained(group: string, typeUrl: TypeUrl): void {
    const awaited = this.#entry(group, typeUrl);
    awaited.unsent = true;
  }

  /**
   * The group's upstream took the change of the type: `sent` when it sent a request (which asks for every gain so
   * far), false when the change came to nothing (a name added and dropped in one turn). `where` the request went
   * after the stream was opened again, before the type's first response on it: `first` (no stream yet: the next
   * stream's first request carries it, and its first response answers it) or `afterFirst` (after that first request,
   * which the first response answers: this one waits for the next). True when the type no longer waits.
   */
  flushed(group: string, typeUrl: TypeUrl, sent: boolean, where?: 'first' | 'afterFirst'): boolean {
    const awaited = this.#groups.get(group)?.get(typeUrl);
    if (awaited === undefined || !awaited.unsent) return false;
    awaited.unsent = false;
    if (sent) {
      const now = this.#now();
      if (where !== undefined && !awaited.older) {
        awaited.older = true;
        awaited.olderSince = now;
      }
      if (where !== 'first') {
        if (awaited.latest === 0) awaited.latestSince = now;
        awaited.latest++;
      }
    }
    return this.#settle(group, typeUrl, awaited);
  }

  /**
   * A response of the type came from upstream (accepted or NACKed). It answers the requests sent before the
   * previous response, or else the first one sent since; the others wait for the next response. True when the type
   * waited and no longer does.
   */
  answered(group: string, typeUrl: TypeUrl): boolean {
    const awaited = this.#groups.get(group)?.get(typeUrl);
    if (awaited === undefined || (!awaited.older && awaited.latest === 0)) return false;
    // What the response did not answer rides on its ACK or NACK: the next response answers it.
    const left = awaited.older ? awaited.latest : awaited.latest - 1;
    awaited.older = left > 0;
    awaited.olderSince = awaited.latestSince;
    awaited.latest = 0;
    return this.#settle(group, typeUrl, awaited);
  }

  /** The group's upstream stream ended: every request sent is carried by the next stream's first request. */
  disconnected(group: string): void {
    for (const awaited of this.#groups.get(group)?.values() ?? []) {
      if (awaited.latest === 0) continue;
      if (!awaited.older) awaited.olderSince = awaited.latestSince;
      awaited.older = true;
      awaited.latest = 0;
    }
  }

  /** The group's upstream stream connected again: the requests it carries are new, their wait starts now. */
  connected(group: string): void {
    const now = this.#now();
    for (const awaited of this.#groups.get(group)?.values() ?? []) {
      if (awaited.older) awaited.olderSince = now;
      if (awaited.latest > 0) awaited.latestSince = now;
    }
  }

  /** The wait for the type ran out: its requests count as answered. True when the type no longer waits. */
  waitOver(group: string, typeUrl: TypeUrl): boolean {
    const awaited = this.#groups.get(group)?.get(typeUrl);
    if (awaited === undefined || (!awaited.older && awaited.latest === 0)) return false;
    awaited.older = false;
    awaited.latest = 0;
    return this.#settle(group, typeUrl, awaited);
  }

  /** Forgets a group. */
  forget(group: string): void {
    this.#groups.delete(group);
  }

  #entry(group: string, typeUrl: TypeUrl): Awaited {
    let types = this.#groups.get(group);
    if (types === undefined) {
      types = new Map();
      this.#groups.set(group, types);
    }
    let awaited = types.get(typeUrl);
    if (awaited === undefined) {
      awaited = { unsent: false, older: false, olderSince: 0, latest: 0, latestSince: 0 };
      types.set(typeUrl, awaited);
    }
    return awaited;
  }

  #settle(group: string, typeUrl: TypeUrl, awaited: Awaited): boolean {
    if (awaited.unsent || awaited.older || awaited.latest > 0) return false;
    const types = this.#groups.get(group);
    types?.delete(typeUrl);
    if (types?.size === 0) this.#groups.delete(group);
    return true;
  }
}
