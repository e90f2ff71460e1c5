-- Claims that know which jobs started, and batch writes that probe each id
-- whatever the planner believes.
--
-- 1. Started or only held. A worker claims a few jobs beyond its free slots
--    and holds them in memory until a slot frees. Those held jobs are now
--    claimed with `started_at` null and a short lease (p_hold_ms) that
--    heartbeats do not extend; the jobs that go straight to a free slot get
--    `started_at` and the full lease in the claim itself. When a held job
--    starts, the worker's heartbeat sets `started_at` and extends the lease
--    (a job that finishes before that mark is written gets `started_at` from
--    its completion or failure).
--    The rescuer puts a job whose lease passed before it ever started back to
--    `queued` without spending an attempt (see job_rescue), so a crash charges
--    an attempt only to jobs whose handler started.
--
-- 2. One probe per id. Each batch function takes a list of ids. Joined to
--    the table by `j.id = u.id` alone, the planner may scan the whole primary
--    key (it is ordered on the join key, so it is always a candidate) on the
--    outer side of a nested loop when the statistics say few jobs run, and
--    compare every row against every id: seconds per batch. Here the ids are
--    also an index condition (`j.id = ANY(p_ids)`), which every scan of the
--    table then carries, and nested loops and merge joins are off, which
--    leaves a hash join of the probed rows with the batch: linear in the
--    batch, whatever the statistics. test/sql.plans.test.ts checks the
--    executed plans on PostgreSQL 15 and 18.
--
-- 3. `locked_by` names the lease holder only while a job is running: every
--    exit from `running` clears it.
--
-- The claim keeps its old signature too (an overload), so workers of the
-- previous version keep running during a rolling upgrade: their claims mark
-- every job started, which the rescuer treats as before.
--
-- 4. The schema version as a contract. Code refuses a schema older than it
--    needs; a newer one only when a version beyond the code's is marked
--    breaking here. Every migration from this one on records its row.

CREATE TABLE schema_versions (
  version    integer     NOT NULL,
  -- true when code that knows only earlier versions cannot run against it
  breaking   boolean     NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schema_versions_pkey PRIMARY KEY (version)
);

-- Workers of version 4 keep working against this schema (see above).
INSERT INTO schema_versions (version, breaking) VALUES (5, false);

CREATE FUNCTION job_claim(p_queues text[], p_types text[], p_limit integer, p_start integer,
                          p_worker text, p_lease_ms double precision, p_hold_ms double precision)
RETURNS SETOF jobs
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET search_path FROM CURRENT
AS $$
DECLARE
  v_paused text[];
  v_ids uuid[];
BEGIN
  SELECT coalesce(array_agg(name), '{}') INTO v_paused FROM queues WHERE paused_at IS NOT NULL;
  -- The next ids in claim order, locked; ARRAY() keeps that order, and the
  -- first p_start of them are the ones that start at once.
  v_ids := ARRAY(
    SELECT id FROM jobs
    WHERE status IN ('queued', 'failed') AND run_at <= now()
      AND (p_queues IS NULL OR queue = ANY(p_queues))
      AND queue <> ALL(v_paused)
      AND type = ANY(p_types)
    ORDER BY priority DESC, run_at, id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED);
  RETURN QUERY
  UPDATE jobs AS j
  SET status = 'running', attempts = j.attempts + 1, locked_by = p_worker,
      locked_until = now() + (CASE WHEN u.n <= p_start THEN p_lease_ms ELSE p_hold_ms END) * interval '1 millisecond',
      started_at = CASE WHEN u.n <= p_start THEN now() END,
      updated_at = now()
  FROM unnest(v_ids) WITH ORDINALITY AS u(id, n)
  WHERE j.id = ANY(v_ids) AND j.id = u.id
  RETURNING j.*;
END
$$;

CREATE OR REPLACE FUNCTION job_complete(p_ids uuid[], p_attempts integer[], p_results text[], p_worker text)
RETURNS TABLE (id uuid)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET enable_hashjoin = on
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  UPDATE jobs AS j
  SET status = 'succeeded', result = u.result::jsonb, locked_by = NULL, locked_until = NULL,
      started_at = coalesce(j.started_at, now()), finished_at = now(), updated_at = now()
  FROM unnest(p_ids, p_attempts, p_results) AS u(id, attempt, result)
  WHERE j.id = ANY(p_ids) AND j.id = u.id
    AND j.status = 'running' AND j.locked_by = p_worker AND j.attempts = u.attempt
  RETURNING j.id;
END
$$;

CREATE OR REPLACE FUNCTION job_fail(p_ids uuid[], p_attempts integer[], p_messages text[], p_stacks text[],
                                    p_delays_ms double precision[], p_permanent boolean[], p_worker text, p_history integer)
RETURNS TABLE (id uuid, status text, run_at timestamptz)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET enable_hashjoin = on
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
      started_at = coalesce(j.started_at, now()), locked_by = NULL, locked_until = NULL, updated_at = now()
  FROM unnest(p_ids, p_attempts, p_messages, p_stacks, p_delays_ms, p_permanent)
    AS u(id, attempt, message, stack, delay_ms, permanent)
  WHERE j.id = ANY(p_ids) AND j.id = u.id
    AND j.status = 'running' AND j.locked_by = p_worker AND j.attempts = u.attempt
  RETURNING j.id, j.status, j.run_at;
END
$$;

