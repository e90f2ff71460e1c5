import { startPostgres } from "../support/postgres.js";
import { FaultRun } from "./harness.js";
import { checkInvariants, type Verdict } from "./invariants.js";
import type { WorkPayload } from "./worker-process.js";

/** How big a scenario runs: small in the test suite, large in the soak. */
export interface Size {
  jobs: number;
  workers: number;
  /** How many faults of the scenario's kind to inject. */
  faults: number;
  /** How long a normal job works. */
  jobMs: number;
}

export const QUICK: Size = { jobs: 300, workers: 3, faults: 4, jobMs: 15 };

type Scenario = (url: string, size: Size) => Promise<Verdict>;

/** Runs a scenario's world from setup to verdict, and always cleans up. */
async function withRun(url: string, body: (run: FaultRun) => Promise<string[]>, options: ConstructorParameters<typeof FaultRun>[1] = undefined): Promise<Verdict> {
  const run = new FaultRun(url, options);
  try {
    await run.setup();
    const keys = await body(run);
    const drainMs = await run.drain();
    return await checkInvariants(run.admin, run.schema, keys, run.faults, drainMs);
  } finally {
    await run.close();
  }
}

async function startWorkers(run: FaultRun, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => run.spawnWorker()));
}

const plain = (size: Size) => (): WorkPayload => ({ ms: size.jobMs });

/** SIGKILL random workers mid-job, again and again, starting a replacement each time. */
export const sigkillWorkers: Scenario = (url, size) =>
  withRun(url, async (run) => {
    await startWorkers(run, size.workers);
    const producing = run.produce(size.jobs, plain(size));
    for (let i = 0; i < size.faults; i++) {
      await run.killMidJob("SIGKILL");
      await run.spawnWorker();
    }
    return producing;
  });

/** SIGTERM random workers under load: the graceful path, with replacements. */
export const sigtermWorkers: Scenario = (url, size) =>
  withRun(url, async (run) => {
    await startWorkers(run, size.workers);
    // One job in five outlasts the shutdown grace period and is released.
    const producing = run.produce(size.jobs, (i) => ({ ms: i % 5 === 0 ? 1500 : size.jobMs * 4 }));
    for (let i = 0; i < size.faults; i++) {
      await run.killMidJob("SIGTERM");
      await run.spawnWorker();
    }
    return producing;
  });

/** Terminate the workers' connections from the server side at random moments, LISTEN connections included. */
export const terminateBackends: Scenario = (url, size) =>
  withRun(url, async (run) => {
    await startWorkers(run, size.workers);
    const producing = run.produce(size.jobs, plain(size));
    for (let i = 0; i < size.faults * 3; i++) {
      await run.terminateBackend(i % 3 === 0 ? "listen" : "any");
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
    return producing;
  });

/** The producer's own connection dropped mid-enqueue: it retries with the same keys and makes no second job. */
export const producerRetries: Scenario = (url, size) =>
  withRun(url, async (run) => {
    await startWorkers(run, 1);
    let stop = false;
    const killer = (async () => {
      while (!stop) {
        await run.admin
          .query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'`, [`${run.appName} producer`])
          .catch(() => {});
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      return await run.produce(size.jobs, plain(size), 10);
    } finally {
      stop = true;
      await killer;
    }
  });

/** Handlers that throw, hang past their timeout, or stall the event loop past their lease. */
export const badHandlers: Scenario = (url, size) =>
  withRun(
    url,
    async (run) => {
      await startWorkers(run, size.workers);
      return run.produce(size.jobs, (i): WorkPayload => {
        switch (i % 10) {
          case 0:
          case 1:
            return { ms: size.jobMs, failUntil: 2 };
          case 2:
            return { ms: size.jobMs, hangUntil: 1 };
          case 3:
            return i % 30 === 3 ? { ms: size.jobMs, stallUntil: 1, stallMs: 3000 } : { ms: size.jobMs };
          default:
            return { ms: size.jobMs };
        }
      });
    },
    { concurrency: 5, leaseMs: 2000, heartbeatMs: 300, rescueMs: 200, pollMs: 100, timeoutMs: 1500, shutdownMs: 500 },
  );

/**
 * The PostgreSQL server itself stopped in immediate mode (a crash, as far as
 * it can tell) and started again, mid-run, on a server of the scenario's own.
 */
export const serverRestart: Scenario = async (_url, size) => {
  const server = await startPostgres({ embedded: true, settings: { max_connections: 200 } });
  try {
    return await withRun(server.url, async (run) => {
      await startWorkers(run, size.workers);
      const producing = run.produce(size.jobs, plain(size));
      for (let i = 0; i < Math.max(1, Math.floor(size.faults / 2)); i++) {
        await new Promise((r) => setTimeout(r, 300));
        await server.restart!("immediate", 200);
        run.faults.serverRestarts++;
      }
      return producing;
    });
  } finally {
    await server.stop();
  }
};

export const SCENARIOS: Record<string, Scenario> = {
  "sigkill-workers": sigkillWorkers,
  "sigterm-workers": sigtermWorkers,
  "terminate-backends": terminateBackends,
  "producer-retries": producerRetries,
  "bad-handlers": badHandlers,
  "server-restart": serverRestart,
};
