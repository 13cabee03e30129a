-- A destination created with an Idempotency-Key (src/destinations/idempotency.ts): the key's SHA-256,
-- and the SHA-256 of the request's settings (its secrets left out), so that a client retrying a create
-- whose answer it lost gets the destination its first try made instead of a second one that would
-- deliver every event twice (an API client's review), and the same key with other settings is refused.
-- Unique among an organization's destinations not deleted: a retry after a delete creates anew. Small
-- table: built in the migration's transaction.
ALTER TABLE destinations ADD COLUMN IF NOT EXISTS idempotency_key_digest bytea;
ALTER TABLE destinations ADD COLUMN IF NOT EXISTS idempotency_request_digest bytea;
CREATE UNIQUE INDEX IF NOT EXISTS destinations_idempotency_key ON destinations (org_id, idempotency_key_digest)
  WHERE idempotency_key_digest IS NOT NULL AND deleted_at IS NULL;
