/**
 * `xds-relay` as a program: the relay, gRPC health on its xDS port, the admin pages, metrics counted from the
 * server's and the upstreams' events, and a drain that ends downstream streams (clients go elsewhere) before the
 * upstream ones.
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import {
  addHealthService,
  boundAddress,
  type ProcessSecurityOptions,
  packageJsonVersion,
  readProcessSecurity,
  typeLabel,
  warnPlaintextXds,
  watchServerEvents,
  xdsSecurityLabel,
} from '@xds/reference-server';
import type { Logger } from 'pino';
import { createRelayAdmin } from './admin/relay-admin.js';
import { Relay } from './relay.js';
import { createRelayMetrics, type RelayMetrics } from './relay-metrics.js';

/** Options of {@link startRelayProcess}. */
export interface RelayProcessOptions extends ProcessSecurityOptions {
  readonly upstreams: readonly string[];
  readonly xds: string;
  readonly admin: string;
  readonly groupBy: string;
  readonly upstreamProtocol: 'sotw' | 'delta';
  readonly maxGroups: number;
  readonly logger: Logger;
  /** Upstream channel credentials (TLS, see upstream-tls.ts); insecure by default. */
  readonly credentials?: ChannelCredentials | undefined;
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
  const relay = new Relay({
    upstreams: options.upstreams,
    groupBy: options.groupBy,
    upstreamProtocol: options.upstreamProtocol,
    maxGroups: options.maxGroups,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    logger,
    server: { closeGraceMs: options.closeGraceMs ?? 5000 },
  });
  const metrics = createRelayMetrics(relay);
  const unwatch = watchServerEvents(relay.server, metrics, logger);
  relay.on('upstreamUpdate', ({ typeUrl }) => metrics.upstreamUpdates.inc({ type: typeLabel(typeUrl) }));
  relay.on('upstreamNack', ({ typeUrl }) => metrics.upstreamNacks.inc({ type: typeLabel(typeUrl) }));
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
      upstreamTls: options.credentials !== undefined,
      adminToken: security.adminToken !== undefined,
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
        logger.info({}, 'stopped');
      })();
      return closing;
    },
  };
}
