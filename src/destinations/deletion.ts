// A destination's two-step delete: tombstone now, remove once its farewell is settled (or given up on).
//
// Its jobs and delivery log go a batch at a time, each batch a statement of its own: a tenant's
// backlog is as large as its SIEM was down long (a million jobs take minutes to delete), and one
// transaction that long would hold back pg_snapshot_xmin for the whole cluster, so every other
// organization's pull feed (events/pull.ts reads below it) and VACUUM's removal of everyone's dead
// rows would wait for it. On the embedded database the other requests run between the batches.
import { BUMP_ROW_VERSION } from '../queue/dueDestinations.js';
import { notifySettingsChanged } from '../queue/types.js';
import type { Queryable } from '../db/types.js';
import type { Stopped } from './backlogLane.js';

const never: Stopped = () => false;

/** Jobs or delivery log rows deleted per statement: well under a second, and far under the API's statement limit. */
export const DELETE_BATCH = 5_000;

/**
 * The first step of a delete, in the caller's transaction: the row is disabled and marked deleted
 * (every reader leaves it out, no event gets a job for it any more, and no claim takes its jobs but
 * its farewell). Returns its pending jobs but farewells: all dropped now, those a worker is sending
 * included (none is retried after this), counted here, in the transaction, because the batches that
 * clear them race the worker's own purge. 0 when there is no such destination or it was deleted.
 * The jobs are cleared after the transaction commits (clearDeletedDestinationJobs).
 */
