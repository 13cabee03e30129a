// A destination's two-step delete: tombstone now, remove once its farewell is settled (or given up on).
//
// Its jobs and delivery log go a batch at a time, each batch a statement of its own: a tenant's
// backlog is as large as its SIEM was down long (a million jobs take minutes to delete), and one
// transaction that long would hold back pg_snapshot_xmin for the whole cluster, so every other
// organization's pull feed (events/pull.ts reads below it) and VACUUM's removal of everyone's dead
// rows would wait for it. On the embedded database the other requests run between the batches.
import { BUMP_ROW_VERSION } from '../queue/dueDestinations.js';
import type { Queryable } from '../db/types.js';

/** Jobs or delivery log rows deleted per statement: well under a second, and far under the API's statement limit. */
export const DELETE_BATCH = 5_000;

/**
 * The first step of a delete, in the caller's transaction: the row is disabled and marked deleted
 * (every reader leaves it out, no event gets a job for it any more). Returns whether it was marked
 * now (false: no such destination, or already deleted). Its pending jobs are cleared after the
 * transaction commits (clearDeletedDestinationJobs).
 */
export async function tombstoneDestination(tx: Queryable, orgId: string, id: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE destinations SET enabled = false, deleted_at = now(), ${BUMP_ROW_VERSION} WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL`,
    [orgId, id],
  );
  return rowCount > 0;
}

/**
 * Clears a deleted destination's pending jobs, `batch` at a time, but for farewells and for jobs a
 * worker is sending right now (claimed, lease running): those settle normally, which is what lets a
 * farewell wait for them. Returns the pending jobs cleared, those in flight included (none is
 * retried after this: no claim takes a deleted destination's jobs but its farewell). Nothing for a
 * destination not deleted.
 */
export async function clearDeletedDestinationJobs(db: Queryable, orgId: string, id: string, batch = DELETE_BATCH): Promise<number> {
  let cleared = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM forwarding_jobs WHERE id IN (
         SELECT j.id FROM forwarding_jobs j
          WHERE j.org_id = $1 AND j.destination_id = $2 AND j.status = 'pending' AND NOT j.farewell
            AND NOT (j.claim_id IS NOT NULL AND j.next_attempt_at > now())
            AND EXISTS (SELECT 1 FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NOT NULL)
          LIMIT $3)`,
      [orgId, id, batch],
    );
    cleared += rowCount;
    if (rowCount < batch) break;
  }
  // What is left but the farewell is in flight: as many as a claim takes, counted in one statement.
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM forwarding_jobs j
      WHERE j.org_id = $1 AND j.destination_id = $2 AND j.status = 'pending' AND NOT j.farewell
        AND EXISTS (SELECT 1 FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NOT NULL)`,
    [orgId, id],
  );
  return cleared + rows[0]!.n;
}

/** Whether a deleted destination may go: no farewell of it pending, or deleted longer ago than FAREWELL_GIVE_UP. */
const REMOVABLE = (giveUp: boolean) =>
  `d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NOT NULL
   AND (${giveUp ? `d.deleted_at < now() - ${FAREWELL_GIVE_UP} OR ` : ''}NOT EXISTS (
     SELECT 1 FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'pending' AND j.farewell))`;

/** Farewells older than this are given up on (the key ring lost the credential's key, say). */
const FAREWELL_GIVE_UP = "interval '1 day'";

/**
 * Removes a deleted destination once it may go (REMOVABLE): its jobs and delivery log a batch at a
 * time, then the row (whose trigger and ON DELETE CASCADE, migration 0017, find what a concurrent
 * settle or claim left). Returns whether the row was removed. A farewell cannot become pending again
 * once the row is deleted (no reader sees the row), so the check holds between the batches.
 */
async function removeInBatches(db: Queryable, orgId: string, id: string, giveUp: boolean, batch: number): Promise<boolean> {
  const removable = await db.query(`SELECT 1 FROM destinations d WHERE ${REMOVABLE(giveUp)}`, [orgId, id]);
  if (removable.rowCount === 0) return false;
  // By status, so that each batch walks an index of its own (forwarding_jobs_due, _failed; rows
  // 'done' are the hourly prune's, and the row's trigger takes any left).
  for (const status of ['pending', 'failed']) {
    for (;;) {
      const { rowCount } = await db.query(
        `DELETE FROM forwarding_jobs WHERE id IN (
           SELECT id FROM forwarding_jobs WHERE org_id = $1 AND destination_id = $2 AND status = $3 LIMIT $4)`,
        [orgId, id, status, batch],
      );
      if (rowCount < batch) break;
    }
  }
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM delivery_attempts WHERE org_id = $1 AND id IN (
         SELECT id FROM delivery_attempts WHERE org_id = $1 AND destination_id = $2 LIMIT $3)`,
      [orgId, id, batch],
    );
    if (rowCount < batch) break;
  }
  const { rowCount } = await db.query(`DELETE FROM destinations d WHERE ${REMOVABLE(giveUp)}`, [orgId, id]);
  return rowCount > 0;
}

/**
 * Removes a deleted destination once no farewell of it is pending, with its jobs and delivery log.
 * Returns whether it was removed. Called by the delete itself, after the worker settles a farewell,
 * and by the hourly sweep.
 */
export function purgeDeletedDestination(db: Queryable, orgId: string, id: string, batch = DELETE_BATCH): Promise<boolean> {
  return removeInBatches(db, orgId, id, false, batch);
}

/**
 * The hourly sweep: removes deleted destinations whose farewell is settled (a worker that settled it
 * died before removing the row, or the delete's request ended before its own removal) or was deleted
 * more than a day ago. Returns how many went.
 */
export async function purgeDeletedDestinations(db: Queryable, batch = DELETE_BATCH): Promise<number> {
  const { rows } = await db.query<{ org_id: string; id: string }>(
    `SELECT d.org_id, d.id FROM destinations d WHERE d.deleted_at IS NOT NULL
        AND (d.deleted_at < now() - ${FAREWELL_GIVE_UP}
             OR NOT EXISTS (SELECT 1 FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'pending' AND j.farewell))`,
  );
  let removed = 0;
  for (const r of rows) if (await removeInBatches(db, r.org_id, r.id, true, batch)) removed++;
  return removed;
}
