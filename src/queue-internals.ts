import { ValidationError } from "./errors.js";
import type { Sql } from "./sql/query.js";

/**
 * What `djps/testing` needs of a Queue besides its public API: where its
 * statements run and the channel that wakes workers. It is kept off the
 * Queue's public type: a Queue sets it as a non-enumerable property under
 * this key, so `Queue`'s API and its declarations stay as they are.
 *
 * `Symbol.for`, not `Symbol()`: the entries share one copy of this module
 * in both builds, but an application may still load two copies of djps (two
 * installed versions, or one bundled), and a Queue made by one must be
 * readable by the other's helpers.
 */
export const QUEUE_INTERNALS: unique symbol = Symbol.for("djps.queue.internals") as never;

export interface QueueInternals {
  /** Statements on the Queue's own pool, after its schema version check. */
  readonly sql: Sql;
  /** The schema's NOTIFY channel. */
  readonly channel: string;
}

/** Attaches a Queue's internals to it (called by its constructor). */
export function attachInternals(queue: object, internals: QueueInternals): void {
  Object.defineProperty(queue, QUEUE_INTERNALS, { value: Object.freeze(internals), enumerable: false });
}

/** A Queue's internals; a `ValidationError` on `field` for anything that is not a djps Queue. */
export function internalsOf(queue: unknown, field = "queue"): QueueInternals {
  const internals = queue !== null && typeof queue === "object" ? (queue as { [QUEUE_INTERNALS]?: QueueInternals })[QUEUE_INTERNALS] : undefined;
  if (!internals) throw new ValidationError(field, `Expected \`${field}\` to be a djps Queue, got ${queue === null ? "`null`" : typeof queue === "object" ? "another object" : `\`${typeof queue}\``}`);
  return internals;
}
