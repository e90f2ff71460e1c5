import { z } from "zod";
import { intSchema, MAX_INT } from "../options.js";
import { PRUNABLE_STATUSES, type PrunableStatus } from "../states.js";
import { DEFAULT_RETENTION, type RetentionAges } from "./pruner.js";

/** The longest retention age accepted: 100 years, in milliseconds. */
export const MAX_AGE_MS = 100 * 365 * 24 * 3_600_000;

export { PRUNABLE_STATUSES, type PrunableStatus };

const AGE_TEXT = `an age in milliseconds (an integer from 0 to ${MAX_AGE_MS})`;
const isAge = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_AGE_MS;
const ageOrFalse = z.custom<number | false>((v) => v === false || isAge(v), { error: `${AGE_TEXT}, or false to keep them` });

const retentionObjectSchema = z.strictObject(
  {
    /** Age after which succeeded jobs are deleted, or `false` to keep them. @default 259200000 (3 days) */
    succeededMs: ageOrFalse.optional(),
    /** Age after which dead jobs are deleted, or `false` to keep them. @default 1209600000 (14 days) */
    deadMs: ageOrFalse.optional(),
    /** Age after which canceled jobs are deleted, or `false` to keep them. @default 1209600000 (14 days) */
    canceledMs: ageOrFalse.optional(),
    /** How often the maintenance loop prunes. @default 60000 */
    intervalMs: intSchema(50, MAX_INT).optional(),
  },
  { error: "false, or an object { succeededMs, deadMs, canceledMs, intervalMs }" },
);

/**
 * How long a Worker keeps finished jobs, and how often it deletes them.
 * `false` keeps every job: it reads as every age `false` (a preprocess rather
 * than a union, so a bad field is reported at its own path).
 */
export const retentionSchema = z.preprocess(
  (v: false | z.input<typeof retentionObjectSchema>) => (v === false ? { succeededMs: false, deadMs: false, canceledMs: false } : v),
  retentionObjectSchema,
);
/**
 * How long a Worker keeps finished jobs before its maintenance loop deletes
 * them (in batches, one worker at a time), and how often it looks; `false`
 * keeps every job forever.
 * @useDeclaredType
 */
export type RetentionOptions = z.input<typeof retentionObjectSchema>;

export const pruneOptionsSchema = z.strictObject(
  {
    /** Delete jobs that finished longer ago than this. @default each status's retention default */
    olderThanMs: z.custom<number>(isAge, { error: AGE_TEXT }).optional(),
    /** Which finished statuses to delete. @default ["succeeded", "dead", "canceled"] */
    statuses: z
      .array(z.enum(PRUNABLE_STATUSES, { error: `one of ${PRUNABLE_STATUSES.join(", ")}` }), { error: "an array of finished statuses" })
      .min(1, { error: "a non-empty array of finished statuses" })
      .optional(),
  },
  { error: "an options object { olderThanMs, statuses }" },
);
/**
 * Options for `queue.prune()`.
 * @useDeclaredType
 */
export type PruneOptions = z.input<typeof pruneOptionsSchema>;

/** The ages `queue.prune()` deletes with: the statuses asked for, at `olderThanMs` or their defaults. */
export function pruneAges(options: z.output<typeof pruneOptionsSchema>): RetentionAges {
  const statuses = new Set<PrunableStatus>(options.statuses ?? PRUNABLE_STATUSES);
  const age = (status: PrunableStatus, fallback: number | false) =>
    statuses.has(status) ? (options.olderThanMs ?? fallback) : false;
  return {
    succeededMs: age("succeeded", DEFAULT_RETENTION.succeededMs),
    deadMs: age("dead", DEFAULT_RETENTION.deadMs),
    canceledMs: age("canceled", DEFAULT_RETENTION.canceledMs),
  };
}
