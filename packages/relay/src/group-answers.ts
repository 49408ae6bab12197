/**
 * Which of a group's types wait for an upstream answer (rule S7a across a relay, probe5 P1): a group's view of a
 * type covers only what its upstream subscription asked for so far. When the group's union of subscriptions gains
 * something (the wildcard, or a name no watch of the group wanted), the view does not cover it until the upstream
 * answers the request that asks for it, and a downstream watch answered from it meanwhile would be told that the
 * missing resources do not exist (SotW Cluster and Listener: deleted), under the origin's version of the full set.
 *
 * Per group and type two flags: `unsent` (the union gained something the upstream was not asked for yet) and `sent`
 * (a request asking for it went upstream, and no response of the type came after it). The type is awaited while
 * either is set. O(1) per call; one entry per group and type, dropped with the group.
 */
import type { TypeUrl } from '@xds/api';

interface Awaited {
  /** The union gained something not yet asked of the upstream. */
  unsent: boolean;
  /** A request asking for a gain went upstream; no response of the type since. */
  sent: boolean;
}

/** The types of each group that wait for an upstream answer. */
export class GroupAnswers {
  readonly #groups = new Map<string, Map<TypeUrl, Awaited>>();

  /** True while the group's view of the type does not cover what its watches subscribe to. */
  awaiting(group: string, typeUrl: TypeUrl): boolean {
    return this.#groups.get(group)?.has(typeUrl) ?? false;
  }

  /** The types of a group whose request went upstream and is not answered yet. */
  sentTypes(group: string): TypeUrl[] {
    const types: TypeUrl[] = [];
    for (const [typeUrl, awaited] of this.#groups.get(group) ?? []) if (awaited.sent) types.push(typeUrl);
    return types;
  }

  /** The group's union of the type gained the wildcard or a name: the view waits until the upstream answers. */
  gained(group: string, typeUrl: TypeUrl): void {
    let types = this.#groups.get(group);
    if (types === undefined) {
      types = new Map();
      this.#groups.set(group, types);
    }
    const awaited = types.get(typeUrl);
    if (awaited === undefined) types.set(typeUrl, { unsent: true, sent: false });
    else awaited.unsent = true;
  }

  /**
   * The group's upstream took the change of the type: `sent` when it sent a request (which asks for every gain so
   * far), false when the change came to nothing (a name added and dropped in one turn). True when the type no
   * longer waits.
   */
  flushed(group: string, typeUrl: TypeUrl, sent: boolean): boolean {
    const awaited = this.#groups.get(group)?.get(typeUrl);
    if (awaited === undefined || !awaited.unsent) return false;
    awaited.unsent = false;
    if (sent) awaited.sent = true;
    return this.#settle(group, typeUrl, awaited);
  }

  /**
   * A response of the type came from upstream (accepted or NACKed) after the requests sent so far: they are
   * answered. True when the type waited and no longer does.
   */
  answered(group: string, typeUrl: TypeUrl): boolean {
    const awaited = this.#groups.get(group)?.get(typeUrl);
    if (awaited === undefined || !awaited.sent) return false;
    awaited.sent = false;
    return this.#settle(group, typeUrl, awaited);
  }

  /** Forgets a group. */
  forget(group: string): void {
    this.#groups.delete(group);
  }

  #settle(group: string, typeUrl: TypeUrl, awaited: Awaited): boolean {
    if (awaited.unsent || awaited.sent) return false;
    const types = this.#groups.get(group);
    types?.delete(typeUrl);
    if (types?.size === 0) this.#groups.delete(group);
    return true;
  }
}
