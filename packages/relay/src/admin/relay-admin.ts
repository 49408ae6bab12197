/**
 * The relay's admin pages: `/healthz`, `/readyz` (ready while serving, with the upstream state as detail: a relay
 * without upstream still serves what it holds, rule X3), `/metrics` (Prometheus) and `/debug/syncz`.
 */
import type { Logger } from '@xds/server';
import type { Registry } from 'prom-client';
import type { Relay } from '../relay.js';
import { createHttpAdmin, type HttpAdmin, send, sendJson, textType } from './http-admin.js';
import { relaySyncz } from './relay-syncz.js';

/** What the relay's admin pages read. */
export interface RelayAdminContext {
  readonly relay: Relay;
  readonly registry: Registry;
  /** True while the relay serves (listening, not draining). */
  readonly ready: () => boolean;
}

/** Creates the relay's admin server. */
export function createRelayAdmin(ctx: RelayAdminContext, logger: Logger): HttpAdmin {
  return createHttpAdmin(
    {
      '/healthz': (_url, response) => send(response, 200, textType, 'ok\n'),
      '/readyz': (_url, response) => {
        const detail = `upstream: ${ctx.relay.upstreamState()}\n`;
        if (ctx.ready()) send(response, 200, textType, `ready\n${detail}`);
        else send(response, 503, textType, `not ready\n${detail}`);
      },
      '/metrics': async (_url, response) => {
        send(response, 200, ctx.registry.contentType, await ctx.registry.metrics());
      },
      '/debug/syncz': (_url, response) => sendJson(response, 200, relaySyncz(ctx.relay)),
    },
    logger,
  );
}
