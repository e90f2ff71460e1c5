-- Flow control: cluster-wide concurrency and rate limits per queue.
--
-- A queue's limits live on its row in `queues`, next to `paused_at`, so they
-- change at run time and every worker's next claim sees them. A queue with no
-- limits (no row, or a row with both null) is claimed exactly as before: the
-- claim reads the small `queues` table once, as it did for paused queues, and
-- only when some queue is limited does it take the other path.
--
-- For each limited queue a worker serves, the claim locks that queue's row
-- (so claims of one limited queue take turns, in every worker of every
-- process), counts the queue's running jobs and its recent starts, and takes
-- at most what the limits leave. No coordinator: the row lock is the
-- coordination, and it lasts only as long as the claim's transaction.
--
-- * Concurrency: `running` jobs of the queue whose lease has not passed. A
--   dead worker's jobs stop counting when their lease passes, before the
--   rescuer moves them. Limited queues get no buffer: every job a claim takes
--   from them starts at once, so claimed means running.
-- * Rate: a sliding log. `rate_at` / `rate_n` hold, for each claim of the
--   last interval, when it took jobs (clock_timestamp() read under the row
--   lock, never earlier than the entry before it) and how many. A claim at
--   time t takes at most `rate_limit` minus the jobs of entries after
--   t - interval, so any window of the interval's length holds at most
--   `rate_limit` starts, as the jobs' `started_at` records them. The log
--   holds at most `rate_limit` entries (one per claim that took jobs within
--   the interval) and is pruned by every claim.
--
-- Completions, failures and snoozes of a limited queue's jobs NOTIFY that
-- queue on the jobs channel, so workers held back by its limits claim again
-- as soon as capacity frees rather than at their next poll. Room under a rate
-- comes back with time, not with an event: a claim that a rate held back
-- tells its worker when (the wait row of job_claim), and the worker sets a
-- timer.
--
-- docs/flow-control.md describes the guarantees and how limits meet pause,
-- priorities, retries, schedules, snoozes and the worker's buffer.

ALTER TABLE queues
  ADD COLUMN concurrency_limit integer,
  ADD COLUMN rate_limit        integer,
  ADD COLUMN rate_interval_ms  integer,
  ADD COLUMN rate_at           timestamptz[] NOT NULL DEFAULT '{}',
  ADD COLUMN rate_n            integer[]     NOT NULL DEFAULT '{}',
  ADD CONSTRAINT queues_concurrency_limit_check CHECK (concurrency_limit IS NULL OR concurrency_limit > 0),
  ADD CONSTRAINT queues_rate_check CHECK (
    (rate_limit IS NULL AND rate_interval_ms IS NULL) OR (rate_limit > 0 AND rate_interval_ms > 0));

-- How many jobs a limited queue may start now: what its concurrency limit
-- and rate limit leave, at most p_max. p_at is the time the rate is judged at.
-- Reads the queue's running jobs through jobs_running_idx (a walk of the
-- running jobs of the whole cluster, checking each one's queue).
CREATE FUNCTION queue_room(p_queue queues, p_at timestamptz, p_max integer)
RETURNS integer
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET jit = off
SET search_path FROM CURRENT
AS $$
DECLARE
  v_room integer := p_max;
  v_used integer;
BEGIN
  IF p_queue.concurrency_limit IS NOT NULL THEN
    SELECT count(*) INTO v_used FROM jobs
    WHERE status = 'running' AND queue = p_queue.name AND locked_until > now();
    v_room := least(v_room, p_queue.concurrency_limit - v_used);
  END IF;
  IF p_queue.rate_limit IS NOT NULL AND v_room > 0 THEN
    SELECT coalesce(sum(l.n), 0) INTO v_used
    FROM unnest(p_queue.rate_at, p_queue.rate_n) AS l(at, n)
    WHERE l.at > p_at - p_queue.rate_interval_ms * interval '1 millisecond';
    v_room := least(v_room, p_queue.rate_limit - v_used);
  END IF;
  RETURN greatest(v_room, 0);
END
$$;

