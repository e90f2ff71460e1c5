/**
 * The logger shape djps writes to: a subset of pino's, so a pino logger (or
 * anything with these four methods) can be passed as is.
 * @example new Worker(handlers, { logger: pino() })
 */
export interface Logger {
  /** Detail for diagnosis (e.g. each job that succeeded). `obj` holds the structured fields, `msg` the words. */
  debug(obj: object, msg?: string): void;
  /** Notable events: start, stop, signals, a restored connection, pruned and scheduled jobs, a canceled job. */
  info(obj: object, msg?: string): void;
  /** Something djps handled but worth a look: a failed attempt that will retry, rescued jobs, a lost lease, a shutdown that passed its grace period. */
  warn(obj: object, msg?: string): void;
  /** A job that went dead, a failure outside a handler (also emitted as `worker:error`), or a listener that threw. */
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

/**
 * A logger that adds `fields` to every line (e.g. the worker id). A line the
 * given logger fails to write (it threw) is dropped: djps logs from the paths
 * that record a job's outcome and release its slot, and a broken logger must
 * not leave a job running for ever; it has nowhere better to report to.
 */
export function scopeLogger(logger: Logger, fields: object): Logger {
  // Nothing to add fields to: skip the copy on every call.
  if (logger === silentLogger) return silentLogger;
  const write = (level: keyof Logger, obj: object, msg: string | undefined) => {
    try {
      logger[level]({ ...fields, ...obj }, msg);
    } catch {
      // dropped, as above
    }
  };
  return {
    debug: (obj, msg) => write("debug", obj, msg),
    info: (obj, msg) => write("info", obj, msg),
    warn: (obj, msg) => write("warn", obj, msg),
    error: (obj, msg) => write("error", obj, msg),
  };
}
