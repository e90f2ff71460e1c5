import type pg from "pg";
import type { FaultLog } from "./harness.js";

/** What a fault run amounted to, and everything that broke a promise. */
export interface Verdict {
  jobs: number;
  executions: number;
  /** Executions beyond the first of each job, by the fault that explains them. */
  reExecutions: Record<string, number>;
  faults: Record<string, number>;
  drainMs: number;
  /** Broken invariants, one sentence each. Empty means every promise held. */
  violations: string[];
}

interface ExecutionRow {
  job_id: string;
  attempt: number;
  worker_id: string;
  claimed_at: Date;
  started_at: Date;
  finished_at: Date | null;
  outcome: string | null;
}

/**
 * Checks, after a scenario has drained, what users are promised:
 * - every enqueued job is terminal, and each idempotency key made exactly one job;
 * - no attempt ran twice (no two executions share a job and an attempt: no double claim);
 * - each succeeded job was finished by its latest attempt (attempt numbers are never
 *   reused, so that attempt ran on the worker that held the lease), and names no lease holder;
 * - a job's next attempt was claimed only after the previous one's lease ended
 *   (its failure or rescue was recorded at or before the next claim);
 * - every execution beyond the first is explained by a fault the scenario injected.
 */
export async function checkInvariants(
  pool: pg.Pool,
  schema: string,
  keys: readonly string[],
  faults: FaultLog,
  drainMs: number,
  expected: { canceled?: boolean } = {},
): Promise<Verdict> {
  const violations: string[] = [];
  const { rows: jobs } = await pool.query(
    `SELECT id, idempotency_key, status, attempts, locked_by, errors, payload, last_error FROM "${schema}".jobs`,
  );
  const { rows: executions } = await pool.query<ExecutionRow>(
    `SELECT job_id, attempt, worker_id, claimed_at, started_at, finished_at, outcome FROM "${schema}".executions ORDER BY job_id, attempt`,
  );

  const terminal = new Set(["succeeded", "dead", ...(expected.canceled ? ["canceled"] : [])]);
  const byKey = new Map<string, number>();
  for (const job of jobs) {
    if (!terminal.has(job.status)) violations.push(`job ${job.id} ended ${job.status}`);
    byKey.set(job.idempotency_key, (byKey.get(job.idempotency_key) ?? 0) + 1);
  }
  for (const key of keys) {
    const n = byKey.get(key) ?? 0;
    if (n !== 1) violations.push(`idempotency key ${key} made ${n} jobs`);
  }
  if (jobs.length !== keys.length) violations.push(`${jobs.length} jobs for ${keys.length} keys`);

  const runs = new Map<string, ExecutionRow[]>();
  for (const e of executions) {
    const list = runs.get(e.job_id) ?? [];
    list.push(e);
    runs.set(e.job_id, list);
  }

  // A handler that stalls the event loop stalls its whole worker: every job
  // that worker held in that window lost its lease too.
  const payloads = new Map<string, { stallUntil?: number }>(jobs.map((j) => [j.id, j.payload]));
  const stalls = new Map<string, Array<[number, number]>>();
  for (const e of executions) {
    if (e.attempt > (payloads.get(e.job_id)?.stallUntil ?? 0)) continue;
    const windows = stalls.get(e.worker_id) ?? [];
    windows.push([e.started_at.getTime(), (e.finished_at ?? e.started_at).getTime() + 5000]);
    stalls.set(e.worker_id, windows);
  }
  // A job that returned just before the stall began is caught too: its
  // outcome is written after the handler returns, and the stall holds that
  // write back past the lease.
  const STALL_SLACK_MS = 5000;
  const stalledWorker = (e: ExecutionRow) =>
    (stalls.get(e.worker_id) ?? []).some(
      ([from, to]) => e.started_at.getTime() <= to && (e.finished_at ?? e.started_at).getTime() + STALL_SLACK_MS >= from,
    );

  const reExecutions: Record<string, number> = {};
  const killed = new Set(faults.sigkill);
  const termed = new Set(faults.sigterm);
  const connectionFaults = faults.backendsTerminated + faults.serverRestarts;
  for (const job of jobs) {
    const list = runs.get(job.id) ?? [];
    const seen = new Set<number>();
    for (const e of list) {
      if (seen.has(e.attempt)) violations.push(`job ${job.id} attempt ${e.attempt} ran twice (double claim)`);
      seen.add(e.attempt);
    }
    if (job.status === "succeeded") {
      const winner = list.find((e) => e.attempt === job.attempts);
      if (!winner) violations.push(`job ${job.id} succeeded at attempt ${job.attempts} with no such execution`);
      else if (job.locked_by !== null) violations.push(`job ${job.id} succeeded but still names ${job.locked_by} as its lease holder`);
      else if (winner.outcome !== "returned") violations.push(`job ${job.id} succeeded but its attempt ${job.attempts} did not return (${winner.outcome})`);
    }
    const closedAt = new Map<number, Date>((job.errors as Array<{ attempt: number; at: string }>).map((e) => [e.attempt, new Date(e.at)]));
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1]!;
      const next = list[i]!;
      if (next.claimed_at <= previous.claimed_at) violations.push(`job ${job.id} attempt ${next.attempt} claimed before attempt ${previous.attempt}`);
      const closed = closedAt.get(previous.attempt);
      if (closed && closed > next.claimed_at) {
        violations.push(`job ${job.id} attempt ${next.attempt} claimed at ${next.claimed_at.toISOString()} while attempt ${previous.attempt} held the lease until ${closed.toISOString()}`);
      }
    }
    // Every execution but the one that finished the job needs a reason.
    const last = list[list.length - 1];
    for (const e of list) {
      if (e === last && (job.status === "succeeded" || e.outcome !== null)) continue;
      const reason = explain(e, job.payload, killed, termed, connectionFaults) ?? (stalledWorker(e) ? "its worker stalled" : undefined);
      if (!reason) {
        violations.push(
          `job ${job.id} attempt ${e.attempt} on ${e.worker_id} ended ${e.outcome ?? "unfinished"} without an injected fault to explain it ` +
            `(ran ${e.started_at.toISOString()} to ${e.finished_at?.toISOString() ?? "-"}; last error: ${job.last_error ?? "none"})`,
        );
      }
      else reExecutions[reason] = (reExecutions[reason] ?? 0) + 1;
    }
  }

  const faultCounts: Record<string, number> = {
    sigkill: faults.sigkill.length,
    sigterm: faults.sigterm.length,
    backendsTerminated: faults.backendsTerminated,
    serverRestarts: faults.serverRestarts,
    producerRetries: faults.producerRetries,
  };
  return { jobs: jobs.length, executions: executions.length, reExecutions, faults: faultCounts, drainMs, violations };
}

function explain(
  e: ExecutionRow,
  payload: { failUntil?: number; hangUntil?: number; stallUntil?: number },
  killed: Set<string>,
  termed: Set<string>,
  connectionFaults: number,
): string | undefined {
  if (e.outcome === "threw" && e.attempt <= (payload.failUntil ?? 0)) return "planned error";
  if (e.attempt <= (payload.hangUntil ?? 0)) return "hang past timeout";
  if (e.attempt <= (payload.stallUntil ?? 0)) return "stall past lease";
  if (killed.has(e.worker_id)) return "worker SIGKILLed";
  if (termed.has(e.worker_id)) return "worker SIGTERMed (released)";
  if (connectionFaults > 0) return "connection or server fault";
  return undefined;
}

/** One line of figures for the test log and the soak report. */
export function describeVerdict(name: string, v: Verdict): string {
  const again = Object.entries(v.reExecutions).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  const faults = Object.entries(v.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  return `${name}: ${v.jobs} jobs, ${v.executions} executions, re-executions explained: ${again}; faults: ${faults}; drained in ${(v.drainMs / 1000).toFixed(1)} s; violations: ${v.violations.length}`;
}
