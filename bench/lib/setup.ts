// Database setup for the benchmark: a dedicated database (aegis_bench) on the local server, reset
// between scenarios by dropping and recreating its schemas, then migrated with the service's own
// migrations. Orgs, API keys and destinations are created with the service's own code and key ring,
// so the worker processes (same AEGIS_ENCRYPTION_KEY) open the credentials as in production.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPg } from '../../src/db/pg.js';
import { migrate } from '../../src/db/migrate.js';
import type { Db } from '../../src/db/types.js';
import { parseKeyRing } from '../../src/crypto/keyring.js';
import { createOrg } from '../../src/orgs/repository.js';
import { apiKeyActorId, createApiKey } from '../../src/auth/apiKeys.js';
import { createDestination } from '../../src/destinations/service.js';
import type { SiemId } from '../../src/siem/catalog.js';

export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BENCH_DB = process.env.BENCH_DB ?? 'aegis_bench';
export const BENCH_URL = ADMIN_URL.replace(/\/[^/]*$/, `/${BENCH_DB}`);
export const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const keyRing = parseKeyRing(ENCRYPTION_KEY);

/**
 * A connected client for the bench's own bookkeeping. Its 'error' listener keeps a lost connection (a
 * server restart during a run) from killing the bench with an unhandled 'error' event; the next query
 * on it then fails and says why.
 */
export async function benchClient(url = ADMIN_URL): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', (err) => console.error(`bench: database connection lost (${err.message})`));
  await c.connect();
  return c;
}

export async function ensureDatabase(): Promise<void> {
  const admin = await benchClient();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DB]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${BENCH_DB}`);
  } finally {
    await admin.end();
  }
}

export type Migrate = (db: Db) => Promise<unknown>;

/**
 * Empties the bench database (service tables and pg-boss's schema) and applies the migrations: the
 * working tree's, or `migrateWith`'s (a --src-rev build's own, so that a before/after across a
 * migration measures the old schema too).
 */
export async function resetDatabase(db: Db, migrateWith: Migrate = migrate): Promise<void> {
  await db.exec(`DROP SCHEMA IF EXISTS pgboss CASCADE; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;`);
  await migrateWith(db);
}

/** Names the bench's own connections to the bench database, so their CPU is not counted as the service's. */
export const BENCH_APP_NAME = 'aegis-bench';

export function openBenchDb(max = 4): Db {
  return openPg({ connectionString: `${BENCH_URL}?application_name=${BENCH_APP_NAME}`, max });
}

/** Receiver path and preset options per SIEM (the receiver answers by path prefix). */
export const PRESET_PATHS: Record<SiemId, string> = {
  custom: '/custom/hook',
  splunk_hec: '/splunk/services/collector/event',
  datadog: '/datadog/api/v2/logs',
  elastic: '/elastic/_bulk',
  sumo_logic: '/sumo/receiver/v1/http/bench',
  new_relic: '/newrelic/log/v1',
  // Needs an OAuth2 token server too: not among the bench's default presets.
  microsoft_sentinel: '/sentinel/dataCollectionRules/dcr-00000000000000000000000000000000/streams/Custom-AegisAudit_CL',
};

const AUTH: Partial<Record<SiemId, string>> = {
  splunk_hec: 'Splunk 6b0d4a2c-bench-token',
  datadog: '0123456789abcdef0123456789abcdef',
  elastic: 'ApiKey YmVuY2g6YmVuY2g=',
  new_relic: 'bench0123456789abcdef0123456789NRAL',
  custom: 'Bearer bench-token',
};

export interface BenchOrg {
  orgId: string;
  apiKey: string;
  destinations: Array<{ id: string; siem: SiemId }>;
}

export async function createBenchOrg(db: Db, receiverPort: number, presets: SiemId[], enabled: boolean): Promise<BenchOrg> {
  const org = await createOrg(db, 'bench');
  const apiKey = await createApiKey(db, org.id);
  const destinations: BenchOrg['destinations'] = [];
  for (const siem of presets) {
    const auth = AUTH[siem];
    const view = await createDestination(
      { db, keyRing, allowPrivate: true, limits: { destinations: 1_000_000, enabledDestinations: 1_000_000 }, signingOverlapHours: 24 },
      org.id,
      {
        siem,
        url: `https://localhost:${receiverPort}${PRESET_PATHS[siem]}`,
        ...(auth ? { auth_header_value: auth } : {}),
        enabled,
      },
      { type: 'api_key', id: apiKeyActorId(apiKey) },
    );
    destinations.push({ id: view.destination_id, siem });
  }
  return { orgId: org.id, apiKey, destinations };
}

