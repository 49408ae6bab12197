import { readFileSync } from 'node:fs';
import { Code, XdsError } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { type ModelLimits, nodeKeyByFlavour, publishModelAsync, type ServiceModel } from '@xds/generator';
import type { AggregateService, RegistryLimits, RegistryParseOptions, RegistrySpec } from '@xds/registry';
import {
  type AuthorizeStatus,
  defaultLimits,
  type KeepaliveOptions,
  type Limits,
  type NodeIdentityOptions,
  XdsServer,
} from '@xds/server';
import type { Logger } from 'pino';
import type { AdminContext } from './admin/admin-context.js';
import { createAdminServer } from './admin/admin-server.js';
import type { CsdsMode } from './cli.js';
import { ConvergenceTracker } from './convergence.js';
import { csdsAccess } from './csds-access.js';
import { exampleModelPath } from './example-model.js';
import { addHealthService } from './health.js';
import { checkMergedModel, MergedModelRefusal } from './merged-model.js';
import { createMetrics, type Metrics } from './metrics.js';
import { ModelFile } from './model-file.js';
import { boundAddress, type ProcessSecurityOptions, readProcessSecurity } from './process-security.js';
import { addReflectionService } from './reflection.js';
import { createServerRegistries, type ServerRegistries } from './registries.js';
import { warnPlaintextXds, xdsSecurityLabel } from './security-flags.js';
import { watchServerEvents } from './server-events.js';
import { typeLabel } from './type-labels.js';

/** Options of {@link startReferenceServer}. */
export interface ReferenceServerOptions extends ProcessSecurityOptions {
  /** The service model file, watched for changes; undefined serves the embedded Bookinfo example. */
  readonly config?: string | undefined;
  /** Where xDS listens, `host:port`. */
  readonly xds: string;
  /** Where the admin HTTP server listens, `host:port`. */
  readonly admin: string;
  readonly logger: Logger;
  /**
   * Quiet time before a config change is applied (ms); default 100. Registry changes are applied at most once per
   * this time (and never sooner after a generation than it took).
   */
  readonly debounceMs?: number;
  /** The xDS server's write budget: response bytes in flight across all clients (MiB); default 64. */
  readonly maxInFlightMiB?: number;
  /**
   * HTTP/2 keepalive of the xDS port (`--keepalive-time-ms`, `--keepalive-timeout-ms`); unset fields take
   * `@xds/server`'s defaults.
   */
  readonly keepalive?: KeepaliveOptions | undefined;
  /** How often the config file's stat is polled besides change notifications (ms); default 1,000. */
  readonly pollMs?: number;
  /**
   * Bounds on the model file's size, nesting, expanded size and errors, and (with `registries`) on the model merged
   * from the file and the registries (`--model-limit NAME=VALUE`); unset ones take `defaultModelLimits`.
   */
  readonly modelLimits?: Partial<ModelLimits> | undefined;
  /** How long reading and checking one change may take (ms); default 60,000 (`defaultReloadTimeoutMs`). */
  readonly reloadTimeoutMs?: number | undefined;
  /** The heap of the worker that reads a change (MiB); default 1,024 (`defaultReloadHeapMiB`). */
  readonly reloadHeapMiB?: number | undefined;
  /** How long close() lets xDS connections finish before forcing them (ms); default 5,000. */
  readonly closeGraceMs?: number;
  /**
   * Who may read client status (CSDS) when there is no `nodeIdentity`: loopback peers (the default), anyone, or no
   * one (csds-access.ts). With `nodeIdentity`, CSDS is refused.
   */
  readonly csds?: CsdsMode | undefined;
  /** Bind client certificates to node ids (needs mutual TLS): see `XdsServerOptions.nodeIdentity`. */
  readonly nodeIdentity?: NodeIdentityOptions | undefined;
  /** Service registries whose services are merged into the model (`--registry KIND=LOCATION`). */
  readonly registries?: readonly RegistrySpec[] | undefined;
  /** The xDS server's limits on what clients control (`--limit NAME=VALUE`); unset ones keep their defaults. */
  readonly limits?: Limits | undefined;
  /** Bounds on the registries' content and responses (`--registry-limit NAME=VALUE`); unset ones take the defaults. */
  readonly registryLimits?: Partial<RegistryLimits> | undefined;
  /**
   * How the registries parse their servers' answers off the event loop (`--registry-limit parseHeapMiB=…`,
   * `parseTimeoutMs`, `inlineParseBytes`); unset ones take `defaultParseOptions`. Etcd's answers are not parsed so.
   */
  readonly registryParse?: Partial<RegistryParseOptions> | undefined;
}

