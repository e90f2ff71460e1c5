import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { Queue, Worker, type Handlers, type JobSchemas, type QueueOptions, type WorkerOptions } from "../../src/index.js";
import { migratedSchema, type TestSchema } from "./db.js";

/** How a test file's bed differs from the usual one. */
export interface TestBedOptions {
  /** Options of the bed's Queue beyond where it connects (e.g. `maxPayloadBytes`). */
  queue?: Omit<QueueOptions, "connectionString" | "pool" | "schema">;
  /** Options every `bed.worker()` starts from; a test's own options override them. */
  worker?: WorkerOptions;
  /**
   * A fresh schema (and Queue) for every test instead of one for the file, for
   * tests that must not see the rows of the tests before them.
   */
  schemaPerTest?: boolean;
  /** Runs after each test, once the test's workers have stopped. */
  afterEachTest?: (bed: TestBed) => Promise<void> | void;
}

/**
 * A test file's world: a migrated schema of its own, a Queue on it, and the
 * workers its tests built. `db` and `queue` can be read once `beforeAll` (or,
 * with `schemaPerTest`, `beforeEach`) has run.
 */
export interface TestBed {
  readonly db: TestSchema;
  readonly queue: Queue;
  /** Workers the tests built: each is stopped (no grace period) after the test. */
  readonly workers: Worker<any>[];
  /**
   * A Worker on the bed's schema, with the bed's worker defaults under
   * `options`. It is not started; it is stopped after the test.
   */
  worker<S extends JobSchemas = {}>(handlers: NoInfer<Handlers<S>>, options?: WorkerOptions<S>): Worker<S>;
}

/**
 * Registers the hooks a test file on a migrated schema needs: the schema and a
 * Queue on it, the workers a test built stopped after it, everything dropped at
 * the end.
 */
export function useTestBed(prefix: string, options: TestBedOptions = {}): TestBed {
  let db: TestSchema | undefined;
  let queue: Queue | undefined;
  const workers: Worker<any>[] = [];
  const notYet = (what: string): never => {
    throw new Error(`The test bed's ${what} is made in a before hook: read it inside a hook or a test`);
  };
  const bed: TestBed = {
    get db() {
      return db ?? notYet("schema");
    },
    get queue() {
      return queue ?? notYet("queue");
    },
    workers,
    worker(handlers, workerOptions) {
      const { url, schema } = bed.db;
      const worker = new Worker(handlers, { connectionString: url, schema, ...options.worker, ...workerOptions } as WorkerOptions<any>);
      workers.push(worker);
      return worker;
    },
  };

  const setUp = async () => {
    db = await migratedSchema(prefix);
    queue = new Queue({ ...options.queue, connectionString: db.url, schema: db.schema });
  };
  const tearDown = async () => {
    await queue?.close();
    await db?.drop();
    queue = undefined;
    db = undefined;
  };
  const stopWorkers = async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop({ timeoutMs: 0 })));
    await options.afterEachTest?.(bed);
  };

  if (options.schemaPerTest) {
    beforeEach(setUp);
    afterEach(async () => {
      await stopWorkers();
      await tearDown();
    });
  } else {
    beforeAll(setUp);
    afterEach(stopWorkers);
    afterAll(tearDown);
  }
  return bed;
}
