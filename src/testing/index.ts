/**
 * `djps/testing`: helpers for the tests of an application that uses djps.
 * They run against a real PostgreSQL schema (migrated as usual), use no test
 * framework, and load nothing of `djps` that a test does not already have.
 * See docs/testing.md.
 *
 * @example
 * import { drain, expectEnqueued, testClock } from "djps/testing";
 * await expectEnqueued(queue, { type: "send_email", payload: { to: "a@b.c" } });
 * const { counts } = await drain(queue, { send_email: sendEmail });
 */
export { drain, DrainLimitError, DEFAULT_MAX_RUNS } from "./drain.js";
export type { DrainOptions, DrainResult } from "./drain.js";
export { runJob } from "./runJob.js";
export type { RunJobOptions } from "./runJob.js";
export type { JobRun, RunOutcome } from "./inline.js";
export { expectEnqueued, expectNotEnqueued } from "./expect.js";
export type { EnqueuedExpectation } from "./expect.js";
export { testClock } from "./clock.js";
export type { TestClock } from "./clock.js";
export { TESTING_LEASE_MS } from "./options.js";
