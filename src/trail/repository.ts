import type { Queryable } from '../db/types.js';
import { keysetPage } from '../db/page.js';
import type { TrailEvent } from './contract.js';

/** One page of an organization's trail, newest first. */
export interface TrailPage {
  /** destinationName: the destination's name now (null: it has none, or it was deleted), for display only. */
  events: Array<{ id: string; occurredAt: Date; payload: TrailEvent; destinationName: string | null }>;
  /** The position of the last row, when another page may follow. */
  last: { occurredAt: Date; id: string } | null;
}

/**
 * The organization's configuration trail, newest first, after `before` (a position from the previous
 * page). Trail events are audit events like any other (pruned with them after AEGIS_RETENTION_DAYS);
 * the partial index audit_events_trail holds just them, so the preflight events never slow this down.
 * Each entry carries its destination's current name (one key lookup per row of the page), so the
 * Activity page needs no list of every destination to show names.
 */
export async function listTrail(db: Queryable, orgId: string, opts: { limit: number; before: { occurredAt: Date; id: string } | null }): Promise<TrailPage> {
  const { rows } = await db.query<{ id: string; occurred_at: Date; payload: TrailEvent | string; destination_name: string | null }>(
    `SELECT t.id, t.occurred_at, t.payload, d.name AS destination_name
       FROM (SELECT id, occurred_at, payload FROM audit_events
              WHERE org_id = $1 AND left(id, 4) = 'cfg_'
                AND ($2::timestamptz IS NULL OR (occurred_at, id) < ($2::timestamptz, $3::text))
              ORDER BY occurred_at DESC, id DESC
              LIMIT $4) t
       LEFT JOIN destinations d ON d.org_id = $1 AND d.id = t.payload->'aegis'->>'destination_id' AND d.deleted_at IS NULL
      ORDER BY t.occurred_at DESC, t.id DESC`,
    [orgId, opts.before?.occurredAt ?? null, opts.before?.id ?? '', opts.limit + 1],
  );
  const { rows: kept, after } = keysetPage(rows, opts.limit);
  const page = kept.map((r) => ({
    id: r.id,
    occurredAt: new Date(r.occurred_at),
    payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as TrailEvent,
    destinationName: r.destination_name,
  }));
  return { events: page, last: after ? { occurredAt: new Date(after.occurred_at), id: after.id } : null };
}
