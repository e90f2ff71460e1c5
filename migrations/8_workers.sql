-- The workers that are running, one row each, so that operators (`djps
-- status`, `queue.workers()`, a dashboard) can see who is working which
-- queues, how busy each is, and when it was last heard from.
--
-- A worker inserts its row when it starts, updates `seen_at` and `running`
-- on its heartbeat timer (one small HOT update: no index covers those
-- columns), and deletes the row when it stops. A worker that died leaves its
-- row behind with a `seen_at` that no longer moves; the retention duty
-- deletes rows not seen for an hour.

CREATE TABLE workers (
  id          text        NOT NULL,
  host        text        NOT NULL,
  pid         integer     NOT NULL,
  -- null: every queue
  queues      text[],
  types       text[]      NOT NULL,
  concurrency integer     NOT NULL,
  -- handlers running at the last heartbeat
  running     integer     NOT NULL DEFAULT 0,
  started_at  timestamptz NOT NULL DEFAULT now(),
  seen_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT workers_pkey PRIMARY KEY (id)
) WITH (fillfactor = 50);

INSERT INTO schema_versions (version, breaking) VALUES (8, false);
