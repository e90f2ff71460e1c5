import type { z } from "zod";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, nameSchema, type EnqueueOptions } from "./options.js";
import { serializeJson } from "./payload.js";
import { jobInsert } from "./sql/jobInsert.js";
import { jobInsertMany } from "./sql/jobInsertMany.js";
import { jobInsertKeyless, type WakeList } from "./sql/jobInsertKeyless.js";
import { jobCreated, jobFromInsert, type InsertRow, type NewJob } from "./sql/jobRow.js";
import type { Sql } from "./sql/query.js";
import { loadTracing, startProducerSpan, tracingUnknown } from "./tracing.js";
import type { EnqueueResult } from "./types.js";
import { uuidv7Batch } from "./uuid.js";
import { parse, schemaMismatch } from "./validate.js";
import type { WakeDebounce } from "./wake-debounce.js";

/** What a producer checks payloads against. */
export interface PayloadRules {
  /** Zod schemas by job type; other types take any JSON. */
  schemas: ReadonlyMap<string, z.ZodType>;
  maxPayloadBytes: number;
}

/**
 * A job ready to insert: its type and payload validated (against the type's
 * schema, if one is registered), the payload serialised, the defaults
 * applied. `prefix` places errors (`items.3.` in a bulk enqueue).
 */
export function prepareJob(type: unknown, payload: unknown, options: EnqueueOptions, rules: PayloadRules, prefix: string): NewJob {
  const jobType = parse(nameSchema, type, `${prefix}type`);
  const schema = rules.schemas.get(jobType);
  if (schema) {
    const result = schema.safeParse(payload);
    if (!result.success) throw schemaMismatch(jobType, `${prefix}payload`, payload, result.error.issues[0]!);
  }
  return {
    queue: options.queue ?? DEFAULT_QUEUE,
    type: jobType,
    payload: serializeJson(payload, `${prefix}payload`, rules.maxPayloadBytes),
    priority: options.priority ?? 0,
    runAt: options.runAt ?? null,
    delayMs: options.delayMs ?? null,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    timeoutMs: options.timeoutMs ?? null,
    key: options.idempotencyKey ?? null,
    group: options.group ?? null,
  };
}

/** Where an enqueue goes, and how it wakes the workers of the queues it fills. */
export interface EnqueueTarget {
  sql: Sql;
  /** The schema's NOTIFY channel. */
  channel: string;
  /** The producer's NOTIFY throttle. */
  wake: WakeDebounce;
  /** The statement runs in the caller's transaction (`{ client }`). */
  inTransaction: boolean;
  /** Buffer parameters reach the server as binary values (see `sendsBinary`). */
  binary: boolean;
}

/**
 * The channel an enqueue statement should NOTIFY on, or null when the wake
 * is left to the debounce's trailing NOTIFY. Inside a caller's transaction
 * the statement always notifies: only its commit may wake workers, and we
 * cannot know when that comes.
 */
function wakeChannel(target: EnqueueTarget): string | null {
  return target.inTransaction || target.wake.lead() ? target.channel : null;
}

/**
 * Queues given runnable jobs by a statement that did not notify: the
 * trailing NOTIFY wakes them. `wake` lists the queues of the jobs the
 * statement inserted (see `wakeList`), `nowMs` is its `now()`: a queue is
 * runnable when one of its jobs has no delay, or a `runAt` that time passed.
 */
function trailWake(target: EnqueueTarget, wake: WakeList, nowMs: number): void {
  const runnable = wake.queues.filter((_, i) => (wake.at[i]?.getTime() ?? nowMs) <= nowMs);
  if (runnable.length > 0) target.wake.trail(runnable);
}

/** Inserts one prepared job inside a PRODUCER span (when tracing is on). */
export async function insertJob(target: EnqueueTarget, job: NewJob): Promise<EnqueueResult> {
  if (tracingUnknown()) await loadTracing();
  const channel = wakeChannel(target);
  const span = startProducerSpan(job.queue, job.type, 1);
  let rows: InsertRow[];
  try {
    rows = await jobInsert(target.sql, { job, channel, traceContext: span?.traceContext ?? null });
  } catch (error) {
    span?.end([], error);
    throw error;
  }
  const row = rows[0]!;
  span?.end([row.id]);
  if (channel === null && row.created) trailWake(target, wakeList([job]), row.created_at.getTime());
  return { job: jobFromInsert(job, row), created: row.created };
}

/** The PRODUCER span of a batch: its queue and type when all jobs share them. */
function batchSpan(jobs: readonly NewJob[]): ReturnType<typeof startProducerSpan> {
  const queues = new Set(jobs.map((j) => j.queue));
  const types = new Set(jobs.map((j) => j.type));
  return startProducerSpan(queues.size === 1 ? jobs[0]!.queue : "(several)", types.size === 1 ? jobs[0]!.type : undefined, jobs.length);
}

