-- enqueue(type, payload, options): adding a job from SQL, for triggers,
-- migrations, psql and services that speak SQL but not JavaScript.
--
--   SELECT * FROM djps.enqueue('send_email', '{"to": "a@example.com"}',
--                              '{"queue": "emails", "delayMs": 60000, "idempotencyKey": "welcome:42"}');
--
-- Options are spelled as in the library (queue, priority, runAt, delayMs,
-- maxAttempts, timeoutMs, idempotencyKey) and checked by the same rules; a
-- bad one raises SQLSTATE 22023 (invalid_parameter_value) with a message
-- that names it, as the library's ValidationError does. The same (type,
-- idempotencyKey) returns the first job with created = false. A job that can
-- run now wakes the queue's workers with one NOTIFY, delivered on commit
-- (PostgreSQL folds identical notifications of one transaction into one, so
-- a trigger on a bulk insert sends one per queue).
--
-- What only the library can check is not checked here: payload schemas
-- registered with zod, and a Queue's own maxPayloadBytes (the default of
-- 1 MiB applies).

CREATE FUNCTION enqueue(p_type text, p_payload jsonb DEFAULT 'null', p_options jsonb DEFAULT '{}')
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
             WHERE k.name NOT IN ('queue', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'timeoutMs', 'idempotencyKey')) THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('Expected `options` to hold only queue, priority, runAt, delayMs, maxAttempts, timeoutMs and idempotencyKey, got %s',
        (SELECT string_agg(format('`%s`', k.name), ', ') FROM jsonb_object_keys(v_options) AS k(name)
         WHERE k.name NOT IN ('queue', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'timeoutMs', 'idempotencyKey')));
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

  INSERT INTO jobs AS j (queue, type, payload, priority, run_at, max_attempts, timeout_ms, idempotency_key)
  VALUES (v_queue, p_type, v_payload, v_priority,
          coalesce(v_run_at, now() + make_interval(secs => coalesce(v_delay_ms, 0) / 1000)),
          v_max_attempts, v_timeout_ms, v_key)
  -- The no-op update makes the existing row come back even when another
  -- transaction committed it after this statement's snapshot.
  ON CONFLICT (type, idempotency_key) WHERE idempotency_key IS NOT NULL
    DO UPDATE SET type = EXCLUDED.type
  RETURNING j.id, (j.xmax = 0), j.queue, j.run_at INTO v_id, v_created, v_job_queue, v_job_run_at;

  IF v_created AND v_job_run_at <= now() THEN
    PERFORM pg_notify('djps:' || current_schema() || ':jobs', v_job_queue);
  END IF;
  id := v_id;
  created := v_created;
  RETURN NEXT;
END
$$;

-- An integer option of enqueue(), checked: null when absent.
CREATE FUNCTION enqueue_option_int(p_options jsonb, p_name text, p_min double precision, p_max double precision)
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE
SET search_path FROM CURRENT
AS $$
DECLARE
  v jsonb := p_options->p_name;
BEGIN
  IF v IS NULL THEN
    RETURN NULL;
  END IF;
  IF jsonb_typeof(v) <> 'number' OR (v::text)::numeric <> trunc((v::text)::numeric)
     OR (v::text)::numeric < p_min::numeric OR (v::text)::numeric > p_max::numeric THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('Expected `options.%s` to be an integer from %s to %s, got %s', p_name, p_min::bigint, p_max::bigint, left(v::text, 200));
  END IF;
  RETURN (v::text)::double precision;
END
$$;

INSERT INTO schema_versions (version, breaking) VALUES (9, false);
