set -e
# EXPLAIN data for docs/BENCHMARKS.md "Finding due work with 50,000 destinations": run from the repository root.
# Creates (and drops first) the database iso_explain on 127.0.0.1:5432.
P="psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q"
$P -c "DROP DATABASE IF EXISTS iso_explain" -c "CREATE DATABASE iso_explain"
for f in migrations/*.sql; do $P -d iso_explain -f $f >/dev/null; done
$P -d iso_explain <<'SQL'
INSERT INTO orgs (id, name) SELECT 'org_' || g, 'o' FROM generate_series(1, 500) g;
INSERT INTO destinations (org_id, id, siem, url, enabled)
  SELECT 'org_' || (1 + g % 500), 'fwd_' || lpad(g::text, 6, '0'), 'custom', 'https://x.example.com/in', true FROM generate_series(1, 50000) g;
INSERT INTO audit_events (org_id, id, occurred_at, payload) SELECT 'org_1', 'ev_' || g, now(), '{}' FROM generate_series(1, 200000) g;
-- fwd_000500 belongs to org_1 (500 % 500 = 0 -> org_1)
INSERT INTO forwarding_jobs (org_id, destination_id, event_id) SELECT 'org_1', 'fwd_000500', 'ev_' || g FROM generate_series(1, 200000) g;
-- and 20 destinations of org_1 with a few retries waiting (the usual background)
INSERT INTO forwarding_jobs (org_id, destination_id, event_id, next_attempt_at)
  SELECT 'org_1', 'fwd_' || lpad((500 * k)::text, 6, '0'), 'ev_' || g, now() + interval '2 minutes' FROM generate_series(2, 21) k, generate_series(1, 5) g;
VACUUM ANALYZE;
SQL
