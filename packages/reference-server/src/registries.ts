/**
 * The reference server's service registries (`--registry KIND=LOCATION`, repeatable): the aggregate over them,
 * the model served (the model file merged with the aggregate), what `/readyz`, `/debug/configz` and the metrics
 * say about each registry, and logging of their problems. "Never push a hole": nothing is published until every
 * registry has synced once, and a registry that loses its server keeps serving its last known services (stale).
 * A failed generation is kept here too (`generationError`): `/readyz` and the status page show it.
 * Registry changes are coalesced before they reach the generator (rule L2: a registry in a rolling restart must not
 * stall xDS): a change marks the model dirty, and the listener runs at most once per `debounceMs`, and never sooner
 * after a run than that run took, so generating takes at most half of the server's time however fast changes come.
 */
import type { ServiceModel } from '@xds/generator';
import {
  AggregateRegistry,
  type AggregateService,
  type PortConflict,
  type Registry,
  type RegistryLimits,
  type RegistryParseOptions,
  type RegistrySpec,
  type RegistryStatus,
  registryFromSpec,
  serviceModelOf,
} from '@xds/registry';
import type { Logger } from 'pino';
import { Gauge, type Registry as PromRegistry } from 'prom-client';

/** The registries of a running server. */
export interface ServerRegistries {
  /** The aggregate. */
  readonly aggregate: AggregateRegistry;
  /** True when every registry has synced once (always true without registries). */
  synced(): boolean;
  /**
   * `registries pending: etcd http://… (its last error)` for /readyz, or undefined when none is pending.
   */
  pendingText(): string | undefined;
  /** The model to serve: `file` merged with the registries' services (`services`: those, else the current ones). */
  model(file: ServiceModel, services?: readonly AggregateService[]): ServiceModel;
  /** Records the outcome of the latest generation (undefined: it succeeded), for the summary. */
  setGenerationError(error: { readonly message: string; readonly at: Date } | undefined): void;
  /** Each registry's status and the port conflicts, for `/debug/configz`, `/debug/syncz` and the status page. */
  summary(): RegistriesSummary;
  /**
   * Calls `listener` when the registries' services change (after the first full sync), coalesced: a burst of changes
   * is one call, `debounceMs` after the first of them, and calls are at least `debounceMs` apart and at least as far
   * apart as the previous call took. A listener that returns a promise (a sliced publish) is not called again until
   * it settles; changes meanwhile make one more call after it.
   */
  onChange(listener: () => void | Promise<void>): () => void;
  /** Starts the registries. */
  start(): void;
  /** Stops them. */
  stop(): Promise<void>;
}

/** One registry as `/debug/configz`, `/debug/syncz` and the status page show it (times in ISO 8601). */
export interface RegistryView {
  /** `kubernetes`, `consul`, `eureka`, `etcd` or `memory`. */
  readonly kind: string;
  /** Where it is (a URL or a kubeconfig path). */
  readonly location: string;
  /** It has listed its content once; until then the server publishes nothing. */
  readonly synced: boolean;
  /** It lost its server after syncing and serves its last known services. */
  readonly stale: boolean;
  /** How many services it holds. */
  readonly services: number;
  /** How many instances its services hold. */
  readonly instances: number;
  /** When its content last changed. */
  readonly lastChange?: string;
  /** Its last problem (connection or content), until the next full sync. */
  readonly lastError?: { readonly message: string; readonly at: string };
  /** Items it left out (a bad document, a bad instance), the latest few. */
  readonly itemErrors: readonly { readonly item?: string; readonly message: string; readonly at: string }[];
  /** How many items (services, ports, instances) its last update left out. */
  readonly dropped: number;
}

/** The registries of a server and the hostnames two of them give different ports. */
export interface RegistriesSummary {
  /** In `--registry` order. */
  readonly registries: readonly RegistryView[];
  /** Port conflicts between registries (the first registry's ports are used), and hostnames over a limit. */
  readonly conflicts: readonly PortConflict[];
  /** The latest generation failed: why, and since when (the previous snapshots, or a fallback, are served). */
  readonly generationError?: { readonly message: string; readonly at: string };
}

