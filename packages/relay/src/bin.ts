#!/usr/bin/env node
// The `xds-relay` command: with reference-server's `xds-server`, the only reader of process.argv in the project.
// Start-up, errors and the SIGTERM drain are xds-server's (`runCommand`), so both behave the same to an operator.
import {
  adminTlsOptions,
  crashed,
  routeGrpcLogs,
  runCommand,
  withLimitsFile,
  xdsTlsOptions,
} from '@xds/reference-server';
import { nodeHttp2Warning } from '@xds/server';
import { parseRelayCommandLine, relayUsage } from './cli.js';
import { startRelayProcess } from './relay-process.js';
import { upstreamTls } from './upstream-tls.js';

runCommand({
  name: 'xds-relay',
  usage: relayUsage,
  packageJson: new URL('../package.json', import.meta.url),
  // --limits-file is read before anything starts: a bad one is refused like a bad --limit (exit 2, one line)
  parsed: withLimitsFile(parseRelayCommandLine(process.argv.slice(2))),
  async start(options, logger) {
    routeGrpcLogs(
      logger,
      (process.env['GRPC_VERBOSITY'] ?? process.env['GRPC_NODE_VERBOSITY']) !== undefined,
    );
    const running = await startRelayProcess({
      ...options,
      logger,
      tls: xdsTlsOptions(options),
      adminTls: adminTlsOptions(options),
      upstreamTls: upstreamTls(options),
    });
    // One line, once started, on a Node that a client can abort over HTTP/2 (docs/security.md, "Known issue").
    const nodeWarning = nodeHttp2Warning();
    if (nodeWarning !== undefined) logger.warn({ node: process.versions.node }, nodeWarning);
    return running;
  },
}).catch(crashed('xds-relay'));
