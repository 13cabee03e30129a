-- The pull API and range replay (issue 12).
--
-- txid: the id of the transaction that recorded the event. The pull API pages in (txid, id) order
-- and only returns rows whose txid is below the oldest transaction still in progress
-- (pg_snapshot_xmin of the statement's snapshot). Every transaction below that bound has finished,
-- so no row can appear later behind a cursor already handed out: no gaps and no repeats while
-- events are being recorded, whatever order concurrent transactions commit in (a bigserial or
-- recorded_at order alone skips rows whose transaction commits late).
--
-- Added with a constant default first (no table rewrite: existing rows read 0, which sorts before
-- every real transaction id), then the per-row default for new rows. pg_current_xact_id() is the
-- 64-bit transaction id (it never wraps), available on PostgreSQL 13+ and PGlite.
ALTER TABLE audit_events ADD COLUMN txid bigint NOT NULL DEFAULT 0;
ALTER TABLE audit_events ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX audit_events_pull ON audit_events (org_id, txid, id);

-- Range replay walks one organization's events of a time window (by occurred_at, the event's
-- @timestamp, which is what a SIEM's accepted age refers to) in bounded batches.
CREATE INDEX audit_events_occurred ON audit_events (org_id, occurred_at, id);

-- Range replay must not queue an event twice for a destination: this finds a pending job of
-- (destination, event) without reading the destination's whole queue.
CREATE INDEX forwarding_jobs_pending_event ON forwarding_jobs (org_id, destination_id, event_id) WHERE status = 'pending';
