import { z } from "zod";
import { intSchema, MAX_INT } from "../options.js";
import { DEFAULT_RETENTION, type RetentionAges } from "./pruner.js";

/** The longest retention age accepted: 100 years, in milliseconds. */
export const MAX_AGE_MS = 100 * 365 * 24 * 3_600_000;

/** The statuses retention deletes: the finished ones. */
export const PRUNABLE_STATUSES = ["succeeded", "dead", "canceled"] as const;
// `@useDeclaredType`: the API docs spell out the statuses, not the type expression.
/**
 * A finished status that retention and `queue.prune()` may delete.
 * @useDeclaredType
 */
export type PrunableStatus = (typeof PRUNABLE_STATUSES)[number];

/** How long a Worker keeps finished jobs before its maintenance loop deletes them. */
export interface RetentionOptions {
  /** Age after which succeeded jobs are deleted, or `false` to keep them. @default 259200000 (3 days) */
  succeededMs?: number | false;
  /** Age after which dead jobs are deleted, or `false` to keep them. @default 1209600000 (14 days) */
  deadMs?: number | false;
  /** Age after which canceled jobs are deleted, or `false` to keep them. @default 1209600000 (14 days) */
  canceledMs?: number | false;
  /** How often the maintenance loop prunes. @default 60000 */
  intervalMs?: number;
}

/** Options for `queue.prune()`. */
export interface PruneOptions {
  /** Delete jobs that finished longer ago than this. @default each status's retention default */
  olderThanMs?: number;
  /** Which finished statuses to delete. @default ["succeeded", "dead", "canceled"] */
  statuses?: PrunableStatus[];
}

const AGE_TEXT = `an age in milliseconds (an integer from 0 to ${MAX_AGE_MS})`;
const isAge = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_AGE_MS;
const ageOrFalse = z.custom<number | false>((v) => v === false || isAge(v), { error: `${AGE_TEXT}, or false to keep them` });

/** `false` turns retention off: the worker then never deletes a job. */
export const retentionSchema = z.preprocess(
  (v) => (v === false ? { succeededMs: false, deadMs: false, canceledMs: false } : v),
  z.strictObject(
    {
      succeededMs: ageOrFalse.optional(),
      deadMs: ageOrFalse.optional(),
      canceledMs: ageOrFalse.optional(),
      intervalMs: intSchema(50, MAX_INT).optional(),
    },
    { error: "false, or an object { succeededMs, deadMs, canceledMs, intervalMs }" },
  ),
);

export const pruneOptionsSchema = z.strictObject(
  {
    olderThanMs: z.custom<number>(isAge, { error: AGE_TEXT }).optional(),
    statuses: z
      .array(z.enum(PRUNABLE_STATUSES, { error: `one of ${PRUNABLE_STATUSES.join(", ")}` }), { error: "an array of finished statuses" })
      .min(1, { error: "a non-empty array of finished statuses" })
      .optional(),
  },
  { error: "an options object { olderThanMs, statuses }" },
);

/** The ages a Worker prunes with, from its `retention` option. */
export function retentionAges(options: z.output<typeof retentionSchema> | undefined): RetentionAges {
  return { ...DEFAULT_RETENTION, ...stripUndefined(options ?? {}) };
}

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

function stripUndefined(options: { succeededMs?: number | false | undefined; deadMs?: number | false | undefined; canceledMs?: number | false | undefined }): Partial<RetentionAges> {
  const out: Partial<RetentionAges> = {};
  if (options.succeededMs !== undefined) out.succeededMs = options.succeededMs;
  if (options.deadMs !== undefined) out.deadMs = options.deadMs;
  if (options.canceledMs !== undefined) out.canceledMs = options.canceledMs;
  return out;
}
