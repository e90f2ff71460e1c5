-- API keys for the optional HTTP API (`djps/http`, `djps serve`).
--
-- A key is shown once, when it is created; only the SHA-256 of the whole key
-- is stored. The key holds 256 random bits, so a fast hash is enough: there
-- is nothing to guess, and a slow password hash would cost every request.
-- A request finds its key by that hash (the unique index), which an attacker
-- cannot steer byte by byte, and the handler compares it again in constant time.
--
-- `queues` NULL means every queue. The rate limit is a token bucket per key:
-- `rate_limit` tokens at most, refilled at `rate_limit` per `rate_period_ms`;
-- `tokens` and `tokens_at` are its state, written by the same statement that
-- looks the key up (sql/keyAuthenticate.ts), and only for keys with a limit.
-- Rows churn only in those two columns, which no index holds: HOT updates,
-- hence the fillfactor.

CREATE TABLE api_keys (
  id uuid NOT NULL DEFAULT uuid_v7(),
  name text NOT NULL,
  hash bytea NOT NULL,
  queues text[],
  read_only boolean NOT NULL DEFAULT false,
  rate_limit integer,
  rate_period_ms integer,
  tokens double precision,
  tokens_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  CONSTRAINT api_keys_pkey PRIMARY KEY (id),
  CONSTRAINT api_keys_hash_key UNIQUE (hash),
  CONSTRAINT api_keys_hash_length CHECK (octet_length(hash) = 32),
  CONSTRAINT api_keys_rate CHECK (
    (rate_limit IS NULL AND rate_period_ms IS NULL AND tokens IS NULL AND tokens_at IS NULL)
    OR (rate_limit >= 1 AND rate_period_ms >= 1 AND tokens IS NOT NULL AND tokens_at IS NOT NULL)
  )
) WITH (fillfactor = 80);

INSERT INTO schema_versions (version, breaking) VALUES (7, false);
