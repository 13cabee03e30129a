-- Settling, releasing and renewing a claim find their jobs by job id alone, fenced by the claim id
-- (src/queue/settleJobs.ts, claimJobs.ts): their cost is the claim's size, whatever else is queued.
--
-- They said `org_id = $1 AND id = ANY(...) AND status = 'pending'`, which let the planner read
-- another index by organization or by status instead of probing the ids: on statistics taken while
-- the organization had few jobs (a fresh or growing queue, a table autovacuum has not analyzed yet,
-- PGlite, which never analyzes by itself) it believed those few and read every job of the
-- organization, dead index entries included, to settle 64 (50-120 ms a settle at 1,000 events/s;
-- docs/BENCHMARKS.md). The primary key is now the job id alone, so an id probe needs no organization.
--
-- Not CONCURRENTLY (pending migrations run in one transaction, src/db/migrate.ts): writes to the
-- table wait while the index builds. IF NOT EXISTS lets an operator build it beforehand with
-- CREATE UNIQUE INDEX CONCURRENTLY forwarding_jobs_id ON forwarding_jobs (id) (README, "Upgrading").
-- A prebuilt index left invalid (a CONCURRENTLY build that failed or was cancelled) cannot become
-- the key: it is dropped and built again here rather than failing every start.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              WHERE c.relname = 'forwarding_jobs_id' AND c.relnamespace = current_schema()::regnamespace AND NOT i.indisvalid) THEN
    DROP INDEX forwarding_jobs_id;
  END IF;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS forwarding_jobs_id ON forwarding_jobs (id);
ALTER TABLE forwarding_jobs DROP CONSTRAINT forwarding_jobs_pkey;
-- Renames forwarding_jobs_id to forwarding_jobs_pkey.
ALTER TABLE forwarding_jobs ADD CONSTRAINT forwarding_jobs_pkey PRIMARY KEY USING INDEX forwarding_jobs_id;

-- The fence needs no status either: every statement that moves a job out of 'pending' clears its
-- claim id, and this makes that a rule of the table. NOT VALID: enforced for every write from now on
-- without reading the existing rows (which the code has always kept this way).
ALTER TABLE forwarding_jobs ADD CONSTRAINT forwarding_jobs_claimed_pending CHECK (claim_id IS NULL OR status = 'pending') NOT VALID;

-- Built for range replay's duplicate check, which now probes forwarding_jobs_event (0015). Nothing
-- else reads it, every claim, release and lease renewal wrote an entry into it, and it was one of
-- the indexes the statements above misread.
DROP INDEX IF EXISTS forwarding_jobs_pending_event;
