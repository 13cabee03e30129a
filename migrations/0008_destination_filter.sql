-- An optional per-destination filter: a MongoDB-style query over the wire event (docs/filters.md).
-- NULL means every event. The API checks the operators, paths, depth and size before saving
-- (src/filters/validate.ts); the CHECK only bounds what the database will hold.
ALTER TABLE destinations ADD COLUMN filter jsonb
  CHECK (filter IS NULL OR (jsonb_typeof(filter) = 'object' AND octet_length(filter::text) <= 16384));
