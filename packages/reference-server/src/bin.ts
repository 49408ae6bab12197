#!/usr/bin/env node
// The `xds-server` command: the only reader of process.argv and process.env in the project. Start-up, errors and the
// SIGTERM drain are command.ts's, shared with `xds-relay`. Signals are caught first (early-signals.ts imports only
// Node), then the modules load: a SIGTERM while they load is logged and exits 0 instead of killing the process with
// 143 and nothing said.
import type { CommandLine } from './cli.js';
import type { ParsedCommand } from './command.js';
import { catchEarlySignals } from './early-signals.js';
import type { ModelLoadError } from './model-file.js';

const releaseEarlySignals = catchEarlySignals('xds-server');

const [
  { parseCommandLine, usage },
  { crashed, runCommand },
  { withLimitsFile },
  { adminTlsOptions, trustDomainIdentity, xdsTlsOptions },
] = await Promise.all([
  import('./cli.js'),
  import('./command.js'),
  import('./limit-flags.js'),
  import('./security-flags.js'),
]);

/** The command line, with the limits of `--limits-file` under those of `--limit`. */
function commandLine(): ParsedCommand<CommandLine> {
  // The limits file is read before anything starts: a bad one is refused like a bad --limit (exit 2, one line).
  return withLimitsFile(parseCommandLine(process.argv.slice(2), process.env));
}

const parsed = commandLine();
// runCommand installs its own handlers in this same tick: no signal falls between the two
releaseEarlySignals();
runCommand({
  name: 'xds-server',
  usage,
  packageJson: new URL('../package.json', import.meta.url),
  parsed,
  async start(options, logger) {
    // Loaded only to run: --help and usage errors answer without loading the xDS API.
    const { routeGrpcLogs } = await import('./grpc-logs.js');
    routeGrpcLogs(
      logger,
      (process.env['GRPC_VERBOSITY'] ?? process.env['GRPC_NODE_VERBOSITY']) !== undefined,
    );
    const { startReferenceServer } = await import('./reference-server.js');
    const running = await startReferenceServer({
      config: options.config,
      xds: options.xds,
      admin: options.admin,
      debounceMs: options.debounceMs,
      maxInFlightMiB: options.maxInFlightMiB,
      keepalive: { timeMs: options.keepaliveTimeMs, timeoutMs: options.keepaliveTimeoutMs },
      logger,
      tls: xdsTlsOptions(options),
      nodeIdentity: trustDomainIdentity(options.trustDomain),
      csds: options.csds,
      adminTokenFile: options.adminTokenFile,
      registries: options.registries,
      registryLimits: options.registryLimits,
      registryParse: options.registryParse,
      modelLimits: options.modelLimits,
      limits: options.limits,
      adminTls: adminTlsOptions(options),
    });
    // One line, once started, on a Node that a client can abort over HTTP/2 (docs/security.md, "Known issue").
    const nodeWarning = (await import('@xds/server')).nodeHttp2Warning();
    if (nodeWarning !== undefined) logger.warn({ node: process.versions.node }, nodeWarning);
    return running;
  },
  explain(error) {
    if (!(error instanceof Error) || error.name !== 'ModelLoadError') return undefined;
    return {
      text: `invalid config:\n${error.message}`,
      fields: { errors: (error as ModelLoadError).errors },
    };
  },
}).catch(crashed('xds-server'));
