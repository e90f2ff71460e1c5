-- Recurring jobs: one row per schedule, so that every worker agrees on them.
-- Each worker's scheduler reads this small table, works out the due ticks of
-- each cron expression, and enqueues one job per tick with the idempotency key
-- `schedule:<name>:<tick>`: two workers racing on the same tick make one job.
CREATE TABLE schedules (
  name         text        NOT NULL,
  cron         text        NOT NULL,
  time_zone    text        NOT NULL DEFAULT 'UTC',
  type         text        NOT NULL,
  payload      jsonb       NOT NULL DEFAULT 'null',
  queue        text        NOT NULL DEFAULT 'default',
  priority     integer     NOT NULL DEFAULT 0,
  max_attempts integer     NOT NULL DEFAULT 3,
  timeout_ms   integer,
  -- Ticks missed while no worker ran are enqueued if they are at most this old.
  backfill_ms  bigint      NOT NULL DEFAULT 0,
  -- The newest tick enqueued; ticks at or before it are never enqueued again.
  last_tick    timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Ticks before the last change of the schedule are never enqueued.
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedules_pkey PRIMARY KEY (name),
  CONSTRAINT schedules_max_attempts_check CHECK (max_attempts >= 1),
  CONSTRAINT schedules_backfill_check CHECK (backfill_ms >= 0)
);
