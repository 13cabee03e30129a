-- When the SIEM first shed a pending job for load (an Elastic _bulk item 429
-- es_rejected_execution_exception) and the job went back without spending an attempt. A shed is free
-- only within AEGIS_RATE_LIMITED_FAILING_AFTER_S of this time (src/delivery/outcome.ts shedDecision):
-- a busy spell that long costs no attempt, however long the job waited before it, and a document the
-- SIEM sheds every time ends as a dead letter instead of coming back for ever. Kept on the row, on the
-- database's clock, so that it holds across workers and restarts. NULL: not shed since it was queued
-- (a replay of a dead letter clears it).
ALTER TABLE forwarding_jobs ADD COLUMN shed_since timestamptz;
