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

CREATE FUNCTION aegis_delete_org_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM audit_events e USING gone g WHERE e.org_id = g.id;
  RETURN NULL;
END $$;

CREATE FUNCTION aegis_delete_event_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM forwarding_jobs j USING gone g WHERE j.org_id = g.org_id AND j.event_id = g.id;
  RETURN NULL;
END $$;

CREATE FUNCTION aegis_delete_destination_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
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
