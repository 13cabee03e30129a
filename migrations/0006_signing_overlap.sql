-- Signing secret rotation with overlap: after a rotation, deliveries carry the new signature and the
-- previous secret's (Standard Webhooks allows several space-separated v1 entries) until
-- previous_signing_secret_until, so receivers switch secrets without rejecting a delivery.
-- Sealed like every credential (its own associated-data purpose), never returned.
ALTER TABLE destinations ADD COLUMN previous_signing_secret_sealed bytea;
ALTER TABLE destinations ADD COLUMN previous_signing_secret_until timestamptz;