/**
 * Custom webhook destinations of one org at the given receiver paths, through the service's own code.
 * `host`: localhost or 127.0.0.1 (both in the test certificate): two origins on one receiver.
 */
export async function createBenchDestinations(
  db: Db,
  orgId: string,
  receiverPort: number,
  paths: string[],
  enabled = true,
  host = 'localhost',
): Promise<string[]> {
  const ids: string[] = [];
  for (const path of paths) {
    const view = await createDestination(
      { db, keyRing, allowPrivate: true, limits: { destinations: 1_000_000, enabledDestinations: 1_000_000 }, signingOverlapHours: 24 },
      orgId,
      { siem: 'custom', url: `https://${host}:${receiverPort}${path}`, auth_header_value: AUTH.custom!, enabled },
      // The configuration trail names who made each change: here, the bench's set-up.
      { type: 'api_key', id: 'key_be4c000000000000' },
    );
    ids.push(view.destination_id);
  }
  return ids;
}

/** A bare org and API key (no destinations). */
export async function createBareOrg(db: Db, name: string): Promise<{ orgId: string; apiKey: string }> {
  const org = await createOrg(db, name);
  return { orgId: org.id, apiKey: await createApiKey(db, org.id) };
}

/**
 * The product page's example event, built in SQL for event number `g` (ids unique per run), stored as
 * the API stores a payload: its keys in the API's order (events/contract.ts buildWireEvent), compact,
 * as JSON.stringify writes it; the worker then sends that text as is and reads the event's id and
 * @timestamp from its head (siem/storedEvent.ts). json_build_object keeps the keys' order and writes
 * `" : "` and `, `; none of the strings below holds either, so dropping the spaces leaves every value
 * alone. (Until 2026-12-02 it was built as jsonb, whose keys come in another order: text the worker
 * reads as another writer's, parsed whole.)
 */
function payloadSql(tag: string): string {
  return `replace(replace(${jsonPayloadSql(tag)}::text, '" : ', '":'), ', ', ',')::json`;
}

function jsonPayloadSql(tag: string): string {
  return `json_build_object(
      '@timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
      'event', json_build_object('id', 'pflt_${tag}' || lpad(g::text, 19, '0'), 'kind', 'event',
               'category', '["aegis","preflight"]'::json, 'type', json_build_array(lower(dec)),
               'action', 'preflight_check', 'outcome', CASE dec WHEN 'BLOCKED' THEN 'failure' ELSE 'success' END,
               'dataset', 'aegis.preflight'),
      'aegis', json_build_object('preflight_id', 'pflt_${tag}' || lpad(g::text, 19, '0'), 'decision', dec,
               'destination', 'AI_TOOL', 'summary', CASE dec WHEN 'ALLOWED' THEN 'No sensitive data detected.'
                 WHEN 'BLOCKED' THEN 'Detected AWS access key; blocked.' ELSE 'Detected SSN; masked.' END,
               'policy_version', 'v1.0', 'policy_id', 'pol_xyz', 'source_type', 'api', 'input_type', 'text',
               'input_size_bytes', 200 + g % 800, 'finding_counts_by_type',
               CASE dec WHEN 'ALLOWED' THEN '{}'::json WHEN 'BLOCKED' THEN '{"AWS_ACCESS_KEY":1}'::json ELSE '{"SSN":1,"EMAIL":2}'::json END,
               'actor_id', 'user' || (g % 5000) || '@example.com'),
      'organization', json_build_object('id', $1::text))`;
}

/**
 * Seeds `n` events of one org and one pending job per given destination, in chunks of 100,000 rows
 * (one statement each for events and jobs), then VACUUM ANALYZEs, as autovacuum would have by then.
 */
export async function seedBacklog(db: Db, orgId: string, destinationIds: string[], n: number): Promise<void> {
  const tag = randomBytes(3).toString('hex').slice(0, 5);
  const chunk = 100_000;
  for (let from = 1; from <= n; from += chunk) {
    const to = Math.min(n, from + chunk - 1);
    await db.query(
      `INSERT INTO audit_events (org_id, id, occurred_at, payload)
       SELECT $1, 'pflt_${tag}' || lpad(g::text, 19, '0'), now(), ${payloadSql(tag)}
         FROM generate_series($2::int, $3::int) AS g,
              LATERAL (SELECT (ARRAY['ALLOWED','ALLOWED_WITH_MASKING','ALLOWED_WITH_MASKING','BLOCKED'])[1 + g % 4] AS dec) d`,
      [orgId, from, to],
    );
    await db.query(
      `INSERT INTO forwarding_jobs (org_id, destination_id, event_id)
       SELECT $1, dest.id, 'pflt_${tag}' || lpad(g::text, 19, '0')
         FROM generate_series($2::int, $3::int) AS g, unnest($4::text[]) AS dest(id)
        ORDER BY g`,
      [orgId, from, to, destinationIds],
    );
  }
  // A real backlog builds up over time while autovacuum keeps up; a bulk-loaded one would make the
  // drain pay for the load's first vacuum (hint bits, visibility map) and statistics. Do that now.
  await db.exec('VACUUM (ANALYZE) audit_events');
  await db.exec('VACUUM (ANALYZE) forwarding_jobs');
}

