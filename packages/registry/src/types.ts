/**
 * The service registry contract (in the spirit of Istio's ServiceDiscovery + Controller): a registry starts, lists
 * services with ports and instances, says when it has synced, and tells listeners when its content changed. The
 * generator never reads a registry directly: it reads the aggregate ({@link AggregateRegistry}).
 */
import type { Locality, Protocol, RouteRule, Subset } from '@xds/generator';
import type { RegistryLimits } from './registry-limits.js';

/** The kinds of registry this package adapts. */
export type RegistryKind = 'memory' | 'etcd' | 'consul' | 'eureka' | 'kubernetes';

/** A service port as a registry declares it. */
export interface RegistryPort {
  /** The port name; `<protocol in lower case>-<number>` when the registry has none. */
  readonly name: string;
  /** The port number clients use. */
  readonly port: number;
  /** The protocol. */
  readonly protocol: Protocol;
}

/** One instance (endpoint) of a registry service. */
export interface RegistryInstance {
  /** An IP literal (checked where registry data enters the aggregate; an instance with another one is left out). */
  readonly address: string;
  /** The port on the instance for every service port not in `ports`; absent: the service port's number. */
  readonly port?: number;
  /** The port on the instance by service port name. */
  readonly ports: Readonly<Record<string, number>>;
  /** Labels (subsets select on them). */
  readonly labels: Readonly<Record<string, string>>;
  /** Where it runs. */
  readonly locality: Locality;
  /** Load balancing weight (≥ 1). */
  readonly weight: number;
  /** Whether the registry says it is healthy. */
  readonly healthy: boolean;
  /**
   * The instance serves only the service ports named in `ports` (Consul, Eureka: a registration has one port), so
   * the cluster of another port of its service does not list it; otherwise it serves every port of its service.
   */
  readonly onlyNamedPorts?: boolean;
}

/** A service as a registry knows it. */
export interface RegistryService {
  /** The host name clients use: `web.default.svc.cluster.local`, `web.service.consul`, a Eureka VIP address. */
  readonly hostname: string;
  /** The short name, which the model file matches on together with `namespace`. */
  readonly name: string;
  /** The namespace (Kubernetes and etcd), or the registry kind for registries without namespaces. */
  readonly namespace: string;
  /** The ports, by number. */
  readonly ports: readonly RegistryPort[];
  /** The instances. */
  readonly instances: readonly RegistryInstance[];
  /** Subsets the registry declares itself (etcd documents may); usually empty. */
  readonly subsets?: readonly Subset[];
  /** Routes the registry declares itself (etcd documents may); usually empty. */
  readonly routes?: readonly RouteRule[];
}

/** A problem a registry ran into, reported as data (never thrown through the aggregate). */
export interface RegistryProblem {
  /** What went wrong, for people: `GET /v1/catalog/services: connect ECONNREFUSED 127.0.0.1:8500`. */
  readonly message: string;
  /** When. */
  readonly at: Date;
  /** The item it concerns, when one document or service is bad (`default/web`). */
  readonly item?: string;
  /**
   * `connection`: the server could not be read (the registry serves its last known content, stale); `limit`: its
   * content is over a {@link RegistryLimits} bound (it keeps its previous content); `content`: items were left out
   * by the check (the rest is served). Absent means `connection`.
   */
  readonly kind?: 'connection' | 'limit' | 'content';
}

/** A registry's state, for `/readyz`, the status page, `/debug/configz` and metrics. */
export interface RegistryStatus {
  /** The kind. */
  readonly kind: RegistryKind;
  /** Where it is (a URL or a file; secrets left out). */
  readonly location: string;
  /** It has listed its content at least once; until then it contributes nothing. */
  readonly synced: boolean;
  /** It lost its connection after syncing: it still serves the last known content. */
  readonly stale: boolean;
  /** How many services it holds. */
  readonly services: number;
  /** How many instances its services hold. */
  readonly instances: number;
  /** The last time its content changed. */
  readonly lastChange?: Date;
  /** The last problem (connection or content), cleared by the next full successful sync. */
  readonly lastError?: RegistryProblem;
  /** Problems with single items (a bad document, a bad instance), which were left out: the latest few. */
  readonly itemErrors: readonly RegistryProblem[];
  /** How many items (services, ports, instances) the last check left out. */
  readonly dropped: number;
}

/** What a registry tells its listeners. */
export interface RegistryEvents {
  /** The services changed (content, not only status). */
  change: () => void;
  /** The status changed (synced, stale, an error). */
  status: () => void;
}

/** A service registry. */
export interface Registry {
  /** The kind. */
  readonly kind: RegistryKind;
  /** Where it is. */
  readonly location: string;
  /** Starts listing and watching; resolves at once (sync is reported by `status().synced` and events). */
  start(): void;
  /** Stops watching and releases connections. */
  stop(): Promise<void>;
  /** The services, sorted by hostname; empty until synced. */
  services(): readonly RegistryService[];
  /** The state. */
  status(): RegistryStatus;
  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof RegistryEvents>(event: E, listener: RegistryEvents[E]): () => void;
}
