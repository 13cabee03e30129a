-- Recording an event checked three foreign keys row by row: its organization, and for each of its jobs
-- the event and the destination. Each check is a query of its own that share-locks the parent row, so
-- a request of 27 events queued to two destinations ran 135 of them, about half of the recording
-- statement's time (issue 17, docs/BENCHMARKS.md). Every writer reads the parents in the statement
-- that inserts, and now share-locks each parent once there instead (src/queue/enqueue.ts,
-- replayRange.ts; a farewell is queued in the transaction that holds its destination's row).
--
-- What the constraints did on delete is kept, as statement triggers: deleting an organization
-- deletes its events, deleting an event or a destination deletes its jobs (the other tables keep
-- their ON DELETE CASCADE). A delete waits for every writer holding a share lock on the parent, and
-- each trigger's statement takes a new snapshot (READ COMMITTED), so it also finds the rows such a
-- writer committed meanwhile: no job outlives its event or destination, as with the constraints.
ALTER TABLE forwarding_jobs DROP CONSTRAINT IF EXISTS forwarding_jobs_org_id_destination_id_fkey;
ALTER TABLE forwarding_jobs DROP CONSTRAINT IF EXISTS forwarding_jobs_org_id_event_id_fkey;
ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_org_id_fkey;

-- SET search_path FROM CURRENT: the tables are this schema's, whatever the deleting session's path
-- (an installation may live in a schema of its own).
CREATE FUNCTION aegis_delete_org_events() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM audit_events e USING gone g WHERE e.org_id = g.id;
  RETURN NULL;
END $$;

-- Retention deletes events 5,000 at a time: one probe of forwarding_jobs_event per event, as the
-- constraint's cascade did. Left to itself the planner hashed the batch against a sequential scan of
-- every job below about a million jobs (0.2-0.6 s a batch), and kept that plan for the connection.
CREATE FUNCTION aegis_delete_event_jobs() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  DELETE FROM forwarding_jobs j USING gone g WHERE j.org_id = g.org_id AND j.event_id = g.id;
  RETURN NULL;
END $$;

CREATE FUNCTION aegis_delete_destination_jobs() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM forwarding_jobs j USING gone g WHERE j.org_id = g.org_id AND j.destination_id = g.id;
  RETURN NULL;
END $$;

CREATE TRIGGER orgs_delete_events AFTER DELETE ON orgs
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION aegis_delete_org_events();
CREATE TRIGGER audit_events_delete_jobs AFTER DELETE ON audit_events
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION aegis_delete_event_jobs();
CREATE TRIGGER destinations_delete_jobs AFTER DELETE ON destinations
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION aegis_delete_destination_jobs();

-- TRUNCATE fires no delete trigger, and the constraints refused it (or took the jobs along, with
-- CASCADE): emptying a parent empties its children, so no job is left pending for nothing. DELETE,
-- not TRUNCATE: a TRUNCATE of several of these tables at once already holds the others.
CREATE FUNCTION aegis_empty_events() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM audit_events;
  RETURN NULL;
END $$;

CREATE FUNCTION aegis_empty_jobs() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM forwarding_jobs;
  RETURN NULL;
END $$;

CREATE TRIGGER orgs_truncate_events AFTER TRUNCATE ON orgs FOR EACH STATEMENT EXECUTE FUNCTION aegis_empty_events();
CREATE TRIGGER audit_events_truncate_jobs AFTER TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION aegis_empty_jobs();
CREATE TRIGGER destinations_truncate_jobs AFTER TRUNCATE ON destinations FOR EACH STATEMENT EXECUTE FUNCTION aegis_empty_jobs();
