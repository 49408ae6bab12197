#!/usr/bin/env node
// The `xds-relay` command: with reference-server's `xds-server`, the only reader of process.argv in the project.
import { readFileSync } from 'node:fs';
import { createLogger } from '@xds/reference-server';
import { parseRelayCommandLine, relayUsage } from './cli.js';
import type { RelayProcess } from './relay-process.js';

/** How long a drain may take before the process gives up and exits with 1. */
const drainDeadlineMs = 15_000;

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

async function main(): Promise<void> {
  const parsed = parseRelayCommandLine(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(relayUsage);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`xds-relay ${version()}\n`);
    return;
  }
  if (parsed.kind === 'usage-error') {
    process.stderr.write(`xds-relay: ${parsed.message}\n\n${relayUsage}`);
    process.exitCode = 2;
    return;
  }
  const { options } = parsed;
  const logger = createLogger(options.logLevel, undefined, 'xds-relay');
  const { startRelayProcess } = await import('./relay-process.js');
  const starting: Promise<RelayProcess> = startRelayProcess({ ...options, logger });
  // Signals are handled from now on, so that one that comes while starting still drains.
  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ signal, deadlineMs: drainDeadlineMs }, 'drain took too long; exiting');
      process.exit(1);
    }, drainDeadlineMs).unref();
    starting
      .then((running) => running.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'drain failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await starting;
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    process.stderr.write(`xds-relay: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `xds-relay: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
