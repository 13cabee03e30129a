-- Retention (issue 12) at a cost per batch that does not grow with the tables (src/queue/prune.ts).
--
-- Every deleted event fires the ON DELETE CASCADE of forwarding_jobs (org_id, event_id), and
-- pruning asks whether an event still has any job, of any status: both probed forwarding_jobs by
-- (org_id, event_id), which only forwarding_jobs_pending_event served, for pending jobs only. On
-- 1,000,000 jobs each deleted event read them all (about 0.4 s an event, half an hour a batch).
--
-- Not CONCURRENTLY: pending migrations run together in one transaction (src/db/migrate.ts). On a large installation writes to these
-- tables wait while an index builds; IF NOT EXISTS lets an operator build both beforehand with
-- CREATE INDEX CONCURRENTLY under these names (README, "Upgrading").
CREATE INDEX IF NOT EXISTS forwarding_jobs_event ON forwarding_jobs (org_id, event_id);

-- Old delivery log rows were found by reading the table from its start (delivery_attempts_dest_time
-- leads with the destination): after a few days of pruning, past the emptied pages every time, and
-- the whole table on every pass that has nothing to delete.
CREATE INDEX IF NOT EXISTS delivery_attempts_attempted ON delivery_attempts (attempted_at);
