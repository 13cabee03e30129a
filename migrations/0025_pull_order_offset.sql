-- The pull API's order after a database is moved to another PostgreSQL server (src/events/pullOrder.ts).
--
-- audit_events.txid is the id of the transaction that recorded the event, and the pull API reads rows
-- below the oldest transaction still running, in (txid, id) order (migration 0007). Transaction ids
-- count one server's transactions: a pg_dump restored on a fresh server, or a logical replica,
-- carries the old server's ids into a server whose counter starts far below them. Every restored
-- event then sits above the bound (the pull API and the export showed none of them), and every new
-- one sorted before the cursors pollers held (they skipped it).
--
-- txid_offset: added to the transaction id of every event recorded from now on (the column's
-- default says the same number) and to the pull API's bound, so that new events sort after every
-- event already stored, whichever server recorded it, and cursors given out before the move keep
-- their place. Zero until the service finds events from ahead of this server's counter.
CREATE TABLE IF NOT EXISTS pull_order (
  single boolean PRIMARY KEY DEFAULT true CHECK (single),
  txid_offset bigint NOT NULL DEFAULT 0 CHECK (txid_offset >= 0)
);
INSERT INTO pull_order DEFAULT VALUES ON CONFLICT DO NOTHING;
