-- djps schema v1. Runs with search_path set to the djps schema (default "djps"),
-- so every name below lands there. The reasoning for each index is in docs/schema.md.

-- Time-ordered UUIDs (version 7 layout: 48 bits of Unix milliseconds, then random),
-- so new primary keys land at the right edge of the index. PostgreSQL 18 has
-- uuidv7() built in; this works from PostgreSQL 13 on.
CREATE FUNCTION uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
    set_bit(
      set_bit(
        overlay(uuid_send(gen_random_uuid())
          PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
          FROM 1 FOR 6),
        52, 1),
      53, 1),
    'hex')::uuid
$$;

CREATE TABLE jobs (
  id              uuid        NOT NULL DEFAULT uuid_v7(),
  queue           text        NOT NULL DEFAULT 'default',
  type            text        NOT NULL,
  payload         jsonb       NOT NULL DEFAULT 'null',
  status          text        NOT NULL DEFAULT 'queued',
  priority        integer     NOT NULL DEFAULT 0,
  run_at          timestamptz NOT NULL DEFAULT now(),
  attempts        integer     NOT NULL DEFAULT 0,
  max_attempts    integer     NOT NULL DEFAULT 3,
  timeout_ms      integer,
  idempotency_key text,
  locked_by       text,
  locked_until    timestamptz,
  last_error      text,
  errors          jsonb       NOT NULL DEFAULT '[]',
  result          jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  CONSTRAINT jobs_pkey PRIMARY KEY (id),
  CONSTRAINT jobs_status_check CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled', 'dead')),
  CONSTRAINT jobs_attempts_check CHECK (attempts >= 0),
  CONSTRAINT jobs_max_attempts_check CHECK (max_attempts >= 1),
  CONSTRAINT jobs_timeout_check CHECK (timeout_ms IS NULL OR timeout_ms > 0),
  CONSTRAINT jobs_lease_check CHECK (status <> 'running' OR (locked_by IS NOT NULL AND locked_until IS NOT NULL))
) WITH (
  -- Leave room on each page so lease extensions (which touch no indexed column)
  -- can be HOT updates.
  fillfactor = 80,
  -- Rows churn (queued -> running -> finished, then pruned): vacuum and analyse
  -- after a small fraction changes instead of the default 20%.
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_insert_scale_factor = 0.05,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_vacuum_cost_limit = 2000
);

-- The claim index: only claimable rows, in claim order. Its size follows the
-- backlog, not the history.
CREATE INDEX jobs_claim_idx ON jobs (priority DESC, run_at, id)
  WHERE status IN ('queued', 'failed');

-- Idempotency: the same (type, key) may exist once. Partial, so keyless jobs
-- cost the index nothing.
CREATE UNIQUE INDEX jobs_idempotency_idx ON jobs (type, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- The running rows: lease rescue walks this small index to find passed
-- deadlines. Keyed on id rather than locked_by: with locked_by every entry a
-- busy worker ever made shares one key, and a lookup by worker would wade
-- through all of its finished jobs' dead entries until vacuum removes them.
-- It leaves out locked_until, so extending a lease stays a HOT update.
CREATE INDEX jobs_running_idx ON jobs (id)
  WHERE status = 'running';

-- The claim, as a function so that it can carry planner settings. Until the
-- table is first analysed (autovacuum may take a minute after a bulk load) the
-- planner has no statistics and prefers a bitmap scan of every claimable row
-- plus a sort, which costs milliseconds per claim instead of microseconds.
-- With bitmap scans and sorts off, walking jobs_claim_idx in order and
-- stopping after the limit is the only cheap plan, whatever the statistics.
-- The MATERIALIZED CTE fences the selection: the planner cannot fold it into
-- the UPDATE and lock or update more rows than the limit.
CREATE FUNCTION job_claim(p_queues text[], p_types text[], p_limit integer, p_worker text, p_lease_ms double precision)
RETURNS SETOF jobs
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
SET search_path FROM CURRENT
AS $$
BEGIN
  RETURN QUERY
  WITH picked AS MATERIALIZED (
    SELECT id FROM jobs
    WHERE status IN ('queued', 'failed') AND run_at <= now()
      AND (p_queues IS NULL OR queue = ANY(p_queues))
      AND type = ANY(p_types)
    ORDER BY priority DESC, run_at, id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  )
  UPDATE jobs AS j
  SET status = 'running', attempts = j.attempts + 1, locked_by = p_worker,
      locked_until = now() + p_lease_ms * interval '1 millisecond',
      started_at = now(), updated_at = now()
  FROM picked
  WHERE j.id = picked.id
  RETURNING j.*;
END
$$;
