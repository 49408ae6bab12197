// The admin pages of `xds-server`: the status page, the debug views, health and metrics, served by the shared
// operator server (http-admin.ts: security headers, bearer token, HTTPS, rule L4).
import type { JsonValue } from '@bufbuild/protobuf';
import type { ServerTls } from '@xds/server';
import type { Logger } from 'pino';
import type { AdminContext } from './admin-context.js';
import { cdsz } from './cdsz.js';
import { adsz, configDumpPage, configz, edsz } from './debug-views.js';
import { createHttpAdmin, type HttpAdmin, type Route, send, sendJson, textType } from './http-admin.js';
import { renderStatusPage, statusPageContentSecurityPolicy } from './status-page.js';
import { syncz } from './syncz.js';

/** Options of {@link createAdminServer}. */
export interface AdminServerOptions {
  /**
   * The bearer token every page but `/healthz` and `/readyz` asks for (`Authorization: Bearer TOKEN`); without it
   * the pages are open (on loopback only, as the command line enforces).
   */
  readonly token?: string;
  /** Serve HTTPS with these certificates (reloaded when their files change) instead of HTTP. */
  readonly tls?: ServerTls;
}

/** The admin HTTP server (see {@link createAdminServer}). */
export type AdminServer = HttpAdmin;

function json(response: Parameters<Route>[1], status: number, value: JsonValue | object): void {
  sendJson(response, status, value);
}

/**
 * The admin endpoints: `/` (status page), `/debug/syncz`, `/debug/configz`, `/debug/adsz`,
 * `/debug/config_dump?node=ID`, `/debug/cdsz`, `/debug/edsz`, `/healthz`, `/readyz` and `/metrics` (Prometheus). GET only.
 */
export function createAdminServer(
  ctx: AdminContext,
  logger: Logger,
  options: AdminServerOptions = {},
): AdminServer {
  const routes: Record<string, Route> = {
    '/': (_url, response) =>
      send(response, 200, 'text/html; charset=utf-8', renderStatusPage(syncz(ctx), ctx.xdsAddress()), {
        'content-security-policy': statusPageContentSecurityPolicy,
      }),
    '/debug/syncz': (_url, response) => json(response, 200, syncz(ctx)),
    '/debug/configz': (_url, response) => json(response, 200, configz(ctx)),
    '/debug/adsz': (_url, response) => json(response, 200, adsz(ctx)),
    '/debug/cdsz': (_url, response) => json(response, 200, cdsz(ctx)),
    '/debug/edsz': (_url, response) => json(response, 200, edsz(ctx)),
    '/debug/config_dump': configDumpPage(ctx),
    '/healthz': (_url, response) => send(response, 200, textType, 'ok\n'),
    '/readyz': (_url, response) =>
      ctx.ready()
        ? send(response, 200, textType, 'ready\n')
        : send(
            response,
            503,
            textType,
            `not ready${ctx.notReady?.() === undefined ? '' : `: ${ctx.notReady()}`}\n`,
          ),
    '/metrics': async (_url, response) => {
      const body = await ctx.registry.metrics();
      send(response, 200, ctx.registry.contentType, body);
    },
  };
  return createHttpAdmin(routes, logger, options);
}
