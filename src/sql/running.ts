/**
 * "The row is running", for the statements that take a batch of jobs by id
 * (complete, fail, snooze, heartbeat). It must not read as the predicate of
 * `jobs_running_idx`: if it did, the planner could scan that index for every
 * running job and join the batch against all of them. Its estimate of running
 * rows comes from the last ANALYZE, often taken when few jobs ran; with tens
 * of thousands running it then joined each batch against all of them, and a
 * worker slowed a hundredfold on a table with a long history. Spelled with an
 * explicit collation, the condition means the same (text equality is
 * byte-wise under every deterministic collation) but cannot prove the index's
 * predicate, so the only plan left is a primary-key lookup per id of the batch.
 * test/sql.plans.test.ts holds the plans to that.
 */
export const RUNNING = `j.status = 'running' COLLATE "C"`;
