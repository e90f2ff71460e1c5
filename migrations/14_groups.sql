-- Groups: a job may carry a group key (a tenant, an account, a
-- conversation). Claims are fair across the groups of a queue, and a queue
-- may limit how many jobs of each group run at once (1: one at a time, in
-- order). docs/flow-control.md, "Groups", describes the guarantees.
--
-- Grouped jobs leave the claim index: the walk of the plain claim never sees
-- them, so a group's backlog of any size costs the other queues' claims
-- nothing. They are claimed through an index of their own, by queue and
-- group, one group after another from where the queue's previous claim
-- stopped (round robin), under the queue's row lock.
--
-- A group slot is held from a job's start until it is finished: `running`
-- (lease passed or not: a dead worker's job is the group's next job once the
-- rescuer returns it) and `failed` (waiting for its retry). So with a limit
-- of 1 the next job of a group starts only after the previous one succeeded,
-- went dead or was canceled; a failing job keeps its group waiting through
-- its retries. Jobs that are delayed or snoozed are not in line until they
-- are due.

ALTER TABLE jobs
  ADD COLUMN group_key text COLLATE "C",
  ADD CONSTRAINT jobs_group_key_check CHECK (group_key IS NULL OR length(group_key) BETWEEN 1 AND 256);

-- A schedule's jobs may carry a group too.
ALTER TABLE schedules
  ADD COLUMN group_key text COLLATE "C",
  ADD CONSTRAINT schedules_group_key_check CHECK (group_key IS NULL OR length(group_key) BETWEEN 1 AND 256);

ALTER TABLE queues
  ADD COLUMN group_concurrency integer,
  -- The last group the queue's previous claim visited: the next one starts after it.
  ADD COLUMN group_cursor text COLLATE "C",
  ADD CONSTRAINT queues_group_concurrency_check CHECK (group_concurrency IS NULL OR group_concurrency > 0);

-- The claim index without grouped jobs. Built before the old one is dropped
-- so that the claim always has an index; a table of a million queued jobs
-- takes a few seconds, during which writes to jobs wait.
CREATE INDEX jobs_claim_ungrouped_idx ON jobs (priority DESC, run_at, id)
  WHERE status IN ('queued', 'failed') AND group_key IS NULL;
DROP INDEX jobs_claim_idx;
ALTER INDEX jobs_claim_ungrouped_idx RENAME TO jobs_claim_idx;

-- Grouped jobs not finished: per queue, per group, per status, in claim
-- order. Gives the groups of a queue in key order (a skip scan: one probe per
-- group), a group's held slots (running and failed), and its next jobs.
-- Jobs without a group are not in it.
CREATE INDEX jobs_group_idx ON jobs (queue, group_key, status, priority DESC, run_at, id)
  WHERE group_key IS NOT NULL AND status IN ('queued', 'failed', 'running');

-- A grouped job that gives up its slot (finished, canceled, snoozed,
-- released) wakes the workers of its queue: a job of its group may start.
-- Notifications of one transaction with the same payload fold into one.
CREATE FUNCTION job_group_freed() RETURNS trigger
LANGUAGE plpgsql
SET jit = off
SET search_path FROM CURRENT
AS $$
BEGIN
  PERFORM pg_notify('djps:' || current_schema() || ':jobs', NEW.queue);
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_group_freed AFTER UPDATE ON jobs
  FOR EACH ROW
  WHEN (OLD.group_key IS NOT NULL AND OLD.status IN ('running', 'failed') AND NEW.status NOT IN ('running', 'failed'))
  EXECUTE FUNCTION job_group_freed();

