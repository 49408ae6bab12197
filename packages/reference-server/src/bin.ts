#!/usr/bin/env node
// The `xds-server` command: the only reader of process.argv and process.env in the project. Start-up, errors and the
// SIGTERM drain are command.ts's, shared with `xds-relay`.
import { type CommandLine, parseCommandLine, usage } from './cli.js';
import { crashed, type ParsedCommand, runCommand } from './command.js';
import { withLimitsFile } from './limit-flags.js';
import type { ModelLoadError } from './model-file.js';
import { adminTlsOptions, xdsTlsOptions } from './security-flags.js';

/** The command line, with the limits of `--limits-file` under those of `--limit`. */
function commandLine(): ParsedCommand<CommandLine> {
  // The limits file is read before anything starts: a bad one is refused like a bad --limit (exit 2, one line).
  return withLimitsFile(parseCommandLine(process.argv.slice(2), process.env));
}

runCommand({
  name: 'xds-server',
  usage,
  packageJson: new URL('../package.json', import.meta.url),
  parsed: commandLine(),
  async start(options, logger) {
    // Loaded only to run: --help and usage errors answer without loading the xDS API.
    const { routeGrpcLogs } = await import('./grpc-logs.js');
    routeGrpcLogs(
      logger,
      (process.env['GRPC_VERBOSITY'] ?? process.env['GRPC_NODE_VERBOSITY']) !== undefined,
    );
    const { startReferenceServer } = await import('./reference-server.js');
    return startReferenceServer({
      config: options.config,
      xds: options.xds,
      admin: options.admin,
      debounceMs: options.debounceMs,
      maxInFlightMiB: options.maxInFlightMiB,
      keepalive: { timeMs: options.keepaliveTimeMs, timeoutMs: options.keepaliveTimeoutMs },
      logger,
      tls: xdsTlsOptions(options),
      nodeIdentity:
        options.trustDomain === undefined ? undefined : { trustDomains: [options.trustDomain], istio: true },
      adminTokenFile: options.adminTokenFile,
      registries: options.registries,
      registryLimits: options.registryLimits,
      limits: options.limits,
      adminTls: adminTlsOptions(options),
    });
  },
  explain(error) {
    if (!(error instanceof Error) || error.name !== 'ModelLoadError') return undefined;
    return {
      text: `invalid config:\n${error.message}`,
      fields: { errors: (error as ModelLoadError).errors },
    };
  },
}).catch(crashed('xds-server'));