-- When a rate-limited queue whose window is full (as of p_at) gets room for
-- one more start: when enough of its oldest entries have left the window.
-- Null when it has room now, or no rate limit.
CREATE FUNCTION queue_rate_free_at(p_queue queues, p_at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql
SET jit = off
SET search_path FROM CURRENT
AS $$
DECLARE
  v_window interval := p_queue.rate_interval_ms * interval '1 millisecond';
  v_excess integer;
  v_entry record;
BEGIN
  IF p_queue.rate_limit IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT coalesce(sum(l.n), 0) - p_queue.rate_limit + 1 INTO v_excess
  FROM unnest(p_queue.rate_at, p_queue.rate_n) AS l(at, n) WHERE l.at > p_at - v_window;
  IF v_excess <= 0 THEN
    RETURN NULL;
  END IF;
  -- The log is in time order: the oldest entries leave first.
  FOR v_entry IN SELECT l.at, l.n FROM unnest(p_queue.rate_at, p_queue.rate_n) AS l(at, n) WHERE l.at > p_at - v_window LOOP
    v_excess := v_excess - v_entry.n;
    IF v_excess <= 0 THEN
      RETURN v_entry.at + v_window;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;

-- Claims up to p_max jobs of one limited queue, all starting now, within its
-- limits. Returns the ids, the start time to record (the rate log's time for
-- a rate-limited queue, so that `started_at` is what the limit counted), and,
-- when its rate left it fewer than p_max, when the rate gives room again.
CREATE FUNCTION queue_claim_limited(p_queue text, p_types text[], p_max integer,
                                    OUT ids uuid[], OUT started timestamptz, OUT rate_free_at timestamptz)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET jit = off
SET search_path FROM CURRENT
AS $$
DECLARE
  v_q queues;
  v_room integer;
BEGIN
  ids := '{}';
  started := now();
  -- A look without the lock first: a queue at its limit (the usual state of
  -- a limited queue with a backlog) is passed over without waiting behind
  -- other workers' claims. Capacity that frees after this look is announced
  -- by a NOTIFY, which brings this worker back.
  SELECT * INTO v_q FROM queues WHERE name = p_queue;
  IF NOT FOUND OR v_q.paused_at IS NOT NULL THEN
    RETURN;
  END IF;
  IF queue_room(v_q, clock_timestamp(), p_max) <= 0 THEN
    rate_free_at := queue_rate_free_at(v_q, clock_timestamp());
    RETURN;
  END IF;
  -- The row lock: claims of this queue take turns from here to their commit.
  -- Each statement below takes a fresh snapshot, so it sees every claim
  -- committed before the lock was granted.
  SELECT * INTO v_q FROM queues WHERE name = p_queue FOR UPDATE;
  IF NOT FOUND OR v_q.paused_at IS NOT NULL THEN
    RETURN;
  END IF;
  -- Never earlier than the newest entry: the log stays ordered even if the
  -- server's clock steps back.
  started := greatest(clock_timestamp(), v_q.rate_at[cardinality(v_q.rate_at)]);
  v_room := queue_room(v_q, started, p_max);
  IF v_room <= 0 THEN
    rate_free_at := queue_rate_free_at(v_q, started);
    RETURN;
  END IF;
  ids := ARRAY(
    SELECT id FROM jobs
    WHERE status IN ('queued', 'failed') AND run_at <= now()
      AND queue = p_queue
      AND type = ANY(p_types)
    ORDER BY priority DESC, run_at, id
    LIMIT v_room
    FOR UPDATE SKIP LOCKED);
  IF v_q.rate_limit IS NOT NULL AND cardinality(ids) > 0 THEN
    UPDATE queues AS q
    SET rate_at = ARRAY(SELECT l.at FROM unnest(v_q.rate_at, v_q.rate_n) WITH ORDINALITY AS l(at, n, i)
                        WHERE l.at > started - v_q.rate_interval_ms * interval '1 millisecond' ORDER BY l.i) || started,
        rate_n  = ARRAY(SELECT l.n FROM unnest(v_q.rate_at, v_q.rate_n) WITH ORDINALITY AS l(at, n, i)
                        WHERE l.at > started - v_q.rate_interval_ms * interval '1 millisecond' ORDER BY l.i) || cardinality(ids)
    WHERE q.name = p_queue
    RETURNING * INTO v_q;
    IF cardinality(ids) < p_max THEN
      rate_free_at := queue_rate_free_at(v_q, started);
    END IF;
  END IF;
END
$$;

-- The claim, now within the queues' limits. Without a limited queue it is the
-- claim of schema 5, statement for statement. With one, the free slots
-- (p_start) go first to the limited queues this worker serves, in name
-- order, each taking at most what its limits leave; those jobs all start at
-- once (no buffer for limited queues). The remaining slots and the buffer are
-- filled from the other queues in claim order, as before.
--
-- With p_wait, a claim that a rate limit left with free slots also returns
-- one row that is not a job: every column null except `timeout_ms`, the
-- milliseconds until the first such queue has room again. Nothing notifies
-- when a rate window moves on, so the worker sets a timer by it.
CREATE FUNCTION job_claim(p_queues text[], p_types text[], p_limit integer, p_start integer,
                          p_worker text, p_lease_ms double precision, p_hold_ms double precision, p_wait boolean)
RETURNS SETOF jobs
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET jit = off
SET search_path FROM CURRENT
AS $$
DECLARE
  v_paused text[];
  v_limited text[];
  v_ids uuid[] := '{}';
  v_started timestamptz[] := '{}';
  v_budget integer := least(p_start, p_limit);
  v_queue text;
  v_take record;
  v_walk boolean := true;
  v_free_at timestamptz;
  v_hint jobs;
BEGIN
  SELECT coalesce(array_agg(name) FILTER (WHERE paused_at IS NOT NULL), '{}'),
         coalesce(array_agg(name ORDER BY name) FILTER (WHERE paused_at IS NULL), '{}')
    INTO v_paused, v_limited
  FROM queues
  WHERE paused_at IS NOT NULL OR concurrency_limit IS NOT NULL OR rate_limit IS NOT NULL;
  IF cardinality(v_limited) > 0 THEN
    FOREACH v_queue IN ARRAY v_limited LOOP
      EXIT WHEN v_budget <= 0;
      CONTINUE WHEN p_queues IS NOT NULL AND v_queue <> ALL(p_queues);
      SELECT * INTO v_take FROM queue_claim_limited(v_queue, p_types, v_budget);
      v_ids := v_ids || v_take.ids;
      v_started := v_started || array_fill(v_take.started, ARRAY[cardinality(v_take.ids)]);
      v_budget := v_budget - cardinality(v_take.ids);
      v_free_at := least(v_free_at, v_take.rate_free_at);
    END LOOP;
    -- Limited queues are never claimed by the walk below.
    v_paused := v_paused || v_limited;
    -- A worker that serves only limited (or paused) queues has nothing more
    -- to find, and the walk would visit their whole backlog to learn that:
    -- the claim index does not carry the queue.
    IF p_queues IS NOT NULL AND p_queues <@ v_paused THEN
      v_walk := false;
    END IF;
  END IF;
  -- The next ids in claim order, locked; ARRAY() keeps that order. With the
  -- limited queues' jobs first, the first p_start ids start at once.
  IF v_walk THEN
    v_ids := v_ids || ARRAY(
      SELECT id FROM jobs
      WHERE status IN ('queued', 'failed') AND run_at <= now()
        AND (p_queues IS NULL OR queue = ANY(p_queues))
        AND queue <> ALL(v_paused)
        AND type = ANY(p_types)
      ORDER BY priority DESC, run_at, id
      LIMIT p_limit - cardinality(v_ids)
      FOR UPDATE SKIP LOCKED);
  END IF;
  IF p_wait AND v_free_at IS NOT NULL THEN
    v_hint.timeout_ms := greatest(1, ceil(extract(epoch FROM v_free_at - clock_timestamp()) * 1000))::integer;
    RETURN NEXT v_hint;
  END IF;
  RETURN QUERY
  UPDATE jobs AS j
  SET status = 'running', attempts = j.attempts + 1, locked_by = p_worker,
      locked_until = now() + (CASE WHEN u.n <= p_start THEN p_lease_ms ELSE p_hold_ms END) * interval '1 millisecond',
      started_at = CASE WHEN u.n <= p_start THEN coalesce(v_started[u.n], now()) END,
      updated_at = now()
  FROM unnest(v_ids) WITH ORDINALITY AS u(id, n)
  WHERE j.id = ANY(v_ids) AND j.id = u.id
  RETURNING j.*;
END
$$;

-- The claim of schema 5 and 6 workers keeps its signature and is now the
-- claim above without the wait row, so those workers honour limits too.
CREATE OR REPLACE FUNCTION job_claim(p_queues text[], p_types text[], p_limit integer, p_start integer,
                                     p_worker text, p_lease_ms double precision, p_hold_ms double precision)
RETURNS SETOF jobs
LANGUAGE sql
SET jit = off
SET search_path FROM CURRENT
AS $$
  SELECT * FROM job_claim(p_queues, p_types, p_limit, p_start, p_worker, p_lease_ms, p_hold_ms, false)
$$;

-- The claim of workers older than schema 5 keeps its signature and now
-- passes through the claim above (every job it takes starts at once, as
-- those workers expect), so it cannot claim past a limit either.
CREATE OR REPLACE FUNCTION job_claim(p_queues text[], p_types text[], p_limit integer, p_worker text, p_lease_ms double precision)
RETURNS SETOF jobs
LANGUAGE sql
SET jit = off
SET search_path FROM CURRENT
AS $$
  SELECT * FROM job_claim(p_queues, p_types, p_limit, p_limit, p_worker, p_lease_ms, p_lease_ms, false)
$$;

-- Outcomes of a limited queue's jobs wake the workers it held back: one
-- NOTIFY per limited queue per batch, on the jobs channel (src/schema-name.ts
-- names it `djps:<schema>:jobs`). Queues without limits have no row to match,
-- and their outcomes notify nothing, as before.
CREATE OR REPLACE FUNCTION job_complete(p_ids uuid[], p_attempts integer[], p_results text[], p_worker text)
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
    SET status = 'succeeded', result = u.result::jsonb, locked_by = NULL, locked_until = NULL,
        started_at = coalesce(j.started_at, now()), finished_at = now(), updated_at = now()
    FROM unnest(p_ids, p_attempts, p_results) AS u(id, attempt, result)
    WHERE j.id = ANY(p_ids) AND j.id = u.id
      AND j.status = 'running' AND j.locked_by = p_worker AND j.attempts = u.attempt
    RETURNING j.id, j.queue
  ), wake AS (
    SELECT pg_notify('djps:' || current_schema() || ':jobs', q.name) FROM queues AS q
    WHERE q.name IN (SELECT done.queue FROM done) AND q.paused_at IS NULL
      AND (q.concurrency_limit IS NOT NULL OR q.rate_limit IS NOT NULL)
  )
  SELECT done.id FROM done WHERE (SELECT count(*) FROM wake) >= 0;
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
SET jit = off
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
  v_keep jsonpath := ('$[last-' || (p_history - 1) || ' to last]')::jsonpath;