-- Claims up to p_room jobs from the groups of a queue whose row the caller
-- holds locked, visiting groups in key order from the one after the queue's
-- cursor, wrapping around once. Each visit takes the group's jobs that may
-- start: its failed jobs that are due (they hold their slots already), then
-- its next due queued jobs, as many as its free slots allow (all, without a
-- group limit), at most `v_share` per visit. A group's jobs are taken in
-- claim order and only as a prefix: when the next one is of a type this
-- worker does not handle, or locked by another transaction, none after it is
-- taken either, so no job overtakes an earlier one of its group.
--
-- The first pass takes one job per group, so a claim serves as many groups
-- as it can before it serves any group twice; further passes share the room
-- left among the groups that had more. The cursor moves to the last group a
-- job was taken from, so the next claim starts with the group after it.
CREATE FUNCTION queue_claim_groups(p_queue queues, p_types text[], p_room integer)
RETURNS uuid[]
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
  v_ids uuid[] := '{}';
  v_room integer := p_room;
  v_start text := coalesce(p_queue.group_cursor, '');
  v_last text;
  v_key text;
  v_group text;
  v_wrapped boolean;
  v_share integer := 1;
  v_more integer;
  v_pass integer := 0;
  v_free integer;
  v_want integer;
  v_cand record;
  v_groups text[] := '{}';
  v_states text[] := '{}';
  v_take uuid[];
  v_extra boolean;
  -- Groups one claim may visit: when most groups have no free slot (their
  -- jobs failed and wait for retries, say), a claim stops after this many
  -- and the next one goes on from there, so no claim walks every group.
  v_visits integer := 0;
  v_max_visits integer := greatest(8 * p_room, 256);
  v_bounded boolean := false;
BEGIN
  WHILE v_room > 0 AND v_pass < 3 AND NOT v_bounded LOOP
    v_pass := v_pass + 1;
    v_more := 0;
    v_key := v_start;
    v_wrapped := v_start = '';
    LOOP
      EXIT WHEN v_room <= 0;
      SELECT j.group_key INTO v_group FROM jobs AS j
      WHERE j.queue = p_queue.name AND j.group_key IS NOT NULL AND j.group_key > v_key
        AND j.status IN ('queued', 'failed')
      ORDER BY j.group_key LIMIT 1;
      IF NOT FOUND OR (v_wrapped AND v_start <> '' AND v_group > v_start) THEN
        EXIT WHEN v_wrapped;
        v_wrapped := true;
        v_key := '';
        CONTINUE;
      END IF;
      v_visits := v_visits + 1;
      IF v_visits > v_max_visits THEN
        v_bounded := true;
        EXIT;
      END IF;
      v_key := v_group;
      -- Free slots: a held slot is a running or failed job of the group.
      IF p_queue.group_concurrency IS NULL THEN
        v_free := v_room;
      ELSE
        SELECT p_queue.group_concurrency - count(*) INTO v_free FROM jobs AS j
        WHERE j.queue = p_queue.name AND j.group_key = v_group AND j.status IN ('running', 'failed');
      END IF;
      IF v_pass > 1 AND p_queue.group_concurrency IS NOT NULL THEN
        -- Jobs this claim took already are still queued or failed until the
        -- claim's UPDATE: they count here, and are not candidates again.
        SELECT v_free - count(*) FILTER (WHERE t.status = 'queued') INTO v_free
        FROM unnest(v_groups, v_states) AS t(g, status) WHERE t.g = v_group;
      END IF;
      v_want := least(v_share, v_room);
      v_take := '{}';
      v_extra := false;
      -- Candidates in order: due failed jobs (holding their slots), then due
      -- queued jobs up to the free slots; one more than wanted, to learn
      -- whether the group has more.
      FOR v_cand IN
        SELECT c.id, c.type, c.status FROM (
          (SELECT f.id, f.type, f.status, 0 AS rank, f.priority, f.run_at FROM jobs AS f
           WHERE f.queue = p_queue.name AND f.group_key = v_group AND f.status = 'failed' AND f.run_at <= now()
             AND f.id <> ALL(v_ids)
           ORDER BY f.priority DESC, f.run_at, f.id LIMIT v_want + 1)
          UNION ALL
          (SELECT q.id, q.type, q.status, 1 AS rank, q.priority, q.run_at FROM jobs AS q
           WHERE q.queue = p_queue.name AND q.group_key = v_group AND q.status = 'queued' AND q.run_at <= now()
             AND q.id <> ALL(v_ids)
           ORDER BY q.priority DESC, q.run_at, q.id LIMIT greatest(least(v_free, v_want + 1), 0))
        ) AS c
        ORDER BY c.rank, c.priority DESC, c.run_at, c.id
      LOOP
        IF cardinality(v_take) >= v_want THEN
          v_extra := true;
          EXIT;
        END IF;
        EXIT WHEN v_cand.type <> ALL(p_types);
        -- Locked by another transaction (a cancel, a retry): the group waits.
        PERFORM 1 FROM jobs AS j
        WHERE j.id = v_cand.id AND j.status = v_cand.status AND j.run_at <= now()
        FOR UPDATE SKIP LOCKED;
        EXIT WHEN NOT FOUND;
        v_take := v_take || v_cand.id;
        v_groups := v_groups || v_group;
        v_states := v_states || v_cand.status;
      END LOOP;
      IF cardinality(v_take) > 0 THEN
        v_ids := v_ids || v_take;
        v_room := v_room - cardinality(v_take);
        v_last := v_group;
      END IF;
      IF v_extra THEN
        v_more := v_more + 1;
      END IF;
    END LOOP;
    EXIT WHEN v_more = 0;
    v_share := ceil(v_room::numeric / v_more)::integer;
    v_start := coalesce(v_last, v_start);
  END LOOP;
  -- Stopped by the bound: the next claim starts after the last group visited.
  IF v_bounded THEN
    v_last := v_key;
  END IF;
  IF v_last IS NOT NULL AND v_last IS DISTINCT FROM p_queue.group_cursor THEN
    UPDATE queues SET group_cursor = v_last WHERE name = p_queue.name;
  END IF;
  RETURN v_ids;
