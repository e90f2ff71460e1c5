-- The hot-path functions never compile with JIT.
--
-- Each of them pins its plan with `enable_seqscan = off` and the like. Before
-- PostgreSQL 18 a disabled plan node still costs `disable_cost` (1e10), so a
-- plan that must keep such a node (the claim's look-up of paused queues, a
-- scan of a table with no index to use) costs more than `jit_above_cost`, and
-- a server built with LLVM (Debian's and most managed PostgreSQL 15 to 17)
-- compiles the statement on every call: about 30 ms each, for statements
-- that run in well under one. JIT cannot pay off for statements this short,
-- so it is off inside them, whatever the server's setting.

ALTER FUNCTION job_claim(text[], text[], integer, integer, text, double precision, double precision) SET jit = off;
ALTER FUNCTION job_claim(text[], text[], integer, text, double precision) SET jit = off;
ALTER FUNCTION job_complete(uuid[], integer[], text[], text) SET jit = off;
ALTER FUNCTION job_fail(uuid[], integer[], text[], text[], double precision[], boolean[], text, integer) SET jit = off;
ALTER FUNCTION job_snooze(uuid[], integer[], double precision[], text, text) SET jit = off;
ALTER FUNCTION job_heartbeat(uuid[], integer[], text, double precision) SET jit = off;
ALTER FUNCTION job_rescue(bigint, integer, text, integer, integer) SET jit = off;

INSERT INTO schema_versions (version, breaking) VALUES (6, false);
