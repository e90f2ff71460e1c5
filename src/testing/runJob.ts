import { z } from "zod";
import { InvalidStateError, JobNotFoundError, ValidationError } from "../errors.js";
import { jobIdSchema } from "../options.js";
import type { Queue } from "../queue.js";
import { internalsOf } from "../queue-internals.js";
import { jobClaimById } from "../sql/jobClaimById.js";
import { jobGet } from "../sql/jobGet.js";
import { jobFromRow } from "../sql/jobRow.js";
import { CLAIMABLE } from "../states.js";
import { parse } from "../validate.js";
import type { HandlerEntry, Handlers } from "../worker/types.js";
import { InlineRunner, type JobRun } from "./inline.js";
import { runSettings, runShape } from "./options.js";

const runJobOptionsSchema = z.strictObject(runShape, { error: "an options object" });

/**
 * Options for `runJob`.
 * @useDeclaredType
 */
export type RunJobOptions = z.input<typeof runJobOptionsSchema>;

/** One handler (a function, or a spec `{ handler, schema, timeoutMs, backoff }`), not an object of handlers by type. */
const isSingle = (h: unknown): boolean => typeof h === "function" || (h !== null && typeof h === "object" && typeof (h as { handler?: unknown }).handler === "function");

/**
 * Runs the job `id` now, in this process, and writes its outcome, as `drain`
 * does for one job. It runs whether or not the job is due and whether or not
 * its queue is paused, but only from a state a worker may claim (`queued` or
 * `failed`): any other state throws an `InvalidStateError`, and an unknown id
 * a `JobNotFoundError`.
 *
 * `handler` is the job's handler (a function or a spec), or an object of
 * handlers by type as `new Worker()` takes, which must have one for the job's
 * type. An object with a function under `handler` is read as a spec.
 *
 * @throws {@link index.InvalidStateError} when the job is not `queued` or `failed`.
 * @throws {@link index.JobNotFoundError} for an unknown id.
 * @throws {@link index.ValidationError} for a bad id, option or handler, or no handler for the job's type.
 *
 * @example
 * const { job } = await queue.enqueue("resize", { src: "a.png" }, { delayMs: 60_000 });
 * const run = await runJob(queue, job.id, async (payload, ctx) => resize(payload, ctx.signal));
 * assert.equal(run.outcome, "succeeded");
 */
export async function runJob(queue: Queue<any>, id: string, handler: HandlerEntry<any> | Handlers<any>, options: RunJobOptions = {}): Promise<JobRun> {
  const { sql, channel } = internalsOf(queue);
  const jobId = parse(jobIdSchema, id, "id");
  const o = parse(runJobOptionsSchema, options, "options");
  // Checked before anything is claimed, so that a bad handler never leaves a job running.
  const byType = isSingle(handler) ? undefined : runSettings(handler, o);
  const [found] = await jobGet(sql, { id: jobId });
  if (!found) throw new JobNotFoundError(jobId);
  const settings = byType ?? singleSettings(found.type, handler, o);
  const spec = settings.handlers.get(found.type);
  if (!spec) throw new ValidationError("handler", `Expected \`handler\` to have a handler for job type \`${found.type}\` (job \`${jobId}\`), got handlers for ${[...settings.handlers.keys()].map((t) => `\`${t}\``).join(", ")}`);
  const [row] = await jobClaimById(sql, { id: jobId, workerId: settings.workerId, leaseMs: settings.leaseMs });
  if (!row) {
    const [current] = await jobGet(sql, { id: jobId });
    if (!current) throw new JobNotFoundError(jobId);
    throw new InvalidStateError(jobId, current.status, "run", CLAIMABLE);
  }
  const runner = new InlineRunner({ sql, channel, workerId: settings.workerId, leaseMs: settings.leaseMs, logger: settings.logger });
  return runner.run(jobFromRow(row), spec);
}

/** Settings for one handler given alone: a mistake in it is reported at `handler`, not at `handlers.<type>`. */
function singleSettings(type: string, handler: unknown, options: RunJobOptions) {
  try {
    return runSettings({ [type]: handler }, options);
  } catch (error) {
    const at = `handlers.${type}`;
    if (!(error instanceof ValidationError) || !error.field.startsWith(at)) throw error;
    const field = `handler${error.field.slice(at.length)}`;
    throw new ValidationError(field, error.message.split(`\`${at}`).join("`handler"));
  }
}
