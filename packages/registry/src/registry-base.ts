/**
 * The state every adapter shares, so each one only turns its server's data into {@link RegistryService}s:
 * "never push a hole" — nothing is served before the first full sync; a lost connection keeps the last known
 * services and marks them stale; a resync whose content is unchanged emits nothing (compared by a canonical
 * fingerprint, so replicas and restarts agree). Every update passes `checkRegistryServices` here, the one point
 * where registry data enters the aggregate: bad items are left out with a reason, counts over a limit keep the
 * previous content.
 */
import { checkRegistryServices } from './check-service.js';
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

/** Services sorted by hostname, instances by address and port, ports by number: one order for every source. */
export function sortServices(services: Iterable<RegistryService>): RegistryService[] {
  const out = [...services].map((s) => ({
    ...s,
    ports: [...s.ports].sort((a, b) => a.port - b.port || a.name.localeCompare(b.name)),
    instances: [...s.instances].sort(
      (a, b) =>
        a.address.localeCompare(b.address) ||
        (a.port ?? 0) - (b.port ?? 0) ||
        canonicalJson(a).localeCompare(canonicalJson(b)),
    ),
  }));
  return out.sort((a, b) => a.hostname.localeCompare(b.hostname));
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
  #fingerprint = '';
  #synced = false;
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
      instances: this.#services.reduce((n, s) => n + s.instances.length, 0),
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
   * Sets the full content after a successful list (or a watch event applied to the adapter's own state). The
   * content is checked first (`checkRegistryServices`): bad items are left out and reported (`itemErrors`,
   * `dropped`, and a `content` `lastError`); a count over a limit is a `limit` error and the previous content stays.
   * Marks the registry synced and, unless `options.stale` (a part of its connection is still down), not stale;
   * emits `change` only when the content differs from what it held.
   */
  protected replaceServices(
    services: Iterable<RegistryService>,
    itemErrors: RegistryProblem[] = [],
    options: { readonly stale?: boolean } = {},
  ): void {
    const checked = checkRegistryServices(services, this.limits, maxItemErrors);
    if (checked.overLimit !== undefined) {
      this.reportProblem(checked.overLimit, 'limit');
      return;
    }
    const sorted = sortServices(checked.services);
    const fingerprint = canonicalJson(sorted);
    const stale = this.#synced && options.stale === true;
    const problems = [...itemErrors, ...checked.problems].slice(0, maxItemErrors);
    const dropped = itemErrors.length + checked.dropped;
    const contentError =
      dropped === 0 ? undefined : contentProblem(dropped, [...itemErrors, ...checked.problems][0]);
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
    if (fingerprint !== this.#fingerprint) {
      this.#services = sorted;
      this.#fingerprint = fingerprint;
      this.#lastChange = new Date();
      this.#emit('change');
      this.#emit('status');
    } else if (statusChanged) {
      this.#emit('status');
    }
  }

  /**
   * Records a problem: the content stays as it was (never a hole). A `connection` problem (the default) makes a
   * synced registry stale until the next successful sync; a `limit` problem too (it serves its previous content).
   */
  protected reportProblem(message: string, kind: 'connection' | 'limit' = 'connection'): void {
    this.#lastError = { message, at: new Date(), kind };
    if (this.#synced) this.#stale = true;
    this.#emit('status');
  }

  #emit(event: keyof RegistryEvents): void {
    for (const listener of [...this.#listeners[event]]) listener();
  }
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
