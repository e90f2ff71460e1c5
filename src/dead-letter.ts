import { z } from "zod";
import { walkBatches } from "./sql/batches.js";
import { dateSchema, nameSchema } from "./options.js";
import type { DeadPickParams } from "./sql/deadPick.js";
import type { Query, Sql } from "./sql/query.js";

/** Which dead jobs a dead-letter retry or purge takes. */
export interface DeadJobFilter {
  /** Only jobs of this named queue. */
  queue?: string;
  /** Only jobs of this type. */
  type?: string;
  /** Only jobs that died at or after this time. */
  finishedAfter?: Date;
  /** Only jobs that died before this time. */
  finishedBefore?: Date;
  /** Only jobs whose last error is exactly this message (a group of the dashboard's dead letters). */
  lastError?: string;
  /** Take every dead job (required when no other field is given). */
  all?: boolean;
}

/** Rows one dead-letter statement changes: one short transaction each. */
export const DEAD_LETTER_BATCH = 1000;

const FILTER_TEXT = "a filter naming at least one of `queue`, `type`, `finishedAfter`, `finishedBefore`, `lastError`, or `{ all: true }`";

/**
 * The filter, refusing an empty one: retrying or purging the whole dead-letter
 * state must be asked for with `all: true`, never happen by a forgotten field.
 */
export const deadJobFilterSchema = z
  .strictObject(
    {
      queue: nameSchema.optional(),
      type: nameSchema.optional(),
      finishedAfter: dateSchema.optional(),
      finishedBefore: dateSchema.optional(),
      lastError: z.string({ error: "a string (a job's last error message)" }).max(100_000, { error: "a string of at most 100000 characters" }).optional(),
      all: z.boolean({ error: "a boolean" }).optional(),
    },
    { error: FILTER_TEXT },
  )
  .refine((f) => f.all === true || f.queue !== undefined || f.type !== undefined || f.finishedAfter !== undefined || f.finishedBefore !== undefined || f.lastError !== undefined, {
    error: FILTER_TEXT,
  });

/**
 * Runs a dead-letter statement (`jobDeadRetry` or `jobDeadPurge`) over every
 * matching dead job, a batch at a time; returns how many it changed. `extra`
 * holds the statement's own parameters besides the filter.
 */
export async function eachDeadBatch<E extends object>(
  sql: Sql,
  statement: Query<DeadPickParams & E, { count: number; last: string | null }>,
  filter: z.output<typeof deadJobFilterSchema>,
  extra: E,
): Promise<number> {
  const batches = await walkBatches(async (after) => {
    const [row] = await statement(sql, {
      ...extra,
      after,
      queue: filter.queue ?? null,
      type: filter.type ?? null,
      finishedAfter: filter.finishedAfter ?? null,
      finishedBefore: filter.finishedBefore ?? null,
      lastError: filter.lastError ?? null,
      limit: DEAD_LETTER_BATCH,
    });
    return row!;
  }, DEAD_LETTER_BATCH);
  return batches.reduce((sum, b) => sum + b.count, 0);
}
