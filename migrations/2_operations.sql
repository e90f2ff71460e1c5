-- Operations: queue pause, the trace context a job carries from its producer,
-- and an index for the dead-letter tools.

-- Per-queue state that every worker must agree on. A queue needs a row only
-- once it has been paused; a queue without one is running.
CREATE TABLE queues (
  name       text        NOT NULL,
  paused_at  timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT queues_pkey PRIMARY KEY (name)
);

-- The W3C trace context (traceparent, tracestate) of the span that enqueued
-- the job, so the execution span can link to the producer's trace. Null when
-- the producer had no active span.
ALTER TABLE jobs ADD COLUMN trace_context jsonb;

-- Dead jobs, newest first, for the dead-letter tools. Partial: a job costs
-- this index an entry only if it dies, so the hot path never touches it.
CREATE INDEX jobs_dead_idx ON jobs (id)
  WHERE status = 'dead';

-- The claim, now skipping paused queues. The paused list is read once per
-- call from a table of a handful of rows. A paused queue's jobs stay in the
-- claim index, so claims walk past them (see docs/schema.md).
CREATE OR REPLACE FUNCTION job_claim(p_queues text[], p_types text[], p_limit integer, p_worker text, p_lease_ms double precision)
RETURNS SETOF jobs
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
SET search_path FROM CURRENT
AS $$
DECLARE
  v_paused text[];
BEGIN
  SELECT coalesce(array_agg(name), '{}') INTO v_paused FROM queues WHERE paused_at IS NOT NULL;
  RETURN QUERY
  WITH picked AS MATERIALIZED (
    SELECT id FROM jobs
    WHERE status IN ('queued', 'failed') AND run_at <= now()
      AND (p_queues IS NULL OR queue = ANY(p_queues))
      AND queue <> ALL(v_paused)
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
