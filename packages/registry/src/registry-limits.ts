/**
 * The bounds on what a registry server controls (the registry-side counterpart of rule L2): a registry is data from
 * outside, so its response sizes, service counts and instance counts are bounded by configuration, each with a
 * documented default. Going past one is a registry error (shown as its `lastError` on the status page) and the
 * registry keeps its previous content; it never takes the server's memory or event loop with it. The time between
 * two updates is bounded below too, so that a server sending changes as fast as it can costs one update per
 * interval, not one per change.
 */

/** The registry limits; every adapter and the aggregate take them (`--registry-limit NAME=VALUE` on `xds-server`). */
export interface RegistryLimits {
  /** Services one registry may hold. Default 10,000. */
  readonly maxRegistryServices: number;
  /** Instances one service of one registry may hold. Default 10,000. */
  readonly maxInstancesPerService: number;
  /**
   * Instances one registry may hold over all its services (what its server's data expands to: a Eureka instance
   * with several VIPs counts once per VIP). Default 100,000.
   */
  readonly maxRegistryInstances: number;
  /** Endpoints one cluster may list: a hostname's instances over every registry. Default 10,000. */
  readonly maxEndpointsPerCluster: number;
  /** Bytes of one response body from a registry server (Consul, Eureka). Default 64 MiB. */
  readonly maxRegistryResponseBytes: number;
  /**
   * Bytes of response bodies one registry holds at once while reading them (Consul reads one blocking query per
   * service, up to `maxRegistryServices` at once): a read that would go past it is cancelled. A quarter of it is kept
   * for small reads (reads past 1/64 of it hold at most three quarters together), so big answers never refuse a
   * small one. Default 128 MiB.
   */
  readonly maxRegistryBytesInFlight: number;
  /**
   * Objects of one kind one Kubernetes registry holds (Services, EndpointSlices, Pods: each kind counted alone).
   * Default 150,000 (Kubernetes' own largest supported cluster has 150,000 Pods).
   */
  readonly maxRegistryObjects: number;
  /** Bytes of one instance's labels (keys and values, UTF-8); an instance with more is left out. Default 4,096. */
  readonly maxInstanceLabelBytes: number;
  /**
   * The shortest time between two updates of one registry's services, in milliseconds: a burst of changes from its
   * server (watch events, blocking query answers) is applied as one update, at most once per this time. Default 100.
   */
  readonly minRegistryUpdateMs: number;
}

/** The default registry limits. */
export const defaultRegistryLimits: RegistryLimits = Object.freeze({
  maxRegistryServices: 10_000,
  maxInstancesPerService: 10_000,
  maxRegistryInstances: 100_000,
  maxEndpointsPerCluster: 10_000,
  maxRegistryResponseBytes: 64 * 1024 * 1024,
  maxRegistryBytesInFlight: 128 * 1024 * 1024,
  maxRegistryObjects: 150_000,
  maxInstanceLabelBytes: 4096,
  minRegistryUpdateMs: 100,
});

/** The limits with the given ones over the defaults (undefined values keep the default). */
export function resolveRegistryLimits(given: Partial<RegistryLimits> = {}): RegistryLimits {
  const out: Record<string, number> = { ...defaultRegistryLimits };
  for (const [name, value] of Object.entries(given)) {
    if (value !== undefined && Object.hasOwn(defaultRegistryLimits, name)) out[name] = value;
  }
  return out as unknown as RegistryLimits;
}