/** A running reference server. */
export interface ReferenceServer {
  /** The bound xDS address (`127.0.0.1:18000`). */
  readonly xdsAddress: string;
  /** The bound admin address. */
  readonly adminAddress: string;
  readonly xds: XdsServer;
  readonly cache: SnapshotCache;
  readonly metrics: Metrics;
  readonly model: ModelFile;
  /** The service registries (none without `registries`). */
  readonly registries: ServerRegistries;
  /** Drains: refuses new streams, ends open ones (clients reconnect elsewhere), stops watching and listening. */
  close(): Promise<void>;
}

/** The version in this package's package.json (the same file from `src/` and `dist/`). */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** Every limit the xDS server runs with (the given ones over the defaults), for the start-up log line. */
function effectiveLimits(limits: Limits | undefined): Record<string, number> {
  const given = Object.entries(limits ?? {}).filter(([, value]) => value !== undefined);
  return { ...defaultLimits, ...Object.fromEntries(given) };
}

/** The `authorizeStatus` option of a `--csds` mode (none for `open`). */
function csdsOption(mode: CsdsMode, adminToken: string | undefined): { authorizeStatus?: AuthorizeStatus } {
  const hook = csdsAccess(mode, adminToken);
  return hook === undefined ? {} : { authorizeStatus: hook };
}

/**
 * Starts `xds-server`: loads the model (throwing a ModelLoadError when it is invalid), publishes it for Envoy and
 * proxyless gRPC clients (one snapshot each), serves xDS with gRPC health and reflection, serves the admin pages
 * and metrics, and applies every valid change of the file.
 */
