import { afterAll, afterEach, beforeAll } from "vitest";
import { Queue, type Worker } from "../../src/index.js";
import { migratedSchema, type TestSchema } from "./db.js";

/** A test file's world for in-process worker tests. `db` and `queue` are set once `beforeAll` has run. */
export interface WorkerBed {
  db: TestSchema;
  queue: Queue;
  /** Workers a test started: each is stopped (no grace period) after the test. */
  readonly workers: Worker<any>[];
}

/**
 * Registers the hooks every worker test file needs: a migrated schema of its
 * own and a Queue on it, workers stopped after each test, everything dropped
 * at the end. `afterEachTest` runs once the test's workers have stopped.
 */
export function useWorkerBed(prefix: string, afterEachTest?: (bed: WorkerBed) => Promise<void>): WorkerBed {
  const bed = { workers: [] as Worker<any>[] } as WorkerBed;
  beforeAll(async () => {
    bed.db = await migratedSchema(prefix);
    bed.queue = new Queue({ connectionString: bed.db.url, schema: bed.db.schema });
  });
  afterEach(async () => {
    await Promise.all(bed.workers.splice(0).map((w) => w.stop({ timeoutMs: 0 })));
    await afterEachTest?.(bed);
  });
  afterAll(async () => {
    await bed.queue.close();
    await bed.db.drop();
  });
  return bed;
}
