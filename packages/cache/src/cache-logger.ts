// Caches say what they do through a logger the application gives them (pino-compatible, like @xds/server's), never
// on the console: a library does not print.

/** A pino-compatible logger: `logger.debug({ key }, 'snapshot set')`. */
export interface CacheLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

const noop = () => {};

/** A logger that drops everything (the default). */
export const silentCacheLogger: CacheLogger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});