END
$$;

-- Claims up to p_max jobs of one queue that has limits or grouped jobs, all
-- starting now, within its limits: as in 11_limits.sql, and now through its
-- groups (queue_claim_groups) first, then, for a limited queue, its jobs
-- without a group. A queue with grouped jobs and no row yet gets one (the
-- cursor lives there). Returns the ids, the start time to record, and when
-- its rate gives room again if it left fewer than p_max.
CREATE OR REPLACE FUNCTION queue_claim_limited(p_queue text, p_types text[], p_max integer,
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
  v_limited boolean;
BEGIN
  ids := '{}';
  started := now();
  -- A look without the lock first: a queue at its limit (the usual state of
  -- a limited queue with a backlog) is passed over without waiting behind
  -- other workers' claims. Capacity that frees after this look is announced
  -- by a NOTIFY, which brings this worker back.
  SELECT * INTO v_q FROM queues WHERE name = p_queue;
  IF NOT FOUND THEN
    INSERT INTO queues (name) VALUES (p_queue) ON CONFLICT (name) DO NOTHING;
  ELSIF v_q.paused_at IS NOT NULL THEN
    RETURN;
  ELSIF queue_room(v_q, clock_timestamp(), p_max) <= 0 THEN
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
  ids := queue_claim_groups(v_q, p_types, v_room);
  -- The jobs without a group of a limited queue; those of a queue limited
  -- in nothing come from the walk of job_claim.
  v_limited := v_q.concurrency_limit IS NOT NULL OR v_q.rate_limit IS NOT NULL OR v_q.group_concurrency IS NOT NULL;
  IF v_limited AND cardinality(ids) < v_room THEN
    ids := ids || ARRAY(
      SELECT id FROM jobs
      WHERE status IN ('queued', 'failed') AND run_at <= now() AND group_key IS NULL
        AND queue = p_queue
        AND type = ANY(p_types)
      ORDER BY priority DESC, run_at, id
      LIMIT v_room - cardinality(ids)
      FOR UPDATE SKIP LOCKED);
  END IF;
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

-- The claim, now with groups. Limited queues and queues with grouped jobs
-- waiting (one probe of jobs_group_idx per queue the worker serves, or a
-- skip scan of it for a worker of every queue) are claimed first, in name
-- order, for free slots only; then the walk of the claim index, which holds
-- no grouped job, fills the remaining slots and the buffer as before.
CREATE OR REPLACE FUNCTION job_claim(p_queues text[], p_types text[], p_limit integer, p_start integer,
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
  v_grouped text[];
  v_special text[];
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
         coalesce(array_agg(name) FILTER (WHERE paused_at IS NULL), '{}')
    INTO v_paused, v_limited
  FROM queues
  WHERE paused_at IS NOT NULL OR concurrency_limit IS NOT NULL OR rate_limit IS NOT NULL OR group_concurrency IS NOT NULL;
  IF p_queues IS NULL THEN
    v_grouped := ARRAY(
      WITH RECURSIVE g(queue) AS (
        (SELECT j.queue FROM jobs AS j
         WHERE j.group_key IS NOT NULL AND j.status IN ('queued', 'failed', 'running')
         ORDER BY j.queue LIMIT 1)
        UNION ALL
        SELECT (SELECT j.queue FROM jobs AS j
                WHERE j.group_key IS NOT NULL AND j.status IN ('queued', 'failed', 'running') AND j.queue > g.queue
                ORDER BY j.queue LIMIT 1)
        FROM g WHERE g.queue IS NOT NULL)
      SELECT g.queue FROM g WHERE g.queue IS NOT NULL);
  ELSE
    -- A correlated subquery with LIMIT 1, not EXISTS: the planner would turn
    -- EXISTS into a join that reads the whole index instead of one probe.
    v_grouped := ARRAY(
      SELECT q.name FROM unnest(p_queues) AS q(name)
      WHERE (SELECT true FROM jobs AS j
             WHERE j.queue = q.name AND j.group_key IS NOT NULL AND j.status IN ('queued', 'failed', 'running')
             LIMIT 1));
  END IF;
  IF cardinality(v_limited) > 0 OR cardinality(v_grouped) > 0 THEN
    v_special := ARRAY(SELECT DISTINCT s.name COLLATE "C" FROM unnest(v_limited || v_grouped) AS s(name)
                       WHERE s.name <> ALL(v_paused) AND (p_queues IS NULL OR s.name = ANY(p_queues))
                       ORDER BY 1);
    FOREACH v_queue IN ARRAY v_special LOOP
      EXIT WHEN v_budget <= 0;
      SELECT * INTO v_take FROM queue_claim_limited(v_queue, p_types, v_budget);
      v_ids := v_ids || v_take.ids;
      v_started := v_started || array_fill(v_take.started, ARRAY[cardinality(v_take.ids)]);
      v_budget := v_budget - cardinality(v_take.ids);
      v_free_at := least(v_free_at, v_take.rate_free_at);
    END LOOP;
  END IF;
  IF cardinality(v_limited) > 0 THEN
    -- Limited queues are never claimed by the walk below.
    v_paused := v_paused || v_limited;
  END IF;
  -- A worker that serves only limited (or paused) queues has nothing more
  -- to find, and the walk would visit their whole backlog to learn that:
  -- the claim index does not carry the queue.
  IF p_queues IS NOT NULL AND p_queues <@ v_paused THEN
    v_walk := false;
  END IF;
  -- The next ids in claim order, locked; ARRAY() keeps that order. With the
  -- limited queues' jobs first, the first p_start ids start at once.
  IF v_walk THEN
    v_ids := v_ids || ARRAY(
      SELECT id FROM jobs
      WHERE status IN ('queued', 'failed') AND run_at <= now() AND group_key IS NULL
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

-- A grouped job released without a delay (a worker's shutdown cut its
-- handler off, or the handler snoozed for 0 ms) keeps its run_at, and with
-- it its place in its group's line: otherwise the jobs behind it would start
-- first. A snooze with a delay moves it, as for any job.
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
    SET status = 'queued',
        run_at = CASE WHEN j.group_key IS NOT NULL AND u.delay_ms <= 0 THEN least(j.run_at, now())
                      ELSE now() + u.delay_ms * interval '1 millisecond' END,
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

-- enqueue() takes a `group` option (a string of 1 to 256 characters), as
-- queue.enqueue() does.
CREATE OR REPLACE FUNCTION enqueue(p_type text, p_payload jsonb DEFAULT 'null', p_options jsonb DEFAULT '{}')
RETURNS TABLE (id uuid, created boolean)
LANGUAGE plpgsql
SET search_path FROM CURRENT
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
  v_name_re constant text := '^[A-Za-z0-9_.:/-]{1,128}$';
  v_name_text constant text := 'a name of 1 to 128 characters from letters, digits and `_ . : - /`';
  v_payload jsonb := coalesce(p_payload, 'null'::jsonb);
  v_options jsonb := coalesce(p_options, '{}'::jsonb);
  v_key text;
  v_group text;
  v_queue text := 'default';
  v_priority integer := 0;
  v_max_attempts integer := 3;
  v_timeout_ms integer;
  v_delay_ms double precision;
  v_run_at timestamptz;
  v_id uuid;
  v_created boolean;
  v_job_queue text;
  v_job_run_at timestamptz;
BEGIN
  IF p_type IS NULL OR p_type !~ v_name_re THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('Expected `type` to be %s, got %s', v_name_text, coalesce(quote_literal(left(p_type, 200)), 'NULL'));
  END IF;
  IF octet_length(v_payload::text) > 1048576 THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('Expected `payload` to be at most 1048576 bytes of JSON, got %s', octet_length(v_payload::text));
  END IF;
  IF jsonb_typeof(v_options) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('Expected `options` to be a JSON object, got %s', jsonb_typeof(v_options));
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_object_keys(v_options) AS k(name)
             WHERE k.name NOT IN ('queue', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'timeoutMs', 'idempotencyKey', 'group')) THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('Expected `options` to hold only queue, priority, runAt, delayMs, maxAttempts, timeoutMs, idempotencyKey and group, got %s',
        (SELECT string_agg(format('`%s`', k.name), ', ') FROM jsonb_object_keys(v_options) AS k(name)
         WHERE k.name NOT IN ('queue', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'timeoutMs', 'idempotencyKey', 'group')));
  END IF;

  IF v_options ? 'queue' THEN
    IF jsonb_typeof(v_options->'queue') <> 'string' OR (v_options->>'queue') !~ v_name_re THEN
      RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
        MESSAGE = format('Expected `options.queue` to be %s, got %s', v_name_text, left((v_options->'queue')::text, 200));
    END IF;
    v_queue := v_options->>'queue';
  END IF;
  v_priority := coalesce(enqueue_option_int(v_options, 'priority', -32768, 32767), 0);
  v_max_attempts := coalesce(enqueue_option_int(v_options, 'maxAttempts', 1, 1000), 3);
  v_timeout_ms := enqueue_option_int(v_options, 'timeoutMs', 1, 2147483647);
  v_delay_ms := enqueue_option_int(v_options, 'delayMs', 0, 315360000000);
  IF v_options ? 'runAt' THEN
    IF v_options ? 'delayMs' THEN
      RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
        MESSAGE = 'Expected `options.runAt` to be given only when `delayMs` is not (pass one of `delayMs` and `runAt`)';
    END IF;
    BEGIN
      IF jsonb_typeof(v_options->'runAt') <> 'string' THEN
        RAISE invalid_datetime_format;
      END IF;
      v_run_at := (v_options->>'runAt')::timestamptz;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation THEN
      RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
        MESSAGE = format('Expected `options.runAt` to be a timestamp (an ISO 8601 string), got %s', left((v_options->'runAt')::text, 200));
    END;
  END IF;
  IF v_options ? 'idempotencyKey' THEN
    IF jsonb_typeof(v_options->'idempotencyKey') <> 'string' OR length(v_options->>'idempotencyKey') NOT BETWEEN 1 AND 512 THEN
      RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
        MESSAGE = format('Expected `options.idempotencyKey` to be a string of 1 to 512 characters, got %s', left((v_options->'idempotencyKey')::text, 200));
    END IF;
    v_key := v_options->>'idempotencyKey';
  END IF;

  IF v_options ? 'group' THEN
    IF jsonb_typeof(v_options->'group') <> 'string' OR length(v_options->>'group') NOT BETWEEN 1 AND 256 THEN
      RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
        MESSAGE = format('Expected `options.group` to be a string of 1 to 256 characters, got %s', left((v_options->'group')::text, 200));
    END IF;
    v_group := v_options->>'group';
  END IF;

  -- A grouped job's run_at is the clock's time, not the transaction's: jobs
  -- of one group enqueued by several statements of one transaction then
  -- keep their order (claim order is priority, run_at, id).
  INSERT INTO jobs AS j (queue, type, payload, priority, run_at, max_attempts, timeout_ms, idempotency_key, group_key)
  VALUES (v_queue, p_type, v_payload, v_priority,
          coalesce(v_run_at, CASE WHEN v_group IS NULL THEN now() ELSE clock_timestamp() END
                             + make_interval(secs => coalesce(v_delay_ms, 0) / 1000)),
          v_max_attempts, v_timeout_ms, v_key, v_group)
  -- The no-op update makes the existing row come back even when another
  -- transaction committed it after this statement's snapshot.
  ON CONFLICT (type, idempotency_key) WHERE idempotency_key IS NOT NULL
    DO UPDATE SET type = EXCLUDED.type
  RETURNING j.id, (j.xmax = 0), j.queue, j.run_at INTO v_id, v_created, v_job_queue, v_job_run_at;

  IF v_created AND v_job_run_at <= clock_timestamp() THEN
    PERFORM pg_notify('djps:' || current_schema() || ':jobs', v_job_queue);
  END IF;
  id := v_id;
  created := v_created;
  RETURN NEXT;
END
$$;

INSERT INTO schema_versions (version, breaking) VALUES (14, false);
