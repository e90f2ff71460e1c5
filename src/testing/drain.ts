import { z } from "zod";
import { DjpsError, ValidationError } from "../errors.js";
import { intSchema, nameSchema } from "../options.js";
import type { Queue } from "../queue.js";
import { internalsOf } from "../queue-internals.js";
import { isClaimedJob, jobClaim } from "../sql/jobClaim.js";
import { jobFromRow } from "../sql/jobRow.js";
import { parse } from "../validate.js";
import type { Handlers } from "../worker/types.js";
import type { TestClock } from "./clock.js";
import { InlineRunner, type JobRun, type RunOutcome } from "./inline.js";
import { runSettings, runShape } from "./options.js";

/** How many runs one `drain` makes at most unless `maxRuns` says otherwise. */
export const DEFAULT_MAX_RUNS = 1000;

const drainOptionsSchema = z.strictObject(
  {
    ...runShape,
    /** Only jobs of these queues. @default every queue */
    queues: z.array(nameSchema, { error: "an array of queue names" }).min(1, { error: "a non-empty array of queue names" }).optional(),
    /** Only jobs of these types (each must have a handler). @default every type in `handlers` */
    types: z.array(nameSchema, { error: "an array of job types" }).min(1, { error: "a non-empty array of job types" }).optional(),
    /** The most runs before `drain` gives up with a `DrainLimitError`. @default 1000 */
    maxRuns: intSchema(1, 1_000_000).optional(),
    /**
     * A `testClock` whose `runSchedules()` runs first: the jobs of every
     * schedule tick up to the clock's virtual time are enqueued, then drained.
     * @default no schedule pass
     */
    clock: z.custom<TestClock>((v) => v !== null && typeof v === "object" && typeof (v as TestClock).runSchedules === "function", { error: "a testClock()" }).optional(),
  },
  { error: "an options object" },
);

/**
 * Options for `drain`.
 * @useDeclaredType
 */
export type DrainOptions = z.input<typeof drainOptionsSchema>;

/** What `drain` did: every run in the order it ran, and how many ended each way. */
export interface DrainResult {
  /** Every run, in the order it ran (a job that ran twice appears twice). */
  runs: JobRun[];
  /** How many runs ended each way (every outcome is present, 0 when none). */
  counts: Record<RunOutcome, number>;
  /** Jobs the schedule pass enqueued (with `clock`). */
  scheduled: number;
}

/**
 * `drain` stopped after `maxRuns` runs with jobs still due: most often a
 * handler that snoozes for 0 ms, or a job that keeps failing with no backoff.
 * The job it claimed last was put back unrun.
 */
export class DrainLimitError extends DjpsError {
  /** The runs made before the limit, as `drain` would have returned them. */
  readonly runs: JobRun[];
  constructor(maxRuns: number, runs: JobRun[]) {
    const last = runs.slice(-3).map((r) => `\`${r.job.type}\` ${r.job.id} (${r.outcome})`);
    super("DRAIN_LIMIT", `drain() made ${maxRuns} runs and jobs are still due (last runs: ${last.join(", ")}); raise \`options.maxRuns\` if that many is expected`);
    this.runs = runs;
  }
}

/**
 * Runs every due job of the handlers' types in this process, one at a time
 * in claim order, until none is due, and reports what happened. A job that
 * fails and is due again at once (a backoff of 0), or snoozes for 0 ms, runs
 * again in the same drain; one retrying later is left for a later drain (move
 * time with `testClock`). Paused queues are skipped, as a Worker skips them.
 *
 * Jobs are claimed with the Worker's claim statement and their outcomes
 * written with its fenced statements, and each handler runs through the
 * Worker's own path, with a real `ctx`.
 *
 * @param queue The application's Queue: its pool and schema are used.
 * @param handlers Handlers by job type, as `new Worker()` takes them.
 * @param options `queues`, `types`, `maxRuns` (default 1000), `clock`, and
 *   the run settings shared with `runJob`.
 * @throws {@link index.ValidationError} for invalid handlers or options, or a `types` entry with no handler.
 * @throws {@link DrainLimitError} after `maxRuns` runs with jobs still due.
 *
 * @example
 * await queue.enqueue("send_email", { to: "a@b.c" });
 * const { runs, counts } = await drain(queue, { send_email: async (payload) => ({ sent: true }) });
 * assert.equal(runs[0].outcome, "succeeded");
 * assert.equal(counts.failed, 0);
 */
export async function drain(queue: Queue<any>, handlers: Handlers<any>, options: DrainOptions = {}): Promise<DrainResult> {
  const { sql, channel } = internalsOf(queue);
  const o = parse(drainOptionsSchema, options, "options");
  const settings = runSettings(handlers, o);
  const types = o.types ?? [...settings.handlers.keys()];
  const missing = types.find((t) => !settings.handlers.has(t));
  if (missing !== undefined) {
    throw new ValidationError("options.types", `Expected \`options.types\` to name job types that have a handler, got \`${missing}\``);
  }
  let scheduled = 0;
  if (o.clock) scheduled = (await o.clock.runSchedules()).enqueued;
  const maxRuns = o.maxRuns ?? DEFAULT_MAX_RUNS;
  const runner = new InlineRunner({ sql, channel, workerId: settings.workerId, leaseMs: settings.leaseMs, logger: settings.logger });
  const runs: JobRun[] = [];
  for (;;) {
    // One job a claim: a job put back due now (a snooze of 0 ms) is claimed next in its turn.
    // A rate-limited queue's claim may bring, instead of a job, when it has room again: nothing is due now.
    const row = (await jobClaim(sql, {
      queues: o.queues ?? null,
      types,
      limit: 1,
      start: 1,
      workerId: settings.workerId,
      leaseMs: settings.leaseMs,
      holdMs: settings.leaseMs,
    })).find(isClaimedJob);
    if (!row) break;
    const job = jobFromRow(row);
    if (runs.length >= maxRuns) {
      await runner.release(job);
      throw new DrainLimitError(maxRuns, runs);
    }
    runs.push(await runner.run(job, settings.handlers.get(job.type)!));
  }
  const counts: Record<RunOutcome, number> = { succeeded: 0, failed: 0, dead: 0, snoozed: 0, canceled: 0, lost: 0 };
  for (const run of runs) counts[run.outcome]++;
  return { runs, counts, scheduled };
}
