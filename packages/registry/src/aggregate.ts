/**
 * The aggregate controller: registries in a given order feed one list of services. The same hostname from two
 * registries merges their instances (multi-cluster style; the first registry's ports win) and a disagreement on
 * ports is reported as a conflict for `/debug/configz`. A registry contributes nothing until it has synced once
 * ("never push a hole"); a stale one keeps contributing its last known services. A hostname's instances over every
 * registry are bounded by `maxEndpointsPerCluster` (and their weights by uint32): a registry whose instances would
 * go past it is ignored for that hostname and reported with the conflicts.
 * A recompute costs the number of services, not their size (rule L2: registry churn must not stall xDS): the
 * registries keep an unchanged service's object, so a hostname whose registry services are the same objects as
 * before keeps its merged object, and the content is compared by object.
 */
import { maxWeightSum } from './check-service.js';
import { type RegistryLimits, resolveRegistryLimits } from './registry-limits.js';
import type { Registry, RegistryEvents, RegistryService, RegistryStatus } from './types.js';

/** A hostname's merged service and the registry services it was made of. */
interface Merged {
  readonly parts: readonly RegistryService[];
  readonly service: AggregateService;
}

/** Two registries give one hostname different ports, or their instances together go past a limit. */
export interface PortConflict {
  /** The hostname. */
  readonly hostname: string;
  /** The registry whose ports are used (`kind location`). */
  readonly kept: string;
  /** The registry whose ports disagree. */
  readonly ignored: string;
  /** What differs, for people. */
  readonly message: string;
}

/** A service of the aggregate, with the registries that provide it. */
export interface AggregateService extends RegistryService {
  /** The registries that provide it (`kind location`), in registry order. */
  readonly sources: readonly string[];
}

function portsText(service: RegistryService): string {
  return service.ports.map((p) => `${p.port}/${p.protocol}`).join(',');
}

function sourceOf(registry: Registry): string {
  return `${registry.kind} ${registry.location}`;
}

