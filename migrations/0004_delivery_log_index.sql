-- The delivery log API pages one destination's requests newest first by id; without this index a
-- page of a busy destination's log would sort every row it ever logged.
CREATE INDEX delivery_attempts_dest_id ON delivery_attempts (org_id, destination_id, id DESC);
