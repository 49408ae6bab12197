// grpc-js writes its own diagnostics to stderr (`E No address added out of total 1 resolved`). The command routes
// them into the server's JSON log instead, so that stderr holds only the command's own one-line messages.
import { logVerbosity as LogVerbosity, setLogger, setLogVerbosity } from '@grpc/grpc-js';
import type { Logger } from 'pino';

/** grpc-js's verbosity for a pino level: its debug lines only when ours are wanted. */
function verbosityOf(level: string): LogVerbosity {
  if (level === 'debug' || level === 'trace') return LogVerbosity.DEBUG;
  if (level === 'info') return LogVerbosity.INFO;
  return LogVerbosity.ERROR;
}

/**
 * Sends grpc-js's log lines to `logger` (as `{ source: "grpc-js" }`, at the matching level) and, unless
 * `keepVerbosity` (GRPC_VERBOSITY was set), sets grpc-js's verbosity from the logger's level.
 */
export function routeGrpcLogs(logger: Logger, keepVerbosity = false): void {
  const child = logger.child({ source: 'grpc-js' });
  const line = (message: unknown, rest: unknown[]) =>
    [message, ...rest].map((part) => (typeof part === 'string' ? part : String(part))).join(' ');
  setLogger({
    error: (message?: unknown, ...rest: unknown[]) => child.error(line(message, rest)),
    info: (message?: unknown, ...rest: unknown[]) => child.info(line(message, rest)),
    debug: (message?: unknown, ...rest: unknown[]) => child.debug(line(message, rest)),
  });
  if (!keepVerbosity) setLogVerbosity(verbosityOf(logger.level));
}
