-- An optional per-destination filter: a MongoDB-style query over the wire event (docs/filters.md).
-- NULL means every event. The API checks the operators, paths, depth and size before saving
-- (src/filters/validate.ts); the CHECK only bounds what the database will hold.
ALTER TABLE destinations ADD COLUMN filter jsonb
  CHECK (filter IS NULL OR (jsonb_typeof(filter) = 'object' AND octet_length(filter::text) <= 16384));

-- The filter preview reads an organization's most recent events; without this it would walk the
-- global recorded_at index past every other organization's events.
CREATE INDEX IF NOT EXISTS audit_events_org_recorded ON audit_events (org_id, recorded_at);