/**
 * Seeds a recorded history of `n` events of one org spread evenly over the last `days` days (oldest
 * first, as they would have been recorded), in chunks of 100,000: three in four have a job for
 * `destinationId` (delivered a second after recording, except the last day's, still pending, and one
 * in a thousand dead-lettered), the rest none (no destination took them); the delivery log has one
 * request per 100 events. Then VACUUM ANALYZEs, as autovacuum would have by then. The retention
 * scenario's history.
 */
export async function seedHistory(db: Db, orgId: string, destinationId: string, n: number, days: number): Promise<void> {
  const tag = randomBytes(3).toString('hex').slice(0, 5);
  const chunk = 100_000;
  // Event g's recording time: g = 1 is `days` ago, g = n is now.
  const at = `now() - make_interval(days => $4) + g * make_interval(days => $4) / $5::int`;
  for (let from = 1; from <= n; from += chunk) {
    const to = Math.min(n, from + chunk - 1);
    await db.query(
      `INSERT INTO audit_events (org_id, id, occurred_at, recorded_at, payload)
       SELECT $1, 'pflt_${tag}' || lpad(g::text, 19, '0'), t, t, ${payloadSql(tag)}
         FROM generate_series($2::int, $3::int) AS g,
              LATERAL (SELECT (ARRAY['ALLOWED','ALLOWED_WITH_MASKING','ALLOWED_WITH_MASKING','BLOCKED'])[1 + g % 4] AS dec, ${at} AS t) d`,
      [orgId, from, to, days, n],
    );
    await db.query(
      `INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status, attempts, created_at, next_attempt_at, settled_at)
       SELECT $1, $6, 'pflt_${tag}' || lpad(g::text, 19, '0'), s.status, 1, t, t, CASE WHEN s.status <> 'pending' THEN t + interval '1 second' END
         FROM generate_series($2::int, $3::int) AS g,
              LATERAL (SELECT ${at} AS t) d,
              LATERAL (SELECT CASE WHEN t > now() - interval '1 day' THEN 'pending' WHEN g % 1000 = 0 THEN 'failed' ELSE 'done' END AS status) s
        WHERE g % 4 <> 0`,
      [orgId, from, to, days, n, destinationId],
    );
    await db.query(
      `INSERT INTO delivery_attempts (org_id, destination_id, attempted_at, event_count, delivered_count, failed_count, status_code, duration_ms)
       SELECT $1, $6, ${at}, 100, 100, 0, 200, 20 FROM generate_series($2::int, $3::int) AS g WHERE g % 100 = 0`,
      [orgId, from, to, days, n, destinationId],
    );
  }
  for (const t of ['audit_events', 'forwarding_jobs', 'delivery_attempts']) await db.exec(`VACUUM (ANALYZE) ${t}`);
}

/** The ingest and api-noisy scenarios' preflight body: the privacy guard finds an SSN and two emails in it. */
export const PREFLIGHT_BODY = JSON.stringify({
  input:
    'Please summarise the ticket from jane.doe@example.com (SSN 078-05-1120) and cc bob@example.org; the customer asked for a refund of the May invoice and a call back this week.',
  destination: 'AI_TOOL',
  source_type: 'api',
  input_type: 'text',
  actor_id: 'analyst@example.com',
});

/** The same example event in JS (for pg-boss job data and API records). */
export function agentRecord(id: string, i: number): Record<string, unknown> {
  const dec = ['ALLOWED', 'ALLOWED_WITH_MASKING', 'ALLOWED_WITH_MASKING', 'BLOCKED'][i % 4]!;
  return {
    preflight_id: id,
    decision: dec,
    destination: 'AI_TOOL',
    summary: dec === 'ALLOWED' ? 'No sensitive data detected.' : dec === 'BLOCKED' ? 'Detected AWS access key; blocked.' : 'Detected SSN; masked.',
    policy_version: 'v1.0',
    policy_id: 'pol_xyz',
    source_type: 'api',
    input_type: 'text',
    input_size_bytes: 200 + (i % 800),
    finding_counts_by_type: dec === 'ALLOWED' ? {} : dec === 'BLOCKED' ? { AWS_ACCESS_KEY: 1 } : { SSN: 1, EMAIL: 2 },
    actor_id: `user${i % 5000}@example.com`,
  };
}