export async function startReferenceServer(options: ReferenceServerOptions): Promise<ReferenceServer> {
  const { logger } = options;
  // Certificates and the token are read first: a missing or mismatched file stops the start with its name.
  const security = readProcessSecurity(options);
  const { xdsTls } = security;
  const model = ModelFile.open({
    file: options.config ?? exampleModelPath(),
    source: options.config === undefined ? 'embedded' : 'file',
    logger,
    ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    ...(options.modelLimits === undefined ? {} : { limits: options.modelLimits }),
    ...(options.reloadTimeoutMs === undefined ? {} : { reloadTimeoutMs: options.reloadTimeoutMs }),
    ...(options.reloadHeapMiB === undefined ? {} : { reloadHeapMiB: options.reloadHeapMiB }),
  });
  const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
  const xds = new XdsServer({
    cache,
    logger,
    closeGraceMs: options.closeGraceMs ?? 5000,
    writeBudget: { maxBytesInFlight: (options.maxInFlightMiB ?? 64) * 1024 * 1024 },
    ...(options.keepalive === undefined ? {} : { keepalive: options.keepalive }),
    ...(options.nodeIdentity === undefined ? {} : { nodeIdentity: options.nodeIdentity }),
    // Rule L6: without node identity, CSDS goes to whom --csds says (loopback peers by default), and with an admin
    // token only to calls that carry it.
    ...(options.nodeIdentity === undefined
      ? csdsOption(options.csds ?? 'loopback', security.adminToken)
      : {}),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  // the latest merge of the model file and the registries was past a model limit (merged-model.ts)
  let refusal: { readonly message: string; readonly at: Date } | undefined;
  const metrics = createMetrics({
    connectedClients: () => xds.clientCount(),
    configErrors: () => model.state.error?.errors.length ?? 0,
    mergeErrors: () => (refusal === undefined ? 0 : 1),
    writeBudget: () => xds.writeBudget(),
    streams: () => xds.streamStats(),
    connections: () => xds.connectionStats(),
    partialRequests: () => xds.partialRequestStats(),
  });
  const unwatch = watchServerEvents(xds, metrics, logger);
  const registries = createServerRegistries(options.registries ?? [], {
    logger,
    metrics: metrics.registry,
    domain: model.state.model.domain,
    ...(options.registryLimits === undefined ? {} : { limits: options.registryLimits }),
    ...(options.registryParse === undefined ? {} : { parse: options.registryParse }),
    ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
  });
  const tracker = new ConvergenceTracker(xds, cache, metrics);

  // The registries' services of the last generation that succeeded: when a generation fails, the model file is
  // served with these, so that neither source freezes the other (registry data is checked where it enters the
  // aggregate, so this is a second line, not the first). Empty before the first success: nothing was served yet.
  let lastGood: readonly AggregateService[] = [];
  // the registries' content since their first sync has been published (or failed to be): readiness waits for it
  let published = false;
  // a merge of the file and the registries has been served: a refused merge then keeps the server ready (the last
  // good snapshots are served, as for a refused file); before, it serves the file alone, a hole, and is not ready
  let merged = false;
  let generationError: { message: string; at: Date } | undefined;
  // What failed is shown on the status page and /debug/configz: a failed generation, else a refused merge.
  const setGenerationError = (
    error: { message: string; at: Date } | undefined,
    refused: { message: string; at: Date } | undefined = undefined,
  ): void => {
    generationError = error;
    refusal = refused;
    registries.setGenerationError(error ?? refused);
  };
  const withRegistries = registries.aggregate.registries.length > 0;
  // Generation runs in slices (rule L4): xDS and /healthz are answered meanwhile. A newer model or registry change
  // supersedes a publish under way (it sets nothing); close() stops it.
  const stopping = new AbortController();
  const publishing = new Set<Promise<void>>();
  const superseded = (error: unknown): boolean => error instanceof XdsError && error.code === Code.Cancelled;
  const setSnapshots = async (
    served: ServiceModel,
    services: readonly AggregateService[],
    generation: number,
  ) => {
    const merge = registries.model(served, services);
    // The file alone was checked by its reader; a merge is checked here, before anything is generated (R5).
    if (withRegistries) {
      const file = { path: model.state.file, model: served };
      await checkMergedModel(merge, file, services, options.modelLimits ?? {}, stopping.signal);
    }
    const published = await publishModelAsync(cache, merge, { signal: stopping.signal });
    const changes: Record<string, Record<string, number>> = {};
    for (const [flavour, result] of Object.entries(published)) {
      if (result === undefined) continue;
      changes[flavour] = Object.fromEntries(
        [...result.changes].map(([typeUrl, names]) => [typeLabel(typeUrl), names.size]),
      );
    }
    logger.info({ generation, changes }, 'snapshots set');
  };
  const generate = async (served: ServiceModel, generation: number): Promise<void> => {
    // never push a hole: nothing is published before every registry has synced once
    if (!registries.synced()) return;
    const services = registries.aggregate.services();
    try {
      await setSnapshots(served, services, generation);
      published = true;
      lastGood = services;
      if (withRegistries) {
        merged = true;
        metrics.modelMerges.inc({ result: 'applied' });
      }
      setGenerationError(undefined);
    } catch (error) {
      if (superseded(error)) return;
      published = true;
      const reason = error instanceof Error ? error.message : String(error);
      const refused = error instanceof MergedModelRefusal;
      if (refused) {
        metrics.modelMerges.inc({ result: 'refused' });
        logger.error(
          { generation, limit: error.limit, error: reason },
          'merged model refused (past a model limit)',
        );
      } else logger.error({ err: error, generation }, 'generating the snapshots failed');
      const what = refused ? 'the merged model was refused' : 'generating the snapshots failed';
      const fail = (message: string): void => {
        const failure = { message, at: new Date() };
        if (refused) setGenerationError(undefined, failure);
        else setGenerationError(failure);
      };
      if (lastGood !== services) {
        try {
          await setSnapshots(served, lastGood, generation);
          fail(`${what} (${reason}); serving the model file with the registries' last good services`);
          return;
        } catch (fallbackError) {
          if (superseded(fallbackError)) return;
          // the model file alone fails too: keep the previous snapshots
        }
      }
      fail(`${what} (${reason}); the previous ones stay`);
    }
  };
  const publish = (served: ServiceModel, generation: number): Promise<void> => {
    const run = generate(served, generation);
    publishing.add(run);
    const done = () => publishing.delete(run);
    run.then(done, done);
    return run;
  };
  await publish(model.state.model, model.state.generation);
  model.on('applied', ({ model: next, state }) => {
    metrics.configReloads.inc({ result: 'applied' });
    void publish(next, state.generation);
  });
  model.on('rejected', () => metrics.configReloads.inc({ result: 'rejected' }));
  registries.onChange(() => publish(model.state.model, model.state.generation));
  registries.start();

  const health = addHealthService(xds.grpcServer);
  addReflectionService(xds.grpcServer);
  let ready = false;
  let xdsAddress = options.xds;
  const ctx: AdminContext = {
    xds,
    cache,
    config: () => model.state,
    ready: () =>
      ready &&
      registries.synced() &&
      published &&
      generationError === undefined &&
      (refusal === undefined || merged),
    notReady: () =>
      registries.pendingText() ??
      generationError?.message ??
      (refusal === undefined || merged ? undefined : refusal.message) ??
      (published ? undefined : 'the registries have synced; their first snapshots are being made'),
    registries: () => registries.summary(),
    registry: metrics.registry,
    xdsAddress: () => xdsAddress,
    version: packageVersion(),
    startedAt: Date.now(),
  };
  const admin = createAdminServer(ctx, logger, security.adminOptions);
  let adminAddress: string;
  try {
    xdsAddress = boundAddress(options.xds, await xds.listen(options.xds, security.listenOptions));
    adminAddress = boundAddress(options.admin, await admin.listen(options.admin));
  } catch (error) {
    await Promise.all([xds.close(), admin.close(), model.close(), registries.stop()]);
    tracker.close();
    unwatch();
    throw error;
  }
  health.set('SERVING');
  ready = true;
  model.watch();
  const xdsSecurity = xdsSecurityLabel(xdsTls);
  logger.info(
    {
      xds: xdsAddress,
      admin: adminAddress,
      config: model.state.file,
      source: model.state.source,
      xdsSecurity,
      nodeIdentity: options.nodeIdentity !== undefined,
      adminToken: security.adminToken !== undefined,
      limits: effectiveLimits(options.limits),
      keepalive: options.keepalive,
    },
    `xds-server started: xDS (${xdsSecurity}) on ${xdsAddress}, admin on ${security.adminScheme}://${adminAddress}/`,
  );
  warnPlaintextXds(logger, options.xds, xdsAddress, xdsTls);

  let closing: Promise<void> | undefined;
  return {
    xdsAddress,
    adminAddress,
    xds,
    cache,
    metrics,
    model,
    registries,
    close() {
      if (closing !== undefined) return closing;
      ready = false;
      health.set('NOT_SERVING');
      logger.info({ streams: xds.streamCount }, 'draining');
      closing = (async () => {
        await model.close();
        await registries.stop();
        stopping.abort(new XdsError(Code.Cancelled, 'the server is closing'));
        await Promise.allSettled(publishing);
        await xds.close();
        await admin.close();
        tracker.close();
        unwatch();
        cache.close();
        logger.info({}, 'stopped');
      })();
      return closing;
    },
  };
}
