-- Canceling a running job. `queue.cancel(id)` on a running job records the
-- request (`cancel_requested_at`) and sends `cancel <id>` on the jobs
-- channel; the worker running it aborts the handler's signal and writes the
-- job `canceled`, fenced like every outcome (a handler that finished first
-- keeps its outcome: a job ends succeeded or canceled, never both). A worker
-- that missed the notification learns of the request from its next lease
-- extension (`job_extend` returns it), and a requested job whose worker died
-- is canceled by the rescue instead of running again (the trigger below).

ALTER TABLE jobs ADD COLUMN cancel_requested_at timestamptz;

-- job_heartbeat, and whether a cancel was requested for each job. Workers of
-- schema 11 and before keep calling job_heartbeat.
CREATE FUNCTION job_extend(p_ids uuid[], p_attempts integer[], p_worker text, p_lease_ms double precision)
RETURNS TABLE (id uuid, cancel boolean)
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
  SET locked_until = now() + p_lease_ms * interval '1 millisecond',
      started_at = coalesce(j.started_at, now())
  FROM unnest(p_ids, p_attempts) AS u(id, attempt)
  WHERE j.id = ANY(p_ids) AND j.id = u.id
    AND j.status = 'running' AND j.locked_by = p_worker AND j.attempts = u.attempt
  RETURNING j.id, j.cancel_requested_at IS NOT NULL;
END
$$;

-- Running jobs whose cancel was requested, given up by their worker: to
-- `canceled`, fenced on (id, worker, attempt). Returns the ids written.
CREATE FUNCTION job_cancel_running(p_ids uuid[], p_attempts integer[], p_worker text)
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
  WITH done AS (
    UPDATE jobs AS j
    SET status = 'canceled', finished_at = now(), started_at = coalesce(j.started_at, now()),
        locked_by = NULL, locked_until = NULL, updated_at = now()
    FROM unnest(p_ids, p_attempts) AS u(id, attempt)
    WHERE j.id = ANY(p_ids) AND j.id = u.id
      AND j.status = 'running' AND j.locked_by = p_worker AND j.attempts = u.attempt
      AND j.cancel_requested_at IS NOT NULL
    RETURNING j.id, j.queue
  ), wake AS (
    -- A canceled job frees capacity: wake the workers its queue's limits
    -- held back, as job_complete does (11_limits.sql).
    SELECT pg_notify('djps:' || current_schema() || ':jobs', q.name) FROM queues AS q
    WHERE q.name IN (SELECT done.queue FROM done) AND q.paused_at IS NULL
      AND (q.concurrency_limit IS NOT NULL OR q.rate_limit IS NOT NULL)
  )
  SELECT done.id FROM done WHERE (SELECT count(*) FROM wake) >= 0;
END
$$;

-- A job whose cancel was requested while it ran never runs again: whatever
-- takes it out of `running` other than its success (a failure or snooze its
-- worker wrote before it learned of the request, a release at shutdown, the
-- rescuer after its worker died) makes it `canceled` instead. One trigger
-- keeps that rule for every statement that moves a job; its WHEN clause is
-- all a job without a request pays.
CREATE FUNCTION job_cancel_requested() RETURNS trigger
LANGUAGE plpgsql
SET jit = off
SET search_path FROM CURRENT
AS $$
BEGIN
  NEW.status := 'canceled';
  NEW.finished_at := now();
  NEW.locked_by := NULL;
  NEW.locked_until := NULL;
  RETURN NEW;
END
$$;

CREATE TRIGGER jobs_cancel_requested BEFORE UPDATE ON jobs
  FOR EACH ROW
  WHEN (OLD.status = 'running' AND OLD.cancel_requested_at IS NOT NULL AND NEW.status IN ('queued', 'failed', 'dead'))
  EXECUTE FUNCTION job_cancel_requested();

INSERT INTO schema_versions (version, breaking) VALUES (12, false);
