import type { Job } from "../index.js";
import { details, table } from "./table.js";

const time = (d: Date | null) => (d ? d.toISOString() : null);
const short = (text: string | null, max = 60) => (text === null ? null : text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A page of jobs, one line each. */
export function jobsTable(jobs: readonly Job[]): string {
  if (jobs.length === 0) return "No jobs.";
  return table(
    ["id", "type", "queue", "status", "attempts", "created", "finished", "last error"],
    jobs.map((j) => [j.id, j.type, j.queue, j.status, `${j.attempts}/${j.maxAttempts}`, time(j.createdAt), time(j.finishedAt), short(j.lastError)]),
  );
}

/** One job in full: its fields, payload, result and error history. */
export function jobDetail(job: Job): string {
  const fields = details([
    ["id", job.id],
    ["type", job.type],
    ["queue", job.queue],
    ["status", job.status],
    ["priority", String(job.priority)],
    ["attempts", `${job.attempts} of ${job.maxAttempts}`],
    ["run at", time(job.runAt)],
    ["created", time(job.createdAt)],
    ["started", time(job.startedAt)],
    ["finished", time(job.finishedAt)],
    ...(job.cancelRequestedAt ? [["cancel asked", time(job.cancelRequestedAt)] as [string, string | null]] : []),
    ...(job.progress !== null && job.progress !== undefined ? [["progress", JSON.stringify(job.progress)] as [string, string]] : []),
    ["key", job.idempotencyKey],
    ["locked by", job.lockedBy],
    ["payload", JSON.stringify(job.payload)],
    ["result", job.result === null ? null : JSON.stringify(job.result)],
  ]);
  if (job.errors.length === 0) return fields;
  const errors = details(job.errors.map((e) => [`  attempt ${e.attempt}`, `at ${e.at}: ${e.message}`]));
  return `${fields}\nerrors\n${errors}`;
}