/** One service list over ordered registries. */
export class AggregateRegistry {
  /** The registries, in order. */
  readonly registries: readonly Registry[];
  readonly #maxEndpoints: number;
  #services: readonly AggregateService[] = [];
  #conflicts: readonly PortConflict[] = [];
  /** The conflicts as JSON; undefined before the first recompute (which always emits `change`). */
  #conflictsText: string | undefined;
  /** Each hostname's merged service and the registry services it was made of (compared by object). */
  #merged = new Map<string, Merged>();
  #unsubscribe: (() => void)[] = [];
  #listeners: { [E in keyof RegistryEvents]: Set<RegistryEvents[E]> } = {
    change: new Set(),
    status: new Set(),
  };

  /**
   * @param registries in order: on a hostname both provide, the earlier one's ports win
   * @param limits `maxEndpointsPerCluster` bounds a hostname's instances over every registry
   */
  constructor(registries: readonly Registry[], limits: Partial<RegistryLimits> = {}) {
    this.registries = [...registries];
    this.#maxEndpoints = resolveRegistryLimits(limits).maxEndpointsPerCluster;
  }

  /** Starts every registry and listens to them. */
  start(): void {
    for (const registry of this.registries) {
      this.#unsubscribe.push(
        registry.on('change', () => this.#recompute()),
        registry.on('status', () => this.#emit('status')),
      );
    }
    for (const registry of this.registries) registry.start();
    this.#recompute();
  }

  /** Stops every registry. */
  async stop(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    await Promise.all(this.registries.map((r) => r.stop()));
  }

  /** True when every registry has synced at least once. */
  synced(): boolean {
    return this.registries.every((r) => r.status().synced);
  }

  /** The registries that have not synced yet (what `/readyz` names). */
  pending(): RegistryStatus[] {
    return this.registries.map((r) => r.status()).filter((s) => !s.synced);
  }

  /** Every registry's status, in order. */
  statuses(): RegistryStatus[] {
    return this.registries.map((r) => r.status());
  }

  /** The merged services of the synced registries, sorted by hostname. */
  services(): readonly AggregateService[] {
    return this.#services;
  }

  /** Port conflicts between registries. */
  conflicts(): readonly PortConflict[] {
    return this.#conflicts;
  }

  /** Adds a listener (`change`: the merged services changed; `status`: a registry's status did). */
  on<E extends keyof RegistryEvents>(event: E, listener: RegistryEvents[E]): () => void {
    const set = this.#listeners[event] as Set<RegistryEvents[E]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  #recompute(): void {
    // the registry services of each hostname, in registry order, and the conflicts
    const partsByHost = new Map<string, { parts: RegistryService[]; sources: string[]; weights: number }>();
    const conflicts: PortConflict[] = [];
    for (const registry of this.registries) {
      if (!registry.status().synced) continue;
      const source = sourceOf(registry);
      for (const service of registry.services()) {
        const held = partsByHost.get(service.hostname);
        const heldCount = held?.parts.reduce((n, p) => n + p.instances.length, 0) ?? 0;
        const count = heldCount + service.instances.length;
        const weights = (held?.weights ?? 0) + service.instances.reduce((n, i) => n + i.weight, 0);
        if (count > this.#maxEndpoints || weights > maxWeightSum) {
          conflicts.push({
            hostname: service.hostname,
            kept: held?.sources[0] ?? '',
            ignored: source,
            message: `${source} would bring the instances to ${count} (weights ${weights}): over the limit of ${this.#maxEndpoints} (maxEndpointsPerCluster) or ${maxWeightSum} (uint32); its instances are left out`,
          });
          continue;
        }
        if (held === undefined) {
          partsByHost.set(service.hostname, { parts: [service], sources: [source], weights });
          continue;
        }
        const first = held.parts[0]!;
        if (portsText(first) !== portsText(service)) {
          conflicts.push({
            hostname: service.hostname,
            kept: held.sources[0]!,
            ignored: source,
            message: `${source} gives ports ${portsText(service)}; ${held.sources[0]} gives ${portsText(first)}, which are used`,
          });
        }
        held.parts.push(service);
        held.sources.push(source);
        held.weights = weights;
      }
    }
    const merged = new Map<string, Merged>();
    for (const [hostname, { parts, sources }] of partsByHost) {
      const before = this.#merged.get(hostname);
      const same =
        before !== undefined &&
        before.parts.length === parts.length &&
        before.parts.every((p, i) => p === parts[i]) &&
        before.service.sources.every((s, i) => s === sources[i]);
      merged.set(hostname, same ? before : { parts, service: mergeParts(parts, sources) });
    }
    const services = [...merged.values()]
      .map((m) => m.service)
      .sort((a, b) => a.hostname.localeCompare(b.hostname));
    const conflictsText = JSON.stringify(conflicts);
    this.#conflicts = conflicts;
    this.#merged = merged;
    const held = this.#services;
    const unchanged =
      conflictsText === this.#conflictsText &&
      held.length === services.length &&
      services.every((service, i) => service === held[i]);
    this.#conflictsText = conflictsText;
    if (unchanged) return;
    this.#services = services;
    this.#emit('change');
  }

  #emit(event: keyof RegistryEvents): void {
    for (const listener of [...this.#listeners[event]]) listener();
  }
}

/** The merged service of one hostname's registry services, in registry order (the first one's ports are used). */
function mergeParts(parts: readonly RegistryService[], sources: readonly string[]): AggregateService {
  const [first, ...rest] = parts as [RegistryService, ...RegistryService[]];
  if (rest.length === 0) return { ...first, sources: [...sources] };
  return {
    ...first,
    instances: parts.flatMap((p) => p.instances),
    subsets: parts.flatMap((p) => p.subsets ?? []),
    routes: parts.find((p) => (p.routes ?? []).length > 0)?.routes ?? first.routes ?? [],
    sources: [...sources],
  };
}
