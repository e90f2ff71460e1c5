import { AssertionError } from "node:assert";
import { z } from "zod";
import { nameSchema, statusSchema } from "../options.js";
import type { Queue } from "../queue.js";
import { internalsOf } from "../queue-internals.js";
import type { JobStatus } from "../states.js";
import type { Job } from "../types.js";
import { parse } from "../validate.js";

const expectationSchema = z.strictObject(
  {
    /** The job type to look for. */
    type: nameSchema,
    /**
     * What the payload must contain: objects match when every key given
     * matches (other keys are ignored), arrays element by element and of the
     * same length, anything else by `Object.is`. @default any payload
     */
    payload: z.unknown().optional(),
    /** The queue the job must be in. @default any queue */
    queue: nameSchema.optional(),
    /** The states that count as enqueued. @default ["queued"] */
    status: z.union([statusSchema, z.array(statusSchema, { error: "an array of job statuses" }).min(1, { error: "a non-empty array of job statuses" })]).optional(),
  },
  { error: "an object { type, payload, queue, status }" },
);

/**
 * What `expectEnqueued` and `expectNotEnqueued` look for.
 * @useDeclaredType
 */
export type EnqueuedExpectation = z.input<typeof expectationSchema>;

/** The most jobs an assertion reads (and a failure message lists the newest ten of). */
const MAX_READ = 1000;
const MAX_LISTED = 10;

/**
 * Asserts that the queue holds a job of `type` (in `queue`, with a payload
 * containing `payload`) waiting to run, and returns the newest such job.
 * Throws an `AssertionError` (from `node:assert`, which vitest, jest and
 * `node:test` all report) listing the jobs of that type it found instead.
 *
 * @example
 * await signUp("a@b.c");
 * await expectEnqueued(queue, { type: "send_email", payload: { to: "a@b.c" } });
 */
export async function expectEnqueued(queue: Queue<any>, expected: EnqueuedExpectation): Promise<Job> {
  const { found, matching, statuses, e } = await look(queue, expected);
  if (matching.length > 0) return matching[0]!;
  throw new AssertionError({
    message: `Expected ${describeWanted(e, statuses)}, found none${listing(found, statuses, e.type)}`,
    actual: found.map(summary),
    expected: { type: e.type, queue: e.queue, payload: e.payload },
    operator: "expectEnqueued",
    stackStartFn: expectEnqueued,
  });
}

/**
 * Asserts that the queue holds no job of `type` (in `queue`, with a payload
 * containing `payload`) waiting to run. Throws an `AssertionError` listing the
 * ones it found.
 *
 * @example await expectNotEnqueued(queue, { type: "send_email", payload: { to: "banned@b.c" } });
 */
export async function expectNotEnqueued(queue: Queue<any>, expected: EnqueuedExpectation): Promise<void> {
  const { matching, statuses, e } = await look(queue, expected);
  if (matching.length === 0) return;
  throw new AssertionError({
    message: `Expected no ${describeWanted(e, statuses).replace(/^an? /, "")}, found ${matching.length}:${lines(matching)}`,
    actual: matching.map(summary),
    expected: [],
    operator: "expectNotEnqueued",
    stackStartFn: expectNotEnqueued,
  });
}

/** The jobs of the type (and queue, and states) in the queue, newest first, and those whose payload matches. */
async function look(queue: Queue<any>, expected: EnqueuedExpectation) {
  internalsOf(queue);
  const e = parse(expectationSchema, expected, "expected");
  const statuses: JobStatus[] = e.status === undefined ? ["queued"] : Array.isArray(e.status) ? e.status : [e.status];
  const found: Job[] = [];
  let page = await queue.listJobs({ type: e.type, queue: e.queue, status: statuses, limit: 100 });
  found.push(...page.jobs);
  while (page.nextCursor && found.length < MAX_READ) {
    page = await queue.listJobs({ type: e.type, queue: e.queue, status: statuses, limit: 100, cursor: page.nextCursor });
    found.push(...page.jobs);
  }
  const matching = "payload" in e && e.payload !== undefined ? found.filter((job) => contains(job.payload, e.payload)) : found;
  return { found, matching, statuses, e };
}

/** Whether `actual` contains `expected`: objects by the keys given, arrays element by element, the rest by `Object.is`. */
export function contains(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => contains(actual[i], v));
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
    const a = actual as Record<string, unknown>;
    return Object.entries(expected).every(([k, v]) => Object.hasOwn(a, k) && contains(a[k], v));
  }
  return Object.is(actual, expected);
}

function describeWanted(e: { type: string; queue?: string | undefined; payload?: unknown }, statuses: JobStatus[]): string {
  const where = e.queue === undefined ? "" : ` in queue \`${e.queue}\``;
  const payload = e.payload === undefined ? "" : ` with a payload containing ${JSON.stringify(e.payload)}`;
  return `a ${statuses.join(" or ")} job of type \`${e.type}\`${where}${payload}`;
}

function listing(found: Job[], statuses: JobStatus[], type: string): string {
  if (found.length === 0) return `; there are no ${statuses.join(" or ")} \`${type}\` jobs`;
  return `; the ${statuses.join(" or ")} \`${type}\` jobs are (${found.length}${found.length >= MAX_READ ? "+" : ""}, newest first):${lines(found)}`;
}

function lines(jobs: Job[]): string {
  const shown = jobs.slice(0, MAX_LISTED).map((j) => `\n  - ${j.id} queue \`${j.queue}\` ${j.status} payload ${JSON.stringify(j.payload)}`);
  return shown.join("") + (jobs.length > MAX_LISTED ? `\n  ... and ${jobs.length - MAX_LISTED} more` : "");
}

const summary = (j: Job) => ({ id: j.id, queue: j.queue, status: j.status, payload: j.payload });
