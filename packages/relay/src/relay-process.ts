/**
 * `xds-relay` as a program: the relay, gRPC health on its xDS port, the admin pages, metrics counted from the
 * server's and the upstreams' events, and a drain that ends downstream streams (clients go elsewhere) before the
 * upstream ones.
 */
import {
  addHealthService,
  formatAddress,
  parseAddress,
  typeLabel,
  watchServerEvents,
} from '@xds/reference-server';
import type { Logger } from 'pino';
import { createRelayAdmin } from './admin/relay-admin.js';
import { Relay } from './relay.js';
import { createRelayMetrics, type RelayMetrics } from './relay-metrics.js';

/** Options of {@link startRelayProcess}. */
export interface RelayProcessOptions {
  readonly upstreams: readonly string[];
  readonly xds: string;
  readonly admin: string;
  readonly groupBy: string;
  readonly upstreamProtocol: 'sotw' | 'delta';
  readonly maxGroups: number;
  readonly logger: Logger;
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

function bound(address: string, port: number): string {
  const parsed = parseAddress(address);
  return typeof parsed === 'string' ? address : formatAddress({ host: parsed.host, port });
}

/** Starts the relay, its health service and admin pages. */
export async function startRelayProcess(options: RelayProcessOptions): Promise<RelayProcess> {
  const { logger } = options;
  const relay = new Relay({
    upstreams: options.upstreams,
    groupBy: options.groupBy,
    upstreamProtocol: options.upstreamProtocol,
    maxGroups: options.maxGroups,
    logger,
    server: { closeGraceMs: options.closeGraceMs ?? 5000 },
  });
  const metrics = createRelayMetrics(relay);
  const unwatch = watchServerEvents(relay.server, metrics, logger);
  relay.on('upstreamUpdate', ({ typeUrl }) => metrics.upstreamUpdates.inc({ type: typeLabel(typeUrl) }));
  relay.on('upstreamNack', ({ typeUrl }) => metrics.upstreamNacks.inc({ type: typeLabel(typeUrl) }));
  const health = addHealthService(relay.server.grpcServer);
  let ready = false;
  const admin = createRelayAdmin({ relay, registry: metrics.registry, ready: () => ready }, logger);
  let xdsAddress: string;
  let adminAddress: string;
  try {
    xdsAddress = bound(options.xds, await relay.listen(options.xds));
    adminAddress = bound(options.admin, await admin.listen(options.admin));
  } catch (error) {
    await Promise.all([relay.close(), admin.close()]);
    unwatch();
    throw error;
  }
  health.set('SERVING');
  ready = true;
  logger.info(
    { xds: xdsAddress, admin: adminAddress, upstreams: options.upstreams, groupBy: options.groupBy },
    `xds-relay started: xDS on ${xdsAddress}, admin on http://${adminAddress}/, upstream ${options.upstreams.join(',')}`,
  );
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
