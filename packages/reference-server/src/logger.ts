import { type DestinationStream, type Level, type Logger, pino } from 'pino';

/** The log levels `--log-level` accepts, most severe first. */
export const logLevels: readonly (Level | 'silent')[] = Object.freeze([
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
]);

/** A log level, or `silent`. */
export type LogLevel = Level | 'silent';

/**
 * The server's structured logger: one JSON object per line (pino), to stdout unless `destination` is given, with
 * ISO timestamps and `name: "xds-server"`.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, name: 'xds-server', timestamp: pino.stdTimeFunctions.isoTime };
  return destination === undefined ? pino(options) : pino(options, destination);
}
