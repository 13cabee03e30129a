import type { Queryable } from '../db/types.js';

/**
 * An organization's most recently recorded wire events, newest first: what the filter preview runs
 * a filter over (filters/preview.ts). Served by audit_events_org_recorded, so it reads only this
 * organization's newest rows however many events others have.
 */
export async function listRecentEventPayloads(db: Queryable, orgId: string, limit: number): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query<{ payload: Record<string, unknown> }>(
    'SELECT payload FROM audit_events WHERE org_id = $1 ORDER BY recorded_at DESC LIMIT $2',
    [orgId, limit],
  );
  return rows.map((r) => r.payload);
}