CREATE OR REPLACE FUNCTION job_snooze(p_ids uuid[], p_attempts integer[], p_delays_ms double precision[], p_worker text, p_channel text)
RETURNS TABLE (id uuid, run_at timestamptz)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET enable_hashjoin = on
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH upd AS (
    UPDATE jobs AS j
    SET status = 'queued', run_at = now() + u.delay_ms * interval '1 millisecond',
        max_attempts = j.max_attempts + 1, locked_by = NULL, locked_until = NULL, updated_at = now()
    FROM unnest(p_ids, p_attempts, p_delays_ms) AS u(id, attempt, delay_ms)
    WHERE j.id = ANY(p_ids) AND j.id = u.id
      AND j.status = 'running' AND j.locked_by = p_worker AND j.attempts = u.attempt
    RETURNING j.id, j.run_at, j.queue
  ), wake AS (
    SELECT pg_notify(p_channel, q.queue) FROM (SELECT DISTINCT upd.queue FROM upd WHERE p_channel IS NOT NULL AND upd.run_at <= now()) q
  )
  SELECT upd.id, upd.run_at FROM upd WHERE (SELECT count(*) FROM wake) >= 0;
END
$$;

-- Lease extension, and the mark that a held job's handler started. Touches
-- only columns no index covers, so it can be a HOT update.
CREATE OR REPLACE FUNCTION job_heartbeat(p_ids uuid[], p_attempts integer[], p_worker text, p_lease_ms double precision)
RETURNS TABLE (id uuid)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET enable_hashjoin = on
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
  RETURNING j.id;
END
$$;

-- Lease rescue, in the session that wins the transaction-scoped advisory lock
-- p_lock (one worker in the cluster at a time), at most p_limit jobs a call.
-- A job whose handler never started (started_at null: it was held by a worker
-- that died or stalled) goes back to `queued` without spending an attempt,
-- as a snooze does (max_attempts grows by one, attempts stays monotonic). Each
-- such release is kept in the error history, marked `unstarted`; after
-- p_refunds of them in the kept history the job is charged like any other,
-- so a job that kills its worker before the start is recorded cannot come
-- back for free forever. Every other job goes to `failed`, runnable now, or
-- to `dead` when it has no attempts left.
CREATE FUNCTION job_rescue(p_lock bigint, p_limit integer, p_channel text, p_history integer, p_refunds integer)
RETURNS TABLE (id uuid, status text)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
  v_keep jsonpath := ('$[last-' || (p_history - 1) || ' to last]')::jsonpath;
  v_ids uuid[];
BEGIN
  IF NOT pg_try_advisory_xact_lock(p_lock) THEN
    RETURN;
  END IF;
  v_ids := ARRAY(
    SELECT j.id FROM jobs AS j
    WHERE j.status = 'running' AND j.locked_until < now()
    ORDER BY j.locked_until
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED);
  RETURN QUERY
  WITH released AS (
    UPDATE jobs AS j
    SET status = 'queued', max_attempts = j.max_attempts + 1,
        errors = jsonb_path_query_array(
          j.errors || jsonb_build_array(jsonb_build_object(
            'attempt', j.attempts, 'at', now(), 'unstarted', true,
            'message', 'Released: worker ' || j.locked_by || ' stopped (it crashed, was killed or stalled) before the handler started; no attempt spent')),
          v_keep),
        locked_by = NULL, locked_until = NULL, updated_at = now()
    WHERE j.id = ANY(v_ids) AND j.status = 'running' AND j.started_at IS NULL
      AND jsonb_array_length(jsonb_path_query_array(j.errors, '$[*] ? (@.unstarted == true)')) < p_refunds
    RETURNING j.id, j.status, j.queue
  ), charged AS (
    UPDATE jobs AS j
    SET status = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,
        run_at = CASE WHEN j.attempts >= j.max_attempts THEN j.run_at ELSE now() END,
        finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
        last_error = 'Lease expired: worker ' || j.locked_by || ' stopped heartbeating (it crashed, was killed or stalled)',
        errors = jsonb_path_query_array(
          j.errors || jsonb_build_array(jsonb_build_object(
            'attempt', j.attempts, 'at', now(),
            'message', 'Lease expired: worker ' || j.locked_by || ' stopped heartbeating (it crashed, was killed or stalled)')),
          v_keep),
        locked_by = NULL, locked_until = NULL, updated_at = now()
    WHERE j.id = ANY(v_ids) AND j.status = 'running'
      AND NOT (j.started_at IS NULL
               AND jsonb_array_length(jsonb_path_query_array(j.errors, '$[*] ? (@.unstarted == true)')) < p_refunds)
    RETURNING j.id, j.status, j.queue
  ), done AS (
    SELECT * FROM released UNION ALL SELECT * FROM charged
  ), wake AS (
    SELECT pg_notify(p_channel, q.queue) FROM (SELECT DISTINCT done.queue FROM done WHERE done.status <> 'dead') q
  )
  SELECT done.id, done.status FROM done WHERE (SELECT count(*) FROM wake) >= 0;
END
$$;

-- 5. uuid_v7() floors the clock to the millisecond, as Node's Date.now() and
--    the ids djps makes in Node do. Version 1 cast with ::bigint, which
--    rounds: an id made in the second half of a millisecond carried the next
--    one, and could sort after an id made later.
CREATE OR REPLACE FUNCTION uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
    set_bit(
      set_bit(
        overlay(uuid_send(gen_random_uuid())
          PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
          FROM 1 FOR 6),
        52, 1),
      53, 1),
    'hex')::uuid
$$;
