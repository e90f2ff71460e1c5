-- Progress of a running job: `ctx.progress(value)` in a handler stores a
-- number from 0 to 100 or a small JSON value on the job, for `getJob`, the
-- HTTP API and the dashboard. The column is nullable with no default, so
-- adding it rewrites nothing, and no index covers it: a progress write is a
-- HOT update when its page has room (the table's fillfactor is 80).

ALTER TABLE jobs ADD COLUMN progress jsonb;

-- Writes the latest progress of many running jobs in one statement, fenced
-- like job_heartbeat on (id, worker, attempt): a job this worker no longer
-- holds keeps what its current holder wrote. Returns the ids written.
CREATE FUNCTION job_progress(p_ids uuid[], p_attempts integer[], p_values text[], p_worker text)
RETURNS TABLE (id uuid)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET enable_hashjoin = on
SET jit = off
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  UPDATE jobs AS j
  SET progress = u.value::jsonb
  FROM unnest(p_ids, p_attempts, p_values) AS u(id, attempt, value)
  WHERE j.id = ANY(p_ids) AND j.id = u.id
    AND j.status = 'running' AND j.locked_by = p_worker AND j.attempts = u.attempt
  RETURNING j.id;
END
$$;

INSERT INTO schema_versions (version, breaking) VALUES (10, false);
