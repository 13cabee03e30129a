import type { Queryable } from '../db/types.js';
import { JOBS_CHANNEL } from './types.js';

export interface NewEvent {
  orgId: string;
  id: string;
  occurredAt: Date;
  payload: unknown;
}

/**
 * The outbox in one statement: records the events, queues one job per enabled destination of their
 * organization and NOTIFYs workers (delivered on commit) when it queued any. One statement is atomic
 * on its own, so callers need no transaction (one may still wrap it). Idempotent on (org_id, event
 * id): an event already recorded is neither recorded nor queued again. Returns the ids that were new.
 *
 * Why one statement with one JSON parameter: per request this was BEGIN, two INSERTs, a NOTIFY and
 * COMMIT (five round trips, each parsed and planned), and each payload was serialised by
 * JSON.stringify and then escaped again as an element of a json[] array literal. The batch now goes
 * as a single JSON document; json_to_recordset hands each payload to the json column as the exact
 * text JSON.stringify produced (json keeps text as given: field order and escapes unchanged).
 */
const RECORD_SQL = `
WITH input AS (
  SELECT * FROM json_to_recordset($1::json) AS e(org_id text, id text, occurred_at timestamptz, payload json)
), ins AS (
  INSERT INTO audit_events (org_id, id, occurred_at, payload)
  SELECT org_id, id, occurred_at, payload FROM input
  ON CONFLICT (org_id, id) DO NOTHING
  RETURNING org_id, id
), jobs AS (
  INSERT INTO forwarding_jobs (org_id, destination_id, event_id)
  SELECT ins.org_id, d.id, ins.id FROM ins JOIN destinations d ON d.org_id = ins.org_id AND d.enabled
  RETURNING 1
)
SELECT coalesce((SELECT array_agg(id) FROM ins), '{}') AS inserted,
       (SELECT count(*) FROM jobs)::int AS jobs,
       (SELECT count(*) FROM (SELECT pg_notify('${JOBS_CHANNEL}', '') FROM (SELECT 1 FROM jobs LIMIT 1) one) n)::int AS notified`;

export async function recordEvents(db: Queryable, events: NewEvent[]): Promise<{ inserted: string[]; jobs: number }> {
  if (events.length === 0) return { inserted: [], jobs: 0 };
  // occurred_at as ISO 8601 UTC (what the pg driver would send for a Date, to the millisecond).
  const batch = events.map((e) => ({ org_id: e.orgId, id: e.id, occurred_at: e.occurredAt.toISOString(), payload: e.payload }));
  const { rows } = await db.query<{ inserted: string[]; jobs: number }>(RECORD_SQL, [JSON.stringify(batch)]);
  const row = rows[0]!;
  return { inserted: row.inserted, jobs: row.jobs };
}
