/**
 * `xds-relay` as a program: the relay, gRPC health on its xDS port, the admin pages, metrics counted from the
 * server's and the upstreams' events, and a drain that ends downstream streams (clients go elsewhere) before the
 * upstream ones.
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import { type ClientLimits, defaultClientLimits } from '@xds/client';
import {
  addHealthService,
  boundAddress,
  metricTypeLabel,
  type ProcessSecurityOptions,
  packageJsonVersion,
  readProcessSecurity,
  warnPlaintextXds,
  watchServerEvents,
  xdsSecurityLabel,
} from '@xds/reference-server';
import { defaultLimits, type Limits } from '@xds/server';
import type { Logger } from 'pino';
import { createRelayAdmin } from './admin/relay-admin.js';
import { Relay } from './relay.js';
import { relayIdentityOptions } from './relay-identity.js';
import { createRelayMetrics, type RelayMetrics } from './relay-metrics.js';
import { defaultReadyGraceMs } from './upstream-limit-flags.js';
import type { UpstreamTls } from './upstream-tls.js';

/** Options of {@link startRelayProcess}. */
export interface RelayProcessOptions extends ProcessSecurityOptions {
  readonly upstreams: readonly string[];
  readonly xds: string;
  readonly admin: string;
  readonly groupBy: string;
  readonly upstreamProtocol: 'sotw' | 'delta';
  readonly maxGroups: number;
  /** The most new groups (new upstream streams) a second; default 200. */
  readonly maxNewGroupsPerSecond?: number;
  /** Each downstream peer's share: groups its clients are in at once; default 1,024. */
  readonly maxGroupsPerPeer?: number;
  /** Each downstream peer's share of the new groups a second; default 50. */
  readonly maxNewGroupsPerSecondPerPeer?: number;
  /** How long a group without downstream clients keeps its upstream stream (ms); default 60 s. */
  readonly groupIdleMs?: number;
  /** The most names of one type a group subscribes to upstream; default 50,000. */
  readonly maxNamesPerGroup?: number;
  /** The most names of every group's subscriptions together; default 500,000. */
  readonly maxNamesAllGroups?: number;
  /** Bytes of the names of one type a group subscribes to upstream; default 8 MiB. */
  readonly maxNameBytesPerGroup?: number;
  /** Bytes of the names of every group's subscriptions together; default 64 MiB. */
  readonly maxNameBytesAllGroups?: number;
  /** The most encoded resource bytes every group's upstream client holds together; default 128 MiB. */
  readonly maxResourceBytesAllGroups?: number;
  /** The most bytes of a group key; default 1,024. */
  readonly maxGroupKeyBytes?: number;
  /** The most groups sharing one upstream HTTP/2 connection; default 50. */
  readonly groupsPerConnection?: number;
  /**
   * Bounds on what the origin can make each group's upstream client keep (`--upstream-limit`, `ClientLimits` of
   * `@xds/client`); the others keep their defaults.
   */
  readonly upstreamLimits?: ClientLimits | undefined;
  /** How long a group may be without a live upstream stream before readiness counts it failing (ms); default 30 s. */
  readonly readyGraceMs?: number | undefined;
  /** How long a group's watches wait for the upstream to answer a request asking for more (ms); default 10 s. */
  readonly upstreamAnswerWaitMs?: number | undefined;
  readonly logger: Logger;
  /** Upstream channel credentials (TLS, see upstream-tls.ts); insecure by default. */
  readonly credentials?: ChannelCredentials | undefined;
  /** Upstream TLS from files reloaded when they change (`--upstream-ca/-cert/-key`); wins over `credentials`. */
  readonly upstreamTls?: UpstreamTls | undefined;
  /** The downstream xDS server's limits on what clients control (rule L2); the others keep their defaults. */
  readonly limits?: Limits | undefined;
  /**
   * Node identity (`--trust-domain`, rule L6): a downstream client certificate's SPIFFE ID `spiffe://TD/ns/NS/sa/SA`
   * may only claim Istio node ids of namespace NS; needs mutual TLS (`tls.ca`). CSDS is refused whenever client
   * certificates are required, this set or not (relay-identity.ts).
   */
  readonly trustDomain?: string | undefined;
  /** How long close() lets downstream connections finish (ms); default 5,000. */
  readonly closeGraceMs?: number;
}

/** A running relay process. */
export interface RelayProcess {
  readonly relay: Relay;
  readonly metrics: RelayMetrics;
  /** The bound downstream xDS address. */
  readonly xdsAddress: string;
  /** The bound admin address. */
  readonly adminAddress: string;
  /** Drains: not ready, downstream streams end, upstream streams close, listeners stop. */
  close(): Promise<void>;
}

