import type { SnapshotCache } from '@xds/cache';
import type { XdsServer } from '@xds/server';
import type { Registry } from 'prom-client';
import type { ConfigState } from '../config-state.js';
import type { RegistriesSummary } from '../registries.js';

/** What the admin server reads: the xDS server, its cache, the config and the metrics. */
export interface AdminContext {
  readonly xds: XdsServer;
  readonly cache: SnapshotCache;
  /** The config being served and its current error. */
  readonly config: () => ConfigState;
  /** True once the xDS listener is up with a model published, until shutdown starts. */
  readonly ready: () => boolean;
  /** Why the server is not ready, when it knows (registries pending), for `/readyz`. */
  readonly notReady?: () => string | undefined;
  /** The service registries' statuses and port conflicts, for `/debug/configz`, `/debug/syncz` and `/`. */
  readonly registries?: () => RegistriesSummary;
  readonly registry: Registry;
  /** The xDS listening address, for the status page. */
  readonly xdsAddress: () => string;
  /** The server's version (the package version), for the status page. */
  readonly version: string;
  /** When the server started (ms since the epoch), for its uptime. */
  readonly startedAt: number;
}
