-- The batch writes (complete, fail, snooze, heartbeat) as functions, so that
-- they can carry planner settings, as job_claim does.
--
-- Each takes a batch of job ids and must look each one up by its primary key.
-- Left to itself, the planner judges by the table's statistics, which are
-- often gathered while few jobs run: it then believes a scan of
-- jobs_running_idx or of the whole table yields a row or two, puts it on the
-- outer side of a nested loop, and joins every batch against every running
-- job (or every row). A worker whose completions fell behind (more jobs
-- running, so slower completions, so more jobs running) dropped from tens of
-- thousands of jobs/s to hundreds. So:
--   * the running check is spelled with an explicit collation: it means the
--     same (text equality is byte-wise under every deterministic collation)
--     but does not prove jobs_running_idx's predicate, so that index is not a
--     candidate;
--   * sequential and bitmap scans, hash and merge joins are off inside these
--     functions,
-- which leaves one plan: for each id of the batch, a probe of the primary key.
-- test/sql.plans.test.ts holds the plans to that.

CREATE FUNCTION job_complete(p_ids uuid[], p_attempts integer[], p_results text[], p_worker text)
RETURNS TABLE (id uuid)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  UPDATE jobs AS j
  SET status = 'succeeded', result = u.result::jsonb, locked_until = NULL,
      finished_at = now(), updated_at = now()
  FROM unnest(p_ids, p_attempts, p_results) AS u(id, attempt, result)
  WHERE j.id = u.id AND j.status = 'running' COLLATE "C" AND j.locked_by = p_worker AND j.attempts = u.attempt
  RETURNING j.id;
END
$$;

-- p_history: how many error entries a job keeps (the newest).
CREATE FUNCTION job_fail(p_ids uuid[], p_attempts integer[], p_messages text[], p_stacks text[],
                         p_delays_ms double precision[], p_permanent boolean[], p_worker text, p_history integer)
RETURNS TABLE (id uuid, status text, run_at timestamptz)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
  v_keep jsonpath := ('$[last-' || (p_history - 1) || ' to last]')::jsonpath;
BEGIN
  RETURN QUERY
  UPDATE jobs AS j
  SET status = CASE WHEN u.permanent OR j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,
      run_at = CASE WHEN u.permanent OR j.attempts >= j.max_attempts THEN j.run_at
                    ELSE now() + u.delay_ms * interval '1 millisecond' END,
      finished_at = CASE WHEN u.permanent OR j.attempts >= j.max_attempts THEN now() END,
      last_error = u.message,
      errors = jsonb_path_query_array(
        j.errors || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
          'attempt', j.attempts, 'at', now(), 'message', u.message, 'stack', u.stack))),
        v_keep),
      locked_until = NULL, updated_at = now()
  FROM unnest(p_ids, p_attempts, p_messages, p_stacks, p_delays_ms, p_permanent)
    AS u(id, attempt, message, stack, delay_ms, permanent)
  WHERE j.id = u.id AND j.status = 'running' COLLATE "C" AND j.locked_by = p_worker AND j.attempts = u.attempt
  RETURNING j.id, j.status, j.run_at;
END
$$;

-- Snoozes and shutdown releases: back to queued at now + delay without
-- spending an attempt; one NOTIFY on p_channel per queue with jobs runnable now
-- (none when p_channel is null).
CREATE FUNCTION job_snooze(p_ids uuid[], p_attempts integer[], p_delays_ms double precision[], p_worker text, p_channel text)
RETURNS TABLE (id uuid, run_at timestamptz)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH upd AS (
    UPDATE jobs AS j
    SET status = 'queued', run_at = now() + u.delay_ms * interval '1 millisecond',
        max_attempts = j.max_attempts + 1, locked_until = NULL, updated_at = now()
    FROM unnest(p_ids, p_attempts, p_delays_ms) AS u(id, attempt, delay_ms)
    WHERE j.id = u.id AND j.status = 'running' COLLATE "C" AND j.locked_by = p_worker AND j.attempts = u.attempt
    RETURNING j.id, j.run_at, j.queue
  ), wake AS (
    SELECT pg_notify(p_channel, q.queue) FROM (SELECT DISTINCT upd.queue FROM upd WHERE p_channel IS NOT NULL AND upd.run_at <= now()) q
  )
  SELECT upd.id, upd.run_at FROM upd WHERE (SELECT count(*) FROM wake) >= 0;
END
$$;

-- Lease extension: touches only locked_until, which no index covers, so it
-- can be a HOT update.
CREATE FUNCTION job_heartbeat(p_ids uuid[], p_attempts integer[], p_worker text, p_lease_ms double precision)
RETURNS TABLE (id uuid)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  UPDATE jobs AS j
  SET locked_until = now() + p_lease_ms * interval '1 millisecond'
  FROM unnest(p_ids, p_attempts) AS u(id, attempt)
  WHERE j.id = u.id AND j.status = 'running' COLLATE "C" AND j.locked_by = p_worker AND j.attempts = u.attempt
  RETURNING j.id;
END
$$;
