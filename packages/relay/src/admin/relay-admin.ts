/**
 * The relay's admin pages: `/` (the status page, xds-server's with the relay's upstream section), `/healthz`,
 * `/debug/config_dump?node=ID`, `/readyz` (the relay's readiness rule, readiness.ts: ready when it can reach its origin;
 * one that is not still serves what it holds to its clients, rule X3), `/metrics` (Prometheus) and `/debug/syncz`. They are served by the admin HTTP(S) server
 * `xds-server` uses (security headers, bearer token, TLS, rule L4), not a copy of it.
 */
import {
  configDumpPage,
  createHttpAdmin,
  type HttpAdmin,
  type HttpAdminOptions,
  send,
  sendJson,
  statusPageContentSecurityPolicy,
  textType,
} from '@xds/reference-server';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Relay } from '../relay.js';
import { renderRelayStatusPage } from './relay-status-page.js';
import { relaySyncz } from './relay-syncz.js';

/** What the relay's admin pages read. */
export interface RelayAdminContext {
  readonly relay: Relay;
  readonly registry: Registry;
  /** True while the relay serves (listening, not draining). */
  readonly ready: () => boolean;
  /** The downstream xDS address, for the status page. */
  readonly xdsAddress: () => string;
  /** The relay's version (its package's), for the status page. */
  readonly version: string;
  /** When the relay started (ms since the epoch), for its uptime. */
  readonly startedAt: number;
}

/** Creates the relay's admin server; `options` gives it a bearer token and TLS, as `xds-server`'s. */
export function createRelayAdmin(
  ctx: RelayAdminContext,
  logger: Logger,
  options: HttpAdminOptions = {},
): HttpAdmin {
  return createHttpAdmin(
    {
      '/': (_url, response) =>
        send(
          response,
          200,
          'text/html; charset=utf-8',
          renderRelayStatusPage(relaySyncz(ctx.relay, ctx.version, ctx.startedAt), ctx.xdsAddress()),
          { 'content-security-policy': statusPageContentSecurityPolicy },
        ),
      '/healthz': (_url, response) => send(response, 200, textType, 'ok\n'),
      // Ready by the relay's readiness rule (readiness.ts): it can reach its origin, not merely a channel is up.
      '/readyz': async (_url, response) => {
        const readiness = await ctx.relay.readiness(!ctx.ready());
        const detail = `upstream: ${ctx.relay.upstreamState()}\n${readiness.reason}\n`;
        if (readiness.ready) send(response, 200, textType, `ready\n${detail}`);
        else send(response, 503, textType, `not ready\n${detail}`);
      },
      '/metrics': async (_url, response) => {
        send(response, 200, ctx.registry.contentType, await ctx.registry.metrics());
      },
      '/debug/syncz': (_url, response) =>
        sendJson(response, 200, relaySyncz(ctx.relay, ctx.version, ctx.startedAt)),
      // What a downstream node (or a group) is served, as CSDS shows it, secrets redacted (rule L6).
      '/debug/config_dump': configDumpPage({ xds: ctx.relay.server, cache: ctx.relay.cache }),
    },
    logger,
    options,
  );
}
