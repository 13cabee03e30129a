import type { Queryable } from '../db/types.js';
import { JOBS_CHANNEL } from './types.js';

export interface NewEvent {
  orgId: string;
  id: string;
  occurredAt: Date;
  payload: unknown;
}

/**
 * The outbox: records events and, in the same transaction, queues one job per enabled destination of
 * their organization, then NOTIFYs workers (delivered on commit). Must run inside a transaction.
 * Idempotent on (org_id, event id): an event already recorded is neither recorded nor queued again.
 * Returns the ids that were new.
 */
export async function recordEvents(tx: Queryable, events: NewEvent[]): Promise<{ inserted: string[]; jobs: number }> {
  if (events.length === 0) return { inserted: [], jobs: 0 };
  const { rows } = await tx.query<{ org_id: string; id: string }>(
    `INSERT INTO audit_events (org_id, id, occurred_at, payload)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::json[])
     ON CONFLICT (org_id, id) DO NOTHING
     RETURNING org_id, id`,
    [events.map((e) => e.orgId), events.map((e) => e.id), events.map((e) => e.occurredAt), events.map((e) => JSON.stringify(e.payload))],
  );
  if (rows.length === 0) return { inserted: [], jobs: 0 };
  const { rowCount } = await tx.query(
    `INSERT INTO forwarding_jobs (org_id, destination_id, event_id)
     SELECT e.org_id, d.id, e.id
       FROM unnest($1::text[], $2::text[]) AS e(org_id, id)
       JOIN destinations d ON d.org_id = e.org_id AND d.enabled`,
    [rows.map((r) => r.org_id), rows.map((r) => r.id)],
  );
  if (rowCount > 0) await tx.query(`SELECT pg_notify('${JOBS_CHANNEL}', '')`);
  return { inserted: rows.map((r) => r.id), jobs: rowCount };
}