/** Starts the relay, its health service and admin pages. */
export async function startRelayProcess(options: RelayProcessOptions): Promise<RelayProcess> {
  const { logger } = options;
  // Certificates and the token are read first: a missing or mismatched file stops the start with its name.
  const security = readProcessSecurity(options);
  const { xdsTls } = security;
  const credentials = options.upstreamTls?.credentials() ?? options.credentials;
  const relay = new Relay({
    upstreams: options.upstreams,
    groupBy: options.groupBy,
    upstreamProtocol: options.upstreamProtocol,
    maxGroups: options.maxGroups,
    ...(options.maxNewGroupsPerSecond === undefined
      ? {}
      : { maxNewGroupsPerSecond: options.maxNewGroupsPerSecond }),
    ...(options.maxGroupsPerPeer === undefined ? {} : { maxGroupsPerPeer: options.maxGroupsPerPeer }),
    ...(options.maxNewGroupsPerSecondPerPeer === undefined
      ? {}
      : { maxNewGroupsPerSecondPerPeer: options.maxNewGroupsPerSecondPerPeer }),
    ...(options.groupIdleMs === undefined ? {} : { groupIdleMs: options.groupIdleMs }),
    ...(options.maxNamesPerGroup === undefined ? {} : { maxNamesPerGroup: options.maxNamesPerGroup }),
    ...(options.maxNamesAllGroups === undefined ? {} : { maxNamesAllGroups: options.maxNamesAllGroups }),
    ...(options.maxNameBytesPerGroup === undefined
      ? {}
      : { maxNameBytesPerGroup: options.maxNameBytesPerGroup }),
    ...(options.maxNameBytesAllGroups === undefined
      ? {}
      : { maxNameBytesAllGroups: options.maxNameBytesAllGroups }),
    ...(options.maxResourceBytesAllGroups === undefined
      ? {}
      : { maxResourceBytesAllGroups: options.maxResourceBytesAllGroups }),
    ...(options.maxGroupKeyBytes === undefined ? {} : { maxGroupKeyBytes: options.maxGroupKeyBytes }),
    ...(options.groupsPerConnection === undefined
      ? {}
      : { groupsPerConnection: options.groupsPerConnection }),
    ...(credentials === undefined ? {} : { credentials }),
    ...(options.upstreamLimits === undefined ? {} : { upstreamLimits: options.upstreamLimits }),
    ...(options.readyGraceMs === undefined ? {} : { readyGraceMs: options.readyGraceMs }),
    ...(options.upstreamAnswerWaitMs === undefined
      ? {}
      : { upstreamAnswerWaitMs: options.upstreamAnswerWaitMs }),
    logger,
    server: {
      ...relayIdentityOptions(options.trustDomain, xdsTls?.requireClientCert === true, security.adminToken),
      closeGraceMs: options.closeGraceMs ?? 5000,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    },
  });
  const metrics = createRelayMetrics(relay);
  const onReloaded = () => logger.info({}, 'upstream TLS files reloaded: new upstream connections use them');
  const onReloadFailed = ({ message }: { message: string }) =>
    logger.warn({ err: message }, `upstream TLS files not reloaded, the previous ones stay: ${message}`);
  options.upstreamTls?.on('reloaded', onReloaded).on('reloadFailed', onReloadFailed);
  const unwatch = watchServerEvents(relay.server, metrics, logger);
  // Metric labels are a served type's name or `unknown`, never a URL from elsewhere (rule L2; as the server's).
  relay.on('upstreamUpdate', ({ typeUrl }) =>
    metrics.upstreamUpdates.inc({ type: metricTypeLabel(typeUrl) }),
  );
  relay.on('upstreamNack', ({ typeUrl }) => metrics.upstreamNacks.inc({ type: metricTypeLabel(typeUrl) }));
  relay.on('groupRefused', ({ limit }) => metrics.groupsRefused.inc({ limit }));
  const health = addHealthService(relay.server.grpcServer);
  let ready = false;
  let xdsAddress = options.xds;
  const admin = createRelayAdmin(
    {
      relay,
      registry: metrics.registry,
      ready: () => ready,
      xdsAddress: () => xdsAddress,
      version: packageJsonVersion(new URL('../package.json', import.meta.url)),
      startedAt: Date.now(),
    },
    logger,
    security.adminOptions,
  );
  let adminAddress: string;
  try {
    xdsAddress = boundAddress(options.xds, await relay.listen(options.xds, security.listenOptions));
    adminAddress = boundAddress(options.admin, await admin.listen(options.admin));
  } catch (error) {
    await Promise.all([relay.close(), admin.close()]);
    unwatch();
    throw error;
  }
  health.set('SERVING');
  ready = true;
  const xdsSecurity = xdsSecurityLabel(xdsTls);
  logger.info(
    {
      xds: xdsAddress,
      admin: adminAddress,
      upstreams: options.upstreams,
      groupBy: options.groupBy,
      xdsSecurity,
      trustDomain: options.trustDomain,
      upstreamTls: credentials !== undefined,
      adminToken: security.adminToken !== undefined,
      limits: { ...defaultLimits, ...options.limits },
      upstreamLimits: { ...defaultClientLimits, ...options.upstreamLimits },
      readyGraceMs: options.readyGraceMs ?? defaultReadyGraceMs,
      maxGroups: options.maxGroups,
      maxNewGroupsPerSecond: relay.groupCounts().maxNewGroupsPerSecond,
      maxGroupsPerPeer: relay.groupCounts().maxGroupsPerPeer,
      maxNewGroupsPerSecondPerPeer: relay.groupCounts().maxNewGroupsPerSecondPerPeer,
      groupIdleMs: options.groupIdleMs ?? 60_000,
    },
    `xds-relay started: xDS (${xdsSecurity}) on ${xdsAddress}, admin on ${security.adminScheme}://${adminAddress}/, upstream ${options.upstreams.join(',')}`,
  );
  warnPlaintextXds(logger, options.xds, xdsAddress, xdsTls);
  let closing: Promise<void> | undefined;
  return {
    relay,
    metrics,
    xdsAddress,
    adminAddress,
    close() {
      if (closing !== undefined) return closing;
      ready = false;
      health.set('NOT_SERVING');
      logger.info({ streams: relay.server.streamCount }, 'draining');
      closing = (async () => {
        await relay.close();
        await admin.close();
        unwatch();
        options.upstreamTls?.off('reloaded', onReloaded).off('reloadFailed', onReloadFailed);
        logger.info({}, 'stopped');
      })();
      return closing;
    },
  };
}
