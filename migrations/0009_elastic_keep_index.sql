-- Elastic destinations now write each event to its dataset's data stream (logs-<event.dataset>-default)
-- when no index is set. Destinations created before that wrote to logs-aegis.audit-default: they keep
-- it, written into their options, so an upgrade never moves a customer's events to another stream
-- (where an API key scoped to the old one would be refused and saved searches would miss them).
UPDATE destinations
   SET options = options || '{"index": "logs-aegis.audit-default"}'::jsonb
 WHERE siem = 'elastic' AND NOT (options ? 'index');
