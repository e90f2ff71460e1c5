/**
 * The logger shape djps writes to: a subset of pino's, so a pino logger (or
 * anything with these four methods) can be passed as is.
 * @example new Worker(handlers, { logger: pino() })
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};

/** Drops everything: the default, so a library stays quiet unless asked. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** Writes info and above to the console as `djps <level> <msg> {fields}`. */
export const consoleLogger: Logger = {
  debug: noop,
  info: (obj, msg) => console.info(`djps info ${msg ?? ""}`, obj),
  warn: (obj, msg) => console.warn(`djps warn ${msg ?? ""}`, obj),
  error: (obj, msg) => console.error(`djps error ${msg ?? ""}`, obj),
};

/** A logger that adds `fields` to every line (e.g. the worker id). */
export function scopeLogger(logger: Logger, fields: object): Logger {
  // Nothing to add fields to: skip the copy on every call.
  if (logger === silentLogger) return silentLogger;
  return {
    debug: (obj, msg) => logger.debug({ ...fields, ...obj }, msg),
    info: (obj, msg) => logger.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => logger.error({ ...fields, ...obj }, msg),
  };
}
