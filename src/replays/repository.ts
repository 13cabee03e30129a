import type { Queryable } from '../db/types.js';
import type { ReplayBatchResult, WindowPosition } from '../queue/replayRange.js';
import { ROW_VERSION } from '../queue/dueDestinations.js';

/** Every SQL statement about the `replays` table (background range replays, docs/history.md). */

/** NOTIFY channel: a replay was accepted (or its lease given up) and may be run by any worker process. */
export const REPLAYS_CHANNEL = 'aegis_replays';

export type ReplayStatus = 'running' | 'done' | 'cancelled' | 'failed';

export interface ReplayRow {
  org_id: string;
  id: string;
  destination_id: string;
  window_from: Date;
  window_to: Date;
  start_at: Date;
  status: ReplayStatus;
  scanned: number;
  queued: number;
  filtered_out: number;
  already_pending: number;
  skipped_too_old: number;
  total_estimate: number;
  cursor_occurred_at: Date | null;
  notes: string | null;
  error: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

// bigint columns come back as text from pg: counters are read as int (a replay is capped far below 2^31).
const COLUMNS = `org_id, id, destination_id, window_from, window_to, start_at, status,
  scanned::int AS scanned, queued::int AS queued, filtered_out::int AS filtered_out,
  already_pending::int AS already_pending, skipped_too_old::int AS skipped_too_old,
  total_estimate::int AS total_estimate, cursor_occurred_at, notes, error, created_by,
  created_at, updated_at, finished_at`;

/** A batch's events that made no job for being already waiting: the rest of `scanned` has a reason of its own. */
const alreadyPending = (b: ReplayBatchResult) => b.scanned - b.filteredOut - b.queued - b.skippedTooOld;

/**
 * Locks the organization's row and counts its running replays: the per-organization cap is checked
 * under this lock, so two requests at once cannot each see room for one more.
 */
export async function lockRunningReplayCount(tx: Queryable, orgId: string): Promise<number> {
  await tx.query('SELECT id FROM orgs WHERE id = $1 FOR UPDATE', [orgId]);
  return runningReplayCount(tx, orgId);
}

/** The organization's running replays, unlocked: a request's first look at its cap. */
export async function runningReplayCount(db: Queryable, orgId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM replays WHERE org_id = $1 AND status = 'running'`, [orgId]);
  return rows[0]?.n ?? 0;
}

/** A new running replay whose first batch was queued in the same transaction (`first`). */
export async function insertReplay(
  tx: Queryable,
  r: {
    orgId: string;
    id: string;
    destinationId: string;
    from: Date;
    to: Date;
    start: Date;
    skippedTooOld: number;
    totalEstimate: number;
    notes: string | null;
    createdBy: string;
    first: ReplayBatchResult;
  },
): Promise<void> {
  const f = r.first;
  await tx.query(
    `INSERT INTO replays (org_id, id, destination_id, window_from, window_to, start_at, skipped_too_old, total_estimate, notes, created_by,
                          scanned, queued, filtered_out, already_pending, cursor_occurred_at, cursor_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::timestamptz, $16)`,
    [
      r.orgId,
      r.id,
      r.destinationId,
      r.from,
      r.to,
      r.start,
      r.skippedTooOld + f.skippedTooOld,
      r.totalEstimate,
      r.notes,
      r.createdBy,
      f.scanned,
      f.queued,
      f.filteredOut,
      alreadyPending(f),
      f.last?.occurredAt ?? null,
      f.last?.id ?? null,
    ],
  );
}

export async function getReplay(db: Queryable, orgId: string, id: string): Promise<ReplayRow | null> {
  const { rows } = await db.query<ReplayRow>(`SELECT ${COLUMNS} FROM replays WHERE org_id = $1 AND id = $2`, [orgId, id]);
  return rows[0] ?? null;
}

/**
 * The newest running replay of each of these destinations (the dashboard's cards follow it): one
 * statement for a page of cards, on the partial index of running replays.
 */
export async function runningReplayIds(db: Queryable, orgId: string, destinationIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (destinationIds.length === 0) return out;
  const { rows } = await db.query<{ destination_id: string; id: string }>(
    `SELECT DISTINCT ON (destination_id) destination_id, id FROM replays
      WHERE org_id = $1 AND status = 'running' AND destination_id = ANY($2::text[])
      ORDER BY destination_id, created_at DESC, id DESC`,
    [orgId, destinationIds],
  );
  for (const r of rows) out.set(r.destination_id, r.id);
  return out;
}

/** A destination's replays, newest first. */
export async function listReplays(db: Queryable, orgId: string, destinationId: string, limit: number): Promise<ReplayRow[]> {
  const { rows } = await db.query<ReplayRow>(
    `SELECT ${COLUMNS} FROM replays WHERE org_id = $1 AND destination_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3`,
    [orgId, destinationId, limit],
  );
  return rows;
}

/** How a running replay ends cancelled (the caller adds the WHERE): by its user, or with its destination. */
const CANCEL_SET = `UPDATE replays SET status = 'cancelled', finished_at = now(), updated_at = now(), claim_id = NULL, lease_until = NULL`;

/**
 * Stops a running replay. Waits for the row lock a batch in progress holds, so the batch either
 * committed before (its jobs stay queued) or sees the replay cancelled and queues nothing.
 * Answers the status after the call, or null when there is no such replay.
 */
export async function cancelReplay(db: Queryable, orgId: string, id: string): Promise<ReplayStatus | null> {
  const { rows } = await db.query<{ status: ReplayStatus }>(
    `${CANCEL_SET}
      WHERE org_id = $1 AND id = $2 AND status = 'running' RETURNING status`,
    [orgId, id],
  );
  if (rows[0]) return rows[0].status;
  const { rows: now } = await db.query<{ status: ReplayStatus }>('SELECT status FROM replays WHERE org_id = $1 AND id = $2', [orgId, id]);
  return now[0]?.status ?? null;
}

/** A replay claimed by one process: what it needs to go on from the cursor. */
export interface ClaimedReplay {
  orgId: string;
  id: string;
  destinationId: string;
  start: Date;
  to: Date;
  cursor: WindowPosition | null;
  claimId: string;
}

/**
 * Claims one running replay nobody holds (never claimed, lease given up, or lease expired: its
 * process died), oldest first, for `leaseMs`. SKIP LOCKED: processes scanning at once claim
 * different replays.
 */
export async function claimReplay(
  db: Queryable,
  claimId: string,
  leaseMs: number,
  only?: { orgId: string; id: string },
  /** Organizations whose replays the claiming process already walks: theirs come last. */
  busyOrgs: readonly string[] = [],
): Promise<ClaimedReplay | null> {
  const { rows } = await db.query<{
    org_id: string;
    id: string;
    destination_id: string;
    start_at: Date;
    window_to: Date;
    cursor_occurred_at: string | null;
    cursor_event_id: string | null;
  }>(
    `UPDATE replays r SET claim_id = $1, lease_until = now() + $2 * interval '1 millisecond', updated_at = now()
       FROM (SELECT org_id, id FROM replays
              WHERE status = 'running' AND (lease_until IS NULL OR lease_until < now())
                AND ($3::text IS NULL OR (org_id = $3 AND id = $4))
              -- Fair turns: another organization's replay before one of an organization this process
              -- already walks, then the one that waited longest since its last batch (each batch and
              -- each release moves updated_at), so replays that give their slot up take turns.
              ORDER BY (org_id = ANY($5::text[])), updated_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED) c
      WHERE r.org_id = c.org_id AND r.id = c.id
      RETURNING r.org_id, r.id, r.destination_id, r.start_at, r.window_to, r.cursor_occurred_at::text AS cursor_occurred_at, r.cursor_event_id`,
    [claimId, leaseMs, only?.orgId ?? null, only?.id ?? null, busyOrgs],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    orgId: r.org_id,
    id: r.id,
    destinationId: r.destination_id,
    start: new Date(r.start_at),
    to: new Date(r.window_to),
    cursor: r.cursor_occurred_at !== null && r.cursor_event_id !== null ? { occurredAt: r.cursor_occurred_at, id: r.cursor_event_id } : null,
    claimId,
  };
}

/**
 * In a batch's transaction, before it queues anything: locks the replay; if this claim still runs it,
 * answers the destination's SIEM (its stored id, whose age limit clamps the batch), filter and row
 * version as of this batch (runner.ts): a PATCH between two batches applies from the next batch on, not from the
 * next claim, which a background turn or the command line's walk may not make for a long while.
 * False: the batch queues nothing. The destination's row is share-locked first, as the batch's job
 * insert locks it (replayRange.ts): a destination being deleted then makes the batch wait for it at
 * the start, rather than both waiting on each other. A destination marked deleted (its row waits for
 * a farewell) or gone ends the replay here, cancelled, in case it outlived the delete (the delete
 * cancels it too: cancelDestinationReplays): no job is queued for it and the organization's slot is
 * freed.
 *
 * Lock order: the destination's row (FOR KEY SHARE), the replay's, the destination's replay turn
 * (queueReplayBatch), then jobs.
 */
export async function lockForBatch(tx: Queryable, c: ClaimedReplay): Promise<false | BatchDestination> {
  const dest = await lockBatchDestination(tx, c.orgId, c.destinationId);
  const { rows } = await tx.query<{ ok: boolean }>(
    `SELECT (status = 'running' AND claim_id = $3) AS ok FROM replays WHERE org_id = $1 AND id = $2 FOR UPDATE`,
    [c.orgId, c.id, c.claimId],
  );
  if (dest?.live !== true) {
    // This replay only: cancelling the destination's others here would wait for their rows while this
    // one is held, and two walkers of one deleted destination would each wait for the other (each
    // ends its own at its next batch; the delete itself cancels them all).
    await cancelReplay(tx, c.orgId, c.id);
    return false;
  }
  return rows[0]?.ok === true && { siem: dest.siem, filter: dest.filter, version: dest.version };
}

/** The destination as a replay batch reads it: its SIEM, filter and row version (every PATCH moves it). */
export interface BatchDestination {
  siem: string;
  filter: Record<string, unknown> | null;
  version: string;
}

/**
 * A replay batch's first step, in its transaction (the background walk's, lockForBatch, and the
 * request's first batch, service.ts): share-locks the destination's row as the batch's job insert
 * does (FOR KEY SHARE) and reads it as of this batch, so a PATCH committed before the batch applies
 * to it. `live` false: marked deleted (its row waits for a farewell); null: gone.
 */
export async function lockBatchDestination(tx: Queryable, orgId: string, destinationId: string): Promise<(BatchDestination & { live: boolean }) | null> {
  const { rows } = await tx.query<BatchDestination & { live: boolean }>(
    `SELECT d.deleted_at IS NULL AS live, d.siem, d.filter, ${ROW_VERSION} AS version FROM destinations d WHERE d.org_id = $1 AND d.id = $2 FOR KEY SHARE`,
    [orgId, destinationId],
  );
  return rows[0] ?? null;
}

/**
 * Cancels every running replay of a destination (its delete, in the delete's transaction): a replay
 * of a deleted destination would hold one of its organization's running slots, and walk on, until
 * the row was purged. Waits for a batch in progress, as cancelReplay does. Returns how many ended.
 */
export async function cancelDestinationReplays(tx: Queryable, orgId: string, destinationId: string): Promise<number> {
  const { rowCount } = await tx.query(
    `${CANCEL_SET}
      WHERE org_id = $1 AND destination_id = $2 AND status = 'running'`,
    [orgId, destinationId],
  );
  return rowCount;
}

/**
 * In the same transaction, after the batch: its progress, the new cursor and a renewed lease; done when
 * the window is walked. Events the batch skipped as too old by now join skipped_too_old, after the
 * plan's own count of the trimmed start: each is counted once, as the cursor moves past it.
 */
export async function recordBatch(tx: Queryable, c: ClaimedReplay, b: ReplayBatchResult, done: boolean, leaseMs: number): Promise<void> {
  await tx.query(
    `UPDATE replays SET scanned = scanned + $3, queued = queued + $4, filtered_out = filtered_out + $5, already_pending = already_pending + $6,
            skipped_too_old = skipped_too_old + $11,
            cursor_occurred_at = COALESCE($7::timestamptz, cursor_occurred_at), cursor_event_id = COALESCE($8, cursor_event_id),
            status = CASE WHEN $9 THEN 'done' ELSE status END,
            finished_at = CASE WHEN $9 THEN now() ELSE finished_at END,
            claim_id = CASE WHEN $9 THEN NULL ELSE claim_id END,
            lease_until = CASE WHEN $9 THEN NULL ELSE now() + $10 * interval '1 millisecond' END,
            updated_at = now()
      WHERE org_id = $1 AND id = $2`,
    [c.orgId, c.id, b.scanned, b.queued, b.filteredOut, alreadyPending(b), b.last?.occurredAt ?? null, b.last?.id ?? null, done, leaseMs, b.skippedTooOld],
  );
}

/** Gives a claim up (a process stopping): the replay is at once free for another process. */
/**
 * Gives a claim up. `pauseMs` > 0: nobody may claim the replay again for that long (its lease_until
 * is the end of the pause), where a batch keeps losing its connection.
 */
export async function releaseReplay(db: Queryable, c: ClaimedReplay, pauseMs = 0): Promise<void> {
  await db.query(
    `UPDATE replays SET claim_id = NULL, updated_at = now(),
            lease_until = CASE WHEN $4::int > 0 THEN now() + $4::int * interval '1 millisecond' END
      WHERE org_id = $1 AND id = $2 AND claim_id = $3`,
    [c.orgId, c.id, c.claimId, pauseMs],
  );
}

/** Ends a replay that cannot go on (the error is a short text without secrets). */
export async function failReplay(db: Queryable, c: ClaimedReplay, error: string): Promise<void> {
  await db.query(
    `UPDATE replays SET status = 'failed', error = $4, finished_at = now(), updated_at = now(), claim_id = NULL, lease_until = NULL
      WHERE org_id = $1 AND id = $2 AND claim_id = $3 AND status = 'running'`,
    [c.orgId, c.id, c.claimId, error.slice(0, 500)],
  );
}

/** The status of a replay (null: gone, e.g. its destination was deleted). */
export async function replayStatus(db: Queryable, orgId: string, id: string): Promise<ReplayStatus | null> {
  const { rows } = await db.query<{ status: ReplayStatus }>('SELECT status FROM replays WHERE org_id = $1 AND id = $2', [orgId, id]);
  return rows[0]?.status ?? null;
}

/** Finished replays older than the retention horizon go (running ones never do). */
export async function pruneReplays(db: Queryable, retentionDays: number): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM replays WHERE status <> 'running' AND finished_at < now() - $1 * interval '1 day'`, [retentionDays]);
  return rowCount;
}
