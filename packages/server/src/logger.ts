/** A pino-compatible logger: `logger.warn({ streamId }, 'message')`. */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

const noop = () => {};

/** A logger that drops everything (the default: libraries do not print). */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
