#!/usr/bin/env node
// The `xds-server` command: the only reader of process.argv and process.env in the project.
import { readFileSync } from 'node:fs';
import { parseCommandLine, usage } from './cli.js';
import { readLimitsFile } from './limit-flags.js';
import { createLogger } from './logger.js';
import type { ReferenceServer } from './reference-server.js';

/** How long a drain may take before the process gives up and exits with 1. */
const drainDeadlineMs = 15_000;

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

async function main(): Promise<void> {
  const parsed = parseCommandLine(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(usage);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`xds-server ${version()}\n`);
    return;
  }
  if (parsed.kind === 'usage-error') {
    process.stderr.write(`xds-server: ${parsed.message}\n\n${usage}`);
    process.exitCode = 2;
    return;
  }
  if (parsed.kind === 'refused') {
    process.stderr.write(`xds-server: ${parsed.message}\n`);
    process.exitCode = 2;
    return;
  }
  const { options } = parsed;
  // The limits file is read before anything starts: a bad one is refused like a bad --limit (exit 2, one line).
  const fromFile = options.limitsFile === undefined ? {} : readLimitsFile(options.limitsFile);
  if (typeof fromFile === 'string') {
    process.stderr.write(`xds-server: ${fromFile}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger(options.logLevel);
  // Loaded only to run: --help and usage errors answer without loading the xDS API.
  const { routeGrpcLogs } = await import('./grpc-logs.js');
  routeGrpcLogs(logger, (process.env['GRPC_VERBOSITY'] ?? process.env['GRPC_NODE_VERBOSITY']) !== undefined);
  const { startReferenceServer } = await import('./reference-server.js');
  const { ModelLoadError } = await import('./model-file.js');
  const { XdsError } = await import('@xds/api');
  let server: ReferenceServer;
  try {
    server = await startReferenceServer({
      config: options.config,
      xds: options.xds,
      admin: options.admin,
      debounceMs: options.debounceMs,
      maxInFlightMiB: options.maxInFlightMiB,
      logger,
      tls:
        options.tlsCert === undefined || options.tlsKey === undefined
          ? undefined
          : {
              cert: options.tlsCert,
              key: options.tlsKey,
              ...(options.tlsClientCa === undefined
                ? {}
                : { ca: options.tlsClientCa, requireClientCert: true }),
            },
      nodeIdentity:
        options.trustDomain === undefined ? undefined : { trustDomains: [options.trustDomain], istio: true },
      adminTokenFile: options.adminTokenFile,
      registries: options.registries,
      limits: { ...fromFile, ...options.limits },
      adminTls:
        options.adminTlsCert === undefined || options.adminTlsKey === undefined
          ? undefined
          : { cert: options.adminTlsCert, key: options.adminTlsKey },
    });
  } catch (error) {
    if (error instanceof ModelLoadError) {
      logger.fatal({ errors: error.errors }, `invalid config, not starting:\n${error.message}`);
      process.stderr.write(`xds-server: invalid config:\n${error.message}\n`);
    } else if (error instanceof XdsError) {
      // An expected failure (a port in use, a certificate that cannot be used): its message says it all.
      logger.fatal({ code: error.codeName }, `could not start: ${error.message}`);
      process.stderr.write(`xds-server: ${error.message}\n`);
    } else {
      logger.fatal({ err: error }, 'could not start');
      process.stderr.write(`xds-server: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    process.exit(1);
  }
  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ signal, deadlineMs: drainDeadlineMs }, 'drain took too long; exiting');
      process.exit(1);
    }, drainDeadlineMs).unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `xds-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
