/**
 * A registry held in memory: tests and embedders set its services directly. It is synced from the first `set`
 * (or at start when made with services), like Istio's memory registry.
 */
import { RegistryBase } from './registry-base.js';
import type { RegistryLimits } from './registry-limits.js';
import type { RegistryService } from './types.js';

/** A registry whose services are set by code. */
export class MemoryRegistry extends RegistryBase {
  /** Always `memory`. */
  readonly kind = 'memory' as const;
  /** A name for status pages. */
  readonly location: string;
  #initial: readonly RegistryService[] | undefined;

  /**
   * @param location a name for status pages
   * @param services when given, the registry syncs with them at start; otherwise at the first {@link set}
   * @param limits bounds on its content; unset ones take `defaultRegistryLimits`
   */
  constructor(
    location = 'memory',
    services?: readonly RegistryService[],
    limits: Partial<RegistryLimits> = {},
  ) {
    super(limits);
    this.location = location;
    this.#initial = services;
  }

  /** Syncs with the services given to the constructor, if any. */
  start(): void {
    if (this.#initial !== undefined) this.replaceServices(this.#initial);
  }

  /** Nothing to release. */
  async stop(): Promise<void> {}

  /** Replaces every service (emits `change` only when the content differs). */
  set(services: readonly RegistryService[]): void {
    this.replaceServices(services);
  }

  /** Marks the registry disconnected: it keeps its services and becomes stale. */
  disconnect(message: string): void {
    this.reportProblem(message);
  }
}
