// A destination's two-step delete: tombstone now, remove once its farewell is settled (or given up on).
import { BUMP_ROW_VERSION } from '../queue/dueDestinations.js';
import type { Queryable } from '../db/types.js';

/**
 * The first step of a delete: the row is disabled and marked deleted (every reader leaves it out),
 * and its pending jobs are cleared, but for farewells and for jobs a worker is sending right now
 * (claimed, lease running): those settle normally, which is what lets a farewell wait for them.
 * Returns the pending jobs cleared, the in-flight ones included (none is retried after this).
 */
export async function tombstoneDestination(tx: Queryable, orgId: string, id: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `WITH gone AS (
       UPDATE destinations SET enabled = false, deleted_at = now(), ${BUMP_ROW_VERSION} WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id
     ), cleared AS (
       DELETE FROM forwarding_jobs j
        WHERE j.org_id = $1 AND j.destination_id = $2 AND j.status = 'pending' AND NOT j.farewell
          AND NOT (j.claim_id IS NOT NULL AND j.next_attempt_at > now())
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM forwarding_jobs WHERE org_id = $1 AND destination_id = $2 AND status = 'pending' AND NOT farewell)::int AS n
       FROM gone`,
    [orgId, id],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Removes a deleted destination once no farewell of it is pending; its jobs and delivery log go with
 * it (a trigger and ON DELETE CASCADE, migration 0017). Returns whether it was removed. Called by the delete itself, after the
 * worker settles a farewell, and by the hourly prune (which also gives up on a farewell after a day).
 */
export async function purgeDeletedDestination(db: Queryable, orgId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'pending' AND j.farewell)`,
    [orgId, id],
  );
  return rowCount > 0;
}

/** Farewells older than this are given up on (the key ring lost the credential's key, say). */
const FAREWELL_GIVE_UP = "interval '1 day'";

/**
 * The hourly sweep: removes deleted destinations whose farewell is settled (a worker that settled it
 * died before removing the row) or was deleted more than a day ago. Returns how many went.
 */
export async function purgeDeletedDestinations(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM destinations d WHERE d.deleted_at IS NOT NULL
        AND (d.deleted_at < now() - ${FAREWELL_GIVE_UP}
             OR NOT EXISTS (SELECT 1 FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'pending' AND j.farewell))`,
  );
  return rowCount;
}
