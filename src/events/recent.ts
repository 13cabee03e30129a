import type { Queryable } from '../db/types.js';

/**
 * An organization's most recently recorded wire events, newest first: what the filter preview runs
 * a filter over (filters/preview.ts). Ordered by recording transaction (txid, then id): a backward
 * walk of audit_events_pull, the pull API's index, so it reads only this organization's newest rows
 * however many events others have, without an index of its own for every insert to maintain.
 */
export async function listRecentEventPayloads(db: Queryable, orgId: string, limit: number): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query<{ payload: Record<string, unknown> }>(
    'SELECT payload FROM audit_events WHERE org_id = $1 ORDER BY txid DESC, id DESC LIMIT $2',
    [orgId, limit],
  );
  return rows.map((r) => r.payload);
}
