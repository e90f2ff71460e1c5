-- Waiting for a job (`queue.waitFor`). A waiter marks the job (`waited`)
-- and listens on the jobs channel; every later change of a marked job's
-- status or progress sends `job <id>` there (delivered on commit), and the
-- waiter reads the job again: the notification says only "look", so a lost
-- or late one costs a re-read at the next reconnect, never a wrong answer.
-- A job nobody waits for pays the trigger's WHEN clause on its updates and
-- nothing else.

ALTER TABLE jobs ADD COLUMN waited boolean;

CREATE FUNCTION job_waited_changed() RETURNS trigger
LANGUAGE plpgsql
SET jit = off
SET search_path FROM CURRENT
AS $$
BEGIN
  PERFORM pg_notify('djps:' || current_schema() || ':jobs', 'job ' || NEW.id);
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_waited_changed AFTER UPDATE ON jobs
  FOR EACH ROW
  WHEN (NEW.waited AND (OLD.status IS DISTINCT FROM NEW.status OR OLD.progress IS DISTINCT FROM NEW.progress))
  EXECUTE FUNCTION job_waited_changed();

INSERT INTO schema_versions (version, breaking) VALUES (13, false);