export async function tombstoneDestination(tx: Queryable, orgId: string, id: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `WITH gone AS (
       UPDATE destinations SET enabled = false, deleted_at = now(), ${BUMP_ROW_VERSION} WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id
     ),
     -- Workers hear of it on commit: a claim being sent stops there (queue/types.ts SETTINGS_CHANGED).
     told AS (SELECT ${notifySettingsChanged('id')} FROM gone)
     SELECT (SELECT count(*) FROM forwarding_jobs WHERE org_id = $1 AND destination_id = $2 AND status = 'pending' AND NOT farewell)::int AS n,
            (SELECT count(*) FROM told)::int AS told
       FROM gone`,
    [orgId, id],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Runs a batch statement until one deletes nothing, and returns the rows deleted. A short batch is no
 * end: another deleter of the same rows (the API's clear and the worker's purge run at once when a
 * farewell goes out quickly) makes a batch skip the rows it took meanwhile, while others remain, and
 * whatever a loop leaves the row's trigger would delete in one long statement.
 */
async function untilNone(db: Queryable, sql: string, values: unknown[], stopped: Stopped = never): Promise<number> {
  let deleted = 0;
  for (;;) {
    if (stopped()) return deleted;
    const { rowCount } = await db.query(sql, values);
    if (rowCount === 0) return deleted;
    deleted += rowCount;
  }
}

/**
 * Clears a deleted destination's pending jobs, `batch` at a time, but for farewells and for jobs a
 * worker is sending right now (claimed, lease running): those settle normally, which is what lets a
 * farewell wait for them. Returns how many it deleted. Nothing for a destination not deleted.
 */
export function clearDeletedDestinationJobs(db: Queryable, orgId: string, id: string, batch = DELETE_BATCH, stopped: Stopped = never): Promise<number> {
  return untilNone(
    db,
    `DELETE FROM forwarding_jobs WHERE id IN (
       SELECT j.id FROM forwarding_jobs j
        WHERE j.org_id = $1 AND j.destination_id = $2 AND j.status = 'pending' AND NOT j.farewell
          AND NOT (j.claim_id IS NOT NULL AND j.next_attempt_at > now())
          AND EXISTS (SELECT 1 FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NOT NULL)
        LIMIT $3)`,
    [orgId, id, batch],
    stopped,
  );
}

/**
 * Whether a deleted destination `d` may go: no farewell of it pending, or (`giveUp`, the hourly sweep)
 * deleted longer ago than FAREWELL_GIVE_UP. One condition for the sweep's candidates and each removal.
 */
const REMOVABLE = (giveUp: boolean) =>
  `d.deleted_at IS NOT NULL
   AND (${giveUp ? `d.deleted_at < now() - ${FAREWELL_GIVE_UP} OR ` : ''}NOT EXISTS (
     SELECT 1 FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'pending' AND j.farewell))`;
/** REMOVABLE for one destination, $1 its organization and $2 its id. */
const THIS_REMOVABLE = (giveUp: boolean) => `d.org_id = $1 AND d.id = $2 AND ${REMOVABLE(giveUp)}`;

/** Farewells older than this are given up on (the key ring lost the credential's key, say). */
const FAREWELL_GIVE_UP = "interval '1 day'";

/**
 * Removes a deleted destination once it may go (REMOVABLE): its jobs and delivery log a batch at a
 * time, then the row (whose trigger and ON DELETE CASCADE, migration 0017, find what a concurrent
 * settle or claim left). Returns whether the row was removed. A farewell cannot become pending again
 * once the row is deleted (no reader sees the row), so the check holds between the batches.
 */
async function removeInBatches(db: Queryable, orgId: string, id: string, giveUp: boolean, batch: number, stopped: Stopped = never): Promise<boolean> {
  if (stopped()) return false;
  const removable = await db.query(`SELECT 1 FROM destinations d WHERE ${THIS_REMOVABLE(giveUp)}`, [orgId, id]);
  if (removable.rowCount === 0) return false;
  // By status, so that each batch walks an index of its own (forwarding_jobs_due, _failed; rows
  // 'done' are the hourly prune's, and the row's trigger takes any left).
  for (const status of ['pending', 'failed']) {
    await untilNone(
      db,
      `DELETE FROM forwarding_jobs WHERE id IN (
         SELECT id FROM forwarding_jobs WHERE org_id = $1 AND destination_id = $2 AND status = $3 LIMIT $4)`,
      [orgId, id, status, batch],
      stopped,
    );
  }
  // By ctid, as retention does (queue/prune.ts): with (org_id, id) the planner hashed the batch
  // against the organization's whole log, a cost per batch that grew with the log.
  await untilNone(
    db,
    `DELETE FROM delivery_attempts WHERE ctid = ANY(ARRAY(
       SELECT ctid FROM delivery_attempts WHERE org_id = $1 AND destination_id = $2 LIMIT $3))`,
    [orgId, id, batch],
    stopped,
  );
  // Stopped part-way, the row stays (its trigger would delete the rest in one long statement).
  if (stopped()) return false;
  const { rowCount } = await db.query(`DELETE FROM destinations d WHERE ${THIS_REMOVABLE(giveUp)}`, [orgId, id]);
  return rowCount > 0;
}

/**
 * Removes a deleted destination once no farewell of it is pending, with its jobs and delivery log.
 * Returns whether it was removed. Called by the delete itself, after the worker settles a farewell,
 * and by the hourly sweep.
 */
export function purgeDeletedDestination(db: Queryable, orgId: string, id: string, batch = DELETE_BATCH, stopped: Stopped = never): Promise<boolean> {
  return removeInBatches(db, orgId, id, false, batch, stopped);
}

/**
 * The hourly sweep: removes deleted destinations whose farewell is settled (a worker that settled it
 * died before removing the row, or the delete's request ended before its own removal) or was deleted
 * more than a day ago. Returns how many went.
 */
export async function purgeDeletedDestinations(db: Queryable, batch = DELETE_BATCH): Promise<number> {
  const { rows } = await db.query<{ org_id: string; id: string }>(`SELECT d.org_id, d.id FROM destinations d WHERE ${REMOVABLE(true)}`);
  let removed = 0;
  for (const r of rows) if (await removeInBatches(db, r.org_id, r.id, true, batch)) removed++;
  return removed;
}
