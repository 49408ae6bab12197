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
 * The structured logger of `xds-server` and `xds-relay`: one JSON object per line (pino), to stdout unless
 * `destination` is given, with ISO timestamps and `name` (`xds-server` by default).
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, name = 'xds-server'): Logger {
  const options = { level, name, timestamp: pino.stdTimeFunctions.isoTime };
  return destination === undefined ? pino(options) : pino(options, destination);
}
