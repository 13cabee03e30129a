-- The API loads the keys and dashboard sessions created since its last look, every 5 s per API
-- process (src/api/seenCredentials.ts): without an index each look read both tables whole (100,000 of
-- each: 9-10 ms and 1,200-1,500 buffers a look on PostgreSQL, a 59 ms stall of the embedded
-- database's thread). Small tables: built in the migration's transaction.
CREATE INDEX IF NOT EXISTS api_keys_created ON api_keys (created_at);
CREATE INDEX IF NOT EXISTS sessions_created ON sessions (created_at);
