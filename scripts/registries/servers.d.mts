// Types of servers.mjs, for the TypeScript tests that start real registries.

/** The registries this helper can provision and start. */
export declare const registryKinds: readonly string[];

/** Installs or builds a registry if needed; returns its executable (the jar for eureka). */
export declare function provision(kind: string): string;

/** A free TCP port on 127.0.0.1. */
export declare function freePort(): Promise<number>;

/** A registry server this helper started. */
export interface RunningServer {
  readonly kind: string;
  readonly pid: number;
  /** `http://127.0.0.1:PORT` (eureka: `…/eureka`). */
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
  pause?(): Promise<void>;
  resume?(): Promise<void>;
}

/** etcd: also its ports, to restart it on the same data (`dir`) and ports. */
export interface RunningEtcd extends RunningServer {
  readonly clientPort: number;
  readonly peerPort: number;
}
export declare function startEtcd(options?: {
  dir?: string;
  clientPort?: number;
  peerPort?: number;
  timeoutMs?: number;
}): Promise<RunningEtcd>;
/**
 * Consul: `persistent` keeps its data in `dir`, and `restart` stops and starts it on the same data, on fresh ports
 * behind the same `url` (a port this process holds).
 */
export declare function startConsul(options?: {
  timeoutMs?: number;
  persistent?: boolean;
}): Promise<RunningServer & { restart(): Promise<void> }>;
/** The properties that make the Eureka server standalone (no peers) and its answers fresh (`startEureka`'s default). */
export declare const eurekaFreshProperties: Readonly<Record<string, string>>;
/** Eureka: `properties` are Spring properties (`name: value`) over {@link eurekaFreshProperties}. */
export declare function startEureka(options?: {
  timeoutMs?: number;
  properties?: Readonly<Record<string, string>>;
}): Promise<RunningServer>;