/** A registry status as a view (no undefined fields, so that it is the same as JSON). */
export function registryView(status: RegistryStatus): RegistryView {
  return {
    kind: status.kind,
    location: status.location,
    synced: status.synced,
    stale: status.stale,
    services: status.services,
    instances: status.instances,
    ...(status.lastChange === undefined ? {} : { lastChange: status.lastChange.toISOString() }),
    ...(status.lastError === undefined
      ? {}
      : {
          lastError: {
            message: status.lastError.message,
            at: status.lastError.at.toISOString(),
          },
        }),
    itemErrors: status.itemErrors.map((e) => ({
      ...(e.item === undefined ? {} : { item: e.item }),
      message: e.message,
      at: e.at.toISOString(),
    })),
    dropped: status.dropped,
  };
}

/**
 * Makes the registries of `specs` (not started), registers their gauges in `metrics`
 * (`xds_registry_synced`, `xds_registry_stale`, `xds_registry_services`, `xds_registry_instances`,
 * `xds_registry_last_change_seconds`, `xds_registry_port_conflicts`), and logs each new problem once.
 */
export function createServerRegistries(
  specs: readonly RegistrySpec[],
  options: {
    readonly logger: Logger;
    readonly metrics: PromRegistry;
    readonly domain?: string;
    /** Bounds on the registries' content (`--registry-limit`); unset ones take `defaultRegistryLimits`. */
    readonly limits?: Partial<RegistryLimits>;
    /** How Kubernetes, Consul and Eureka parse their answers (`--registry-limit parseHeapMiB=…`); default `defaultParseOptions`. */
    readonly parse?: Partial<RegistryParseOptions>;
    /** The shortest time between two calls of an `onChange` listener (`--debounce-ms`); default 100. */
    readonly debounceMs?: number;
  },
): ServerRegistries {
  const { logger } = options;
  const limits = options.limits ?? {};
  const registries: Registry[] = specs.map((spec) =>
    registryFromSpec(spec, {
      ...(options.domain === undefined ? {} : { domain: options.domain }),
      limits,
      ...(options.parse === undefined ? {} : { parse: options.parse }),
    }),
  );
  const aggregate = new AggregateRegistry(registries, limits);
  const debounceMs = Math.max(0, options.debounceMs ?? 100);
  const timers = new Set<() => void>();
  let generationError: { readonly message: string; readonly at: Date } | undefined;
  const labels = ['kind', 'location'] as const;
  const gauge = (name: string, help: string, read: (s: RegistryStatus) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: labels,
      registers: [options.metrics],
      collect() {
        this.reset();
        for (const status of aggregate.statuses())
          this.set({ kind: status.kind, location: status.location }, read(status));
      },
    });
  };
  if (registries.length > 0) {
    gauge('xds_registry_synced', '1 when the registry has synced at least once', (s) => (s.synced ? 1 : 0));
    gauge(
      'xds_registry_stale',
      '1 while the registry serves its last known services after losing its server',
      (s) => (s.stale ? 1 : 0),
    );
    gauge('xds_registry_services', 'services the registry holds', (s) => s.services);
    gauge('xds_registry_instances', 'instances the registry holds', (s) => s.instances);
    gauge(
      'xds_registry_dropped',
      'items (services, ports, instances) the registry gave that its last update left out',
      (s) => s.dropped,
    );
    gauge(
      'xds_registry_last_change_seconds',
      'when the registry last changed (seconds since the epoch)',
      (s) => (s.lastChange === undefined ? 0 : s.lastChange.getTime() / 1000),
    );
    new Gauge({
      name: 'xds_registry_port_conflicts',
      help: 'hostnames two registries give different ports',
      registers: [options.metrics],
      collect() {
        this.set(aggregate.conflicts().length);
      },
    });
  }
  // log each registry's problems and recoveries once, not on every retry
  const logged = new Map<Registry, string>();
  aggregate.on('status', () => {
    for (const registry of registries) {
      const status = registry.status();
      const state = status.lastError?.message ?? (status.synced ? 'synced' : 'pending');
      if (logged.get(registry) === state) continue;
      logged.set(registry, state);
      const fields = { kind: status.kind, location: status.location, services: status.services };
      if (status.lastError?.kind === 'content') {
        logger.warn(
          { ...fields, dropped: status.dropped, error: status.lastError.message },
          'registry data left out (the rest is served)',
        );
      } else if (status.lastError?.kind === 'limit') {
        logger.warn(
          { ...fields, error: status.lastError.message },
          'registry over a limit; keeping its previous content',
        );
      } else if (status.lastError !== undefined) {
        logger.warn(
          { ...fields, stale: status.stale, error: status.lastError.message },
          'registry unreachable; retrying with backoff, keeping its last known services',
        );
      } else if (status.synced) logger.info(fields, 'registry synced');
    }
  });
  return {
    aggregate,
    synced: () => aggregate.synced(),
    pendingText() {
      const pending = aggregate.pending();
      if (pending.length === 0) return undefined;
      const named = pending.map(
        (s) => `${s.kind} ${s.location}${s.lastError === undefined ? '' : ` (${s.lastError.message})`}`,
      );
      return `registries pending: ${named.join(', ')}`;
    },
    model: (file, services) =>
      registries.length === 0 ? file : serviceModelOf(services ?? aggregate.services(), file),
    setGenerationError(error) {
      generationError = error;
    },
    summary() {
      return {
        registries: aggregate.statuses().map(registryView),
        conflicts: aggregate.conflicts().map((c) => ({ ...c })),
        ...(generationError === undefined
          ? {}
          : { generationError: { message: generationError.message, at: generationError.at.toISOString() } }),
      };
    },
    onChange(listener) {
      // without registries there is nothing to follow (the model file publishes on its own)
      if (registries.length === 0) return () => {};
      let timer: NodeJS.Timeout | undefined;
      let lastEnd = Number.NEGATIVE_INFINITY;
      let lastTook = 0;
      // a run under way (an async listener: a sliced publish); changes meanwhile wait for its end
      let running = false;
      let dirty = false;
      let stopped = false;
      const ended = (began: number): void => {
        running = false;
        lastTook = performance.now() - began;
        lastEnd = performance.now();
        if (dirty) changed();
      };
      const run = (): void => {
        timer = undefined;
        dirty = false;
        const began = performance.now();
        running = true;
        let result: void | Promise<void>;
        try {
          result = listener();
        } catch (error) {
          ended(began);
          throw error;
        }
        if (result instanceof Promise) void result.finally(() => ended(began));
        else ended(began);
      };
      // a change marks the model dirty; the listener runs once for every change since its last run
      function changed(): void {
        dirty = true;
        if (timer !== undefined || running || stopped) return;
        const now = performance.now();
        const at = Math.max(now + debounceMs, lastEnd + lastTook);
        timer = setTimeout(run, at - now);
      }
      let announced = aggregate.synced();
      const cancel = (): void => {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      };
      timers.add(cancel);
      const offs = [
        aggregate.on('change', () => {
          if (aggregate.synced()) changed();
        }),
        // the last registry to sync may bring no content change (an empty registry): publish then too
        aggregate.on('status', () => {
          if (aggregate.synced() && !announced) {
            announced = true;
            changed();
          }
        }),
      ];
      return () => {
        for (const off of offs) off();
        cancel();
        timers.delete(cancel);
      };
    },
    start: () => aggregate.start(),
    stop: () => {
      for (const cancel of timers) cancel();
      return aggregate.stop();
    },
  };
}
