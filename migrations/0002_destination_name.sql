-- An optional human name per destination, so two destinations of one SIEM ("Splunk prod",
-- "Splunk staging") can be told apart on the dashboard, in the API and in alerts. NULL means unnamed:
-- readers fall back to the SIEM's label. The API trims it and refuses control characters; the CHECK
-- only bounds what the database will hold.
ALTER TABLE destinations ADD COLUMN name text CHECK (name IS NULL OR char_length(name) BETWEEN 1 AND 100);
