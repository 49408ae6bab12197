/**
 * The state every adapter shares, so each one only turns its server's data into {@link RegistryService}s:
 * "never push a hole" — nothing is served before the first full sync; a lost connection keeps the last known
 * services and marks them stale; a resync whose content is unchanged emits nothing (compared by a canonical
 * fingerprint per service, so replicas and restarts agree). Every update passes `checkRegistryService` here, the one
 * point where registry data enters the aggregate: bad items are left out with a reason, counts over a limit keep
 * the previous content.
 * An update costs what changed, not what is held (rule L2: a registry server must not stall xDS): the check, the
 * sorted copy and the fingerprint of a service are kept by object, so a service object an adapter passes again is
 * not looked at again, and an unchanged service keeps its object (the aggregate compares by object). Adapters that
 * follow a stream of changes ask for an update with {@link RegistryBase.scheduleUpdate}: a burst of changes is one
 * update, at most one per `minRegistryUpdateMs`.
 */
import { type CheckedService, checkRegistryService, countProblem } from './check-service.js';
import { type RegistryLimits, resolveRegistryLimits } from './registry-limits.js';
import type {
  Registry,
  RegistryEvents,
  RegistryKind,
  RegistryProblem,
  RegistryService,
  RegistryStatus,
} from './types.js';

/** The most item errors a status keeps (a registry full of bad documents must not grow memory). */
export const maxItemErrors = 20;

/** A canonical JSON text of a value: object keys sorted, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

/** A service's ports sorted by number, its instances by address and port (then content): one order for every source. */
export function sortService(s: RegistryService): RegistryService {
  return {
    ...s,
    ports: [...s.ports].sort((a, b) => a.port - b.port || a.name.localeCompare(b.name)),
    instances: [...s.instances].sort(
      (a, b) =>
        a.address.localeCompare(b.address) ||
        (a.port ?? 0) - (b.port ?? 0) ||
        canonicalJson(a).localeCompare(canonicalJson(b)),
    ),
  };
}

/** Services sorted by hostname, instances by address and port, ports by number: one order for every source. */
export function sortServices(services: Iterable<RegistryService>): RegistryService[] {
  return [...services].map(sortService).sort((a, b) => a.hostname.localeCompare(b.hostname));
}

/** What an update made of one service object, kept by object (a WeakMap entry): checked, sorted, fingerprinted. */
interface Prepared {
  readonly checked: CheckedService;
  /** The checked service sorted; undefined when it is left out. */
  readonly sorted: RegistryService | undefined;
  /** The canonical JSON of `sorted`. */
  readonly fingerprint: string;
}