/**
 * Inserts many prepared jobs in one statement. The first job with a given
 * (type, key) is inserted; later ones in the batch share its job with
 * `created: false`. Results come in the order of `prepared`. A batch without
 * keys takes a lighter statement (see `jobInsertKeyless`).
 */
export async function insertJobs(target: EnqueueTarget, prepared: readonly NewJob[]): Promise<EnqueueResult[]> {
  // Grouped jobs take the statement that returns rows: their run_at is the
  // server's clock at insert (see jobInsertMany), which only the server knows.
  if (prepared.every((job) => job.key === null && job.group === null)) return insertKeyless(target, prepared);
  const firstIndex = new Map<string, number>();
  const sources: number[] = [];
  const inserted: NewJob[] = [];
  prepared.forEach((job, i) => {
    const dedupeKey = job.key === null ? null : `${job.type}\u0000${job.key}`;
    const seen = dedupeKey === null ? undefined : firstIndex.get(dedupeKey);
    if (seen !== undefined) {
      sources.push(seen);
      return;
    }
    if (dedupeKey !== null) firstIndex.set(dedupeKey, i);
    sources.push(i);
    inserted.push(job);
  });
  // Every job of a batch gets the same now() as run_at, so the claim order
  // (priority, run_at, id) falls to the id: it must follow item order, as
  // the ids of one batch do.
  const batch = uuidv7Batch(inserted.length);
  const ids = batch.text;
  if (tracingUnknown()) await loadTracing();
  const span = batchSpan(inserted);
  const channel = wakeChannel(target);
  const rows = await jobInsertMany(target.sql, { ids: batch, jobs: inserted, channel, traceContext: span?.traceContext ?? null, binary: target.binary }).catch((error: unknown) => {
    span?.end([], error);
    throw error;
  });
  span?.end(rows.length === 1 ? [rows[0]!.id] : []);
  const byId = new Map<string, InsertRow>();
  const byKey = new Map<string, InsertRow>();
  for (const row of rows) {
    if (row.created) byId.set(row.id, row);
    else byKey.set(`${row.type}\u0000${row.idempotency_key}`, row);
  }
  const results: EnqueueResult[] = [];
  const created: NewJob[] = [];
  let insertIndex = 0;
  for (let i = 0; i < prepared.length; i++) {
    if (sources[i] !== i) {
      const first = results[sources[i]!]!;
      results.push({ job: first.job, created: false });
      continue;
    }
    const job = prepared[i]!;
    const row = (byId.get(ids[insertIndex++]!) ?? byKey.get(`${job.type}\u0000${job.key}`))!;
    results.push({ job: jobFromInsert(job, row), created: row.created });
    if (row.created) created.push(job);
  }
  const statementNow = rows.find((row) => row.created)?.created_at;
  if (channel === null && statementNow !== undefined) trailWake(target, wakeList(created), statementNow.getTime());
  return results;
}

/**
 * The queues a batch of new jobs makes runnable, for the wake-up: each with
 * null when one of its jobs runs now (no `runAt`, no delay), else the
 * earliest `runAt` of its jobs, which is runnable if the server's clock has
 * passed it. A delayed job (`delayMs` > 0) is never runnable at once.
 */
function wakeList(jobs: readonly NewJob[]): WakeList {
  const earliest = new Map<string, Date | null>();
  for (const job of jobs) {
    const at = job.runAt ?? ((job.delayMs ?? 0) === 0 ? null : undefined);
    if (at === undefined) continue;
    const seen = earliest.get(job.queue);
    if (seen === null) continue;
    if (seen === undefined || at === null || at < seen) earliest.set(job.queue, at);
  }
  return { queues: [...earliest.keys()], at: [...earliest.values()] };
}

/**
 * Inserts a batch without idempotency keys. Every job is new, and the
 * statement returns only the server's `now()`: each job's creation time, and
 * its run time plus its delay (a whole number of milliseconds, so the sum is
 * what the server stored, read back at millisecond precision).
 */
async function insertKeyless(target: EnqueueTarget, jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
  const ids = uuidv7Batch(jobs.length);
  if (tracingUnknown()) await loadTracing();
  const span = batchSpan(jobs);
  const channel = wakeChannel(target);
  const wake = wakeList(jobs);
  let nowMs: number;
  try {
    const [row] = await jobInsertKeyless(target.sql, { ids, jobs, channel, wake, traceContext: span?.traceContext ?? null, binary: target.binary });
    nowMs = Number(row!.now_ms);
  } catch (error) {
    span?.end([], error);
    throw error;
  }
  span?.end(jobs.length === 1 ? [ids.text[0]!] : []);
  if (channel === null) trailWake(target, wake, nowMs);
  return jobs.map((job, i) => ({
    job: jobCreated(job, ids.text[i]!, new Date(job.runAt?.getTime() ?? nowMs + (job.delayMs ?? 0)), new Date(nowMs)),
    created: true,
  }));
}