BEGIN
  RETURN QUERY
  WITH done AS (
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
    RETURNING j.id, j.status, j.run_at, j.queue
  ), wake AS (
    SELECT pg_notify('djps:' || current_schema() || ':jobs', q.name) FROM queues AS q
    WHERE q.name IN (SELECT done.queue FROM done) AND q.paused_at IS NULL
      AND (q.concurrency_limit IS NOT NULL OR q.rate_limit IS NOT NULL)
  )
  SELECT done.id, done.status, done.run_at FROM done WHERE (SELECT count(*) FROM wake) >= 0;
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
SET jit = off
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
    -- Due again now, or a limited queue with a slot free.
    SELECT pg_notify(p_channel, w.queue) FROM (
      SELECT upd.queue FROM upd WHERE p_channel IS NOT NULL AND upd.run_at <= now()
      UNION
      SELECT q.name FROM queues AS q
      WHERE p_channel IS NOT NULL AND q.name IN (SELECT upd.queue FROM upd) AND q.paused_at IS NULL
        AND (q.concurrency_limit IS NOT NULL OR q.rate_limit IS NOT NULL)
    ) AS w
  )
  SELECT upd.id, upd.run_at FROM upd WHERE (SELECT count(*) FROM wake) >= 0;
END
$$;

-- Workers of version 6 keep working against this schema: their claim passes
-- through the one above, which gives limited queues no buffer.
INSERT INTO schema_versions (version, breaking) VALUES (11, false);