/** Base class of the adapters: holds the services and the status, and emits `change` and `status`. */
export abstract class RegistryBase implements Registry {
  /** The kind. */
  abstract readonly kind: RegistryKind;
  /** Where it is. */
  abstract readonly location: string;
  /** The limits its content is checked against. */
  protected readonly limits: RegistryLimits;
  #services: readonly RegistryService[] = [];
  /** The fingerprint of each of `#services`, in the same order. */
  #fingerprints: readonly string[] = [];
  #instances = 0;
  /** Each service object given to an update, prepared (kept while the adapter holds the object). */
  #prepared = new WeakMap<RegistryService, Prepared>();
  #synced = false;
  #updateTimer: NodeJS.Timeout | undefined;
  #pendingUpdate: (() => void) | undefined;
  #lastUpdate = Number.NEGATIVE_INFINITY;
  #stale = false;
  #lastChange: Date | undefined;
  #lastError: RegistryProblem | undefined;
  #itemErrors: RegistryProblem[] = [];
  #dropped = 0;
  #listeners: { [E in keyof RegistryEvents]: Set<RegistryEvents[E]> } = {
    change: new Set(),
    status: new Set(),
  };

  /** @param limits bounds on its content; unset ones take `defaultRegistryLimits` */
  constructor(limits: Partial<RegistryLimits> = {}) {
    this.limits = resolveRegistryLimits(limits);
  }

  /** Starts listing and watching. */
  abstract start(): void;
  /** Stops watching. */
  abstract stop(): Promise<void>;

  /** The services, sorted by hostname; empty until synced. */
  services(): readonly RegistryService[] {
    return this.#services;
  }

  /** The state. */
  status(): RegistryStatus {
    return {
      kind: this.kind,
      location: this.location,
      synced: this.#synced,
      stale: this.#stale,
      services: this.#services.length,
      instances: this.#instances,
      ...(this.#lastChange === undefined ? {} : { lastChange: this.#lastChange }),
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
      itemErrors: [...this.#itemErrors],
      dropped: this.#dropped,
    };
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof RegistryEvents>(event: E, listener: RegistryEvents[E]): () => void {
    const set = this.#listeners[event] as Set<RegistryEvents[E]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Asks for `update` (which calls {@link replaceServices}) to run soon: at once (after the current I/O callbacks)
   * when the last update is `minRegistryUpdateMs` old, else that long after it. Requests meanwhile are merged: the
   * latest `update` runs once. So a burst of watch events costs one update, and a server that sends changes as fast
   * as it can costs one update per interval, however many it sends.
   */
  protected scheduleUpdate(update: () => void): void {
    this.#pendingUpdate = update;
    if (this.#updateTimer !== undefined) return;
    const wait = Math.max(0, this.#lastUpdate + this.limits.minRegistryUpdateMs - Date.now());
    this.#updateTimer = setTimeout(() => {
      this.#updateTimer = undefined;
      this.flushUpdate();
    }, wait);
  }

  /** Runs a scheduled update now, if there is one. */
  protected flushUpdate(): void {
    if (this.#updateTimer !== undefined) clearTimeout(this.#updateTimer);
    this.#updateTimer = undefined;
    const update = this.#pendingUpdate;
    this.#pendingUpdate = undefined;
    if (update === undefined) return;
    this.#lastUpdate = Date.now();
    // rule L4: an update runs in a timer, where a throw would end the process; an update that throws (registry data
    // the checks did not foresee) is a problem of this registry, which keeps its previous content
    try {
      update();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.reportProblem(`update failed: ${message.slice(0, 200)}`, 'content');
    }
  }

  /** Drops a scheduled update (when the adapter stops). */
  protected cancelUpdate(): void {
    if (this.#updateTimer !== undefined) clearTimeout(this.#updateTimer);
    this.#updateTimer = undefined;
    this.#pendingUpdate = undefined;
  }

  /**
   * Sets the full content after a successful list (or a watch event applied to the adapter's own state). The
   * content is checked first (`checkRegistryService`, once per service object): bad items are left out and reported
   * (`itemErrors`, `dropped`, and a `content` `lastError`); a count over a limit is a `limit` error and the previous
   * content stays. Marks the registry synced and, unless `options.stale` (a part of its connection is still down),
   * not stale; emits `change` only when the content differs from what it held. Its cost is the number of services
   * plus the size of the service objects it has not seen before: service objects are taken as immutable (an adapter
   * passes a new object for a service that changed). `itemErrors` are the adapter's own reasons for items it left
   * out (the first {@link maxItemErrors} are kept); `options.leftOut` counts those items when the adapter keeps
   * only examples of them (default `itemErrors.length`).
   */
  protected replaceServices(
    services: Iterable<RegistryService>,
    itemErrors: RegistryProblem[] = [],
    options: { readonly stale?: boolean; readonly leftOut?: number } = {},
  ): void {
    const input = [...services];
    const counts = countProblem(input, this.limits);
    if (counts !== undefined) {
      this.reportProblem(counts, 'limit');
      return;
    }
    const prepared: Prepared[] = [];
    const allProblems: RegistryProblem[] = [...itemErrors.slice(0, maxItemErrors)];
    let dropped = Math.max(options.leftOut ?? 0, itemErrors.length);
    const at = new Date();
    for (const service of input) {
      const entry = this.#prepare(service, at);
      if (entry.checked.overLimit !== undefined) {
        this.reportProblem(entry.checked.overLimit, 'limit');
        return;
      }
      dropped += entry.checked.dropped;
      for (const problem of entry.checked.problems) {
        if (allProblems.length < maxItemErrors) allProblems.push(problem);
      }
      if (entry.sorted !== undefined) prepared.push(entry);
    }
    prepared.sort((a, b) => compareHostnames(a.sorted!.hostname, b.sorted!.hostname));
    const stale = this.#synced && options.stale === true;
    const problems = allProblems;
    const contentError = dropped === 0 ? undefined : contentProblem(dropped, allProblems[0]);
    const nextError = stale
      ? this.#lastError
      : contentError !== undefined && this.#lastError?.message === contentError.message
        ? this.#lastError
        : contentError;
    const statusChanged =
      !this.#synced ||
      this.#stale !== stale ||
      nextError !== this.#lastError ||
      this.#dropped !== dropped ||
      problems.length > 0 ||
      this.#itemErrors.length > 0;
    this.#synced = true;
    this.#stale = stale;
    this.#lastError = nextError;
    this.#itemErrors = problems;
    this.#dropped = dropped;
    const held = this.#fingerprints;
    const same =
      held.length === prepared.length && prepared.every((entry, i) => entry.fingerprint === held[i]);
    if (!same) {
      // an unchanged service keeps the object it had: the aggregate and the model compare by object
      const previous = new Map<string, RegistryService>();
      for (const [i, service] of this.#services.entries()) previous.set(held[i]!, service);
      this.#services = prepared.map((entry) => previous.get(entry.fingerprint) ?? entry.sorted!);
      this.#fingerprints = prepared.map((entry) => entry.fingerprint);
      this.#instances = this.#services.reduce((n, s) => n + s.instances.length, 0);
      this.#lastChange = new Date();
      this.#emit('change');
      this.#emit('status');
    } else if (statusChanged) {
      this.#emit('status');
    }
  }

  /** The check, sorted copy and fingerprint of a service object, made once per object. */
  #prepare(service: RegistryService, at: Date): Prepared {
    const known = this.#prepared.get(service);
    if (known !== undefined) return known;
    const checked = checkRegistryService(service, this.limits, maxItemErrors, at);
    const sorted = checked.service === undefined ? undefined : sortService(checked.service);
    const entry = { checked, sorted, fingerprint: sorted === undefined ? '' : canonicalJson(sorted) };
    this.#prepared.set(service, entry);
    return entry;
  }

  /**
   * Records a problem: the content stays as it was (never a hole). A `connection` problem (the default) makes a
   * synced registry stale until the next successful sync; a `limit` problem too (it serves its previous content).
   */
  protected reportProblem(message: string, kind: 'connection' | 'limit' | 'content' = 'connection'): void {
    // what was received before the problem is applied before it (an update would clear `stale`)
    this.flushUpdate();
    this.#lastError = { message, at: new Date(), kind };
    if (this.#synced) this.#stale = true;
    this.#emit('status');
  }

  #emit(event: keyof RegistryEvents): void {
    for (const listener of [...this.#listeners[event]]) listener();
  }
}

/** Host names in one order for every source (the order `sortServices` gives). */
function compareHostnames(a: string, b: string): number {
  return a.localeCompare(b);
}

function contentProblem(dropped: number, first: RegistryProblem | undefined): RegistryProblem {
  const what =
    first === undefined ? '' : `: ${first.item === undefined ? '' : `${first.item}: `}${first.message}`;
  return {
    message: `${dropped} item${dropped === 1 ? '' : 's'} left out${what}${dropped > 1 ? ' (and more: see itemErrors)' : ''}`,
    at: first?.at ?? new Date(),
    kind: 'content',
  };
}
