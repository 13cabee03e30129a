import type { Queryable } from '../db/types.js';
import { QUEUE_COUNT_CAP } from './countCap.js';

/**
 * The destination's dead letters, as job `j` ($1 organization, $2 destination): walked by
 * forwarding_jobs_failed (destination_id, id), the organization checked once on the destination's row
 * (destination ids are unique, and a job's destination is of its own organization). A deleted
 * destination (its row waits for a farewell) has none to list, count or replay. With
 * "j.org_id = $1" on the jobs themselves, the planner could instead read every job of the organization
 * by forwarding_jobs_event (org_id, event_id): it did whenever the statistics said the organization
 * had no jobs and other organizations' dead letters were spread over many destinations (a new tenant
 * replaying its first backlog), on both databases.
 */
const DEAD_LETTERS_OF_J = `j.destination_id = $2 AND j.status = 'failed' AND EXISTS (SELECT 1 FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NULL)`;

export interface FailedEvent {
  job_id: number;
  event_id: string;
  attempts: number;
  last_error: string | null;
  last_status_code: number | null;
  failed_at: string | null;
  created_at: string;
  /**
   * The (metadata-only) wire event as its stored JSON text (as the API wrote it, what a webhook
   * destination receives): spliced into the answer as it is (api/storedJsonPage.ts), never parsed and serialised again (a
   * page of 1,000 large events cost the API's thread a fifth of a second or more so).
   */
  event: string;
}

/**
 * Dead-lettered jobs of one destination, newest first, with the event, and how many there are up to
 * QUEUE_COUNT_CAP (the cap means "at least").
 */
export async function listFailedEvents(
  db: Queryable,
  orgId: string,
  destinationId: string,
  page: { limit: number; beforeId: number | null },
): Promise<{ events: FailedEvent[]; total: number; next_before_id: number | null }> {
  const { rows } = await db.query<{
    id: number;
    event_id: string;
    attempts: number;
    last_error: string | null;
    last_status_code: number | null;
    settled_at: Date | null;
    created_at: Date;
    payload_text: string;
  }>(
    `SELECT j.id, j.event_id, j.attempts, j.last_error, j.last_status_code, j.settled_at, j.created_at, e.payload::text AS payload_text
       FROM forwarding_jobs j JOIN audit_events e ON e.org_id = j.org_id AND e.id = j.event_id
      WHERE ${DEAD_LETTERS_OF_J} AND ($3::bigint IS NULL OR j.id < $3)
      ORDER BY j.id DESC LIMIT $4`,
    [orgId, destinationId, page.beforeId, page.limit],
  );
  // Capped, and walking forwarding_jobs_failed by destination alone, as the view's counts do
  // (destinations/reads.ts); the organization is checked on the destination's row instead (no row, no count).
  const { rows: count } = await db.query<{ n: number }>(
    `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM forwarding_jobs j WHERE j.destination_id = d.id AND j.status = 'failed' LIMIT $3) f) AS n
       FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NULL`,
    [orgId, destinationId, QUEUE_COUNT_CAP],
  );
  return {
    events: rows.map((r) => ({
      job_id: r.id,
      event_id: r.event_id,
      attempts: r.attempts,
      last_error: r.last_error,
      last_status_code: r.last_status_code,
      failed_at: r.settled_at ? new Date(r.settled_at).toISOString() : null,
      created_at: new Date(r.created_at).toISOString(),
      event: r.payload_text,
    })),
    total: count[0]?.n ?? 0,
    next_before_id: rows.length === page.limit ? rows[rows.length - 1]!.id : null,
  };
}

/**
 * In a dead-letter replay batch's transaction, before it revives anything: locks the destination's row
 * if it is not deleted, and answers whether it is. A delete (destinations/deletion.ts) committed
 * before this answers false, so the replay revives nothing and records nothing; one that comes after
 * waits for the batch, and then drops what it revived with the rest of the destination's backlog. The
 * organization's row is share-locked first, in the order a destination change takes the two
 * (destinations/service.ts: the organization, then the row), as the replay's trail event would after.
 */
export async function lockReplayableDestination(tx: Queryable, orgId: string, destinationId: string): Promise<boolean> {
  await tx.query('SELECT 1 FROM orgs WHERE id = $1 FOR KEY SHARE', [orgId]);
  const { rows } = await tx.query('SELECT 1 FROM destinations WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL FOR NO KEY UPDATE', [orgId, destinationId]);
  return rows.length > 0;
}

/**
 * Puts a dead-lettered job back in the queue with a fresh retry schedule (the caller adds the WHERE):
 * the one way a dead letter leaves the list, shared by the dead-letter replay and the range replay.
 */
export const REVIVE_SET = `UPDATE forwarding_jobs SET status = 'pending', attempts = 0, next_attempt_at = now(), claim_id = NULL, settled_at = NULL, shed_since = NULL, shed_due_at = NULL`;

/**
 * Whether the event `e` is beyond a sendable distance (a parameter, in ms) from the database's
 * now(), on each side: the one condition replayFailed leaves out and the counts count.
 */
const BEYOND: Readonly<Record<'past' | 'future', (ms: string) => string>> = {
  past: (ms) => `e.occurred_at <= now() - make_interval(secs => ${ms}::float8 / 1000)`,
  future: (ms) => `e.occurred_at >= now() + make_interval(secs => ${ms}::float8 / 1000)`,
};

/**
 * replayFailed's statement. $1 org, $2 destination, $3 job ids or null, $4 batch, $5 maxAgeMs or null,
 * $6 upToJobId or null, $7 maxAheadMs or null.
 *
 * Walks the destination's dead letters in id order (forwarding_jobs_failed) and reads everything else
 * per dead letter, behind OFFSET 0 fences: on statistics taken before the dead letters (a replay is
 * what follows a pile-up of them) the planner otherwise read the organization's events and jobs by
 * org_id alone for each one, or updated by walking all the organization's jobs. The chosen rows are
 * updated by primary key (= ANY of an array: no join, no other index, for the planner to choose);
 * the subquery already scoped them to the organization and destination.
 */
export const REPLAY_FAILED_SQL = `${REVIVE_SET}
      WHERE id = ANY(ARRAY(
        SELECT j.id FROM forwarding_jobs j
         CROSS JOIN LATERAL (SELECT e.occurred_at FROM audit_events e WHERE e.org_id = j.org_id AND e.id = j.event_id OFFSET 0) e
         WHERE ${DEAD_LETTERS_OF_J}
           AND ($3::bigint[] IS NULL OR j.id = ANY($3::bigint[]))
           AND ($5::float8 IS NULL OR NOT ${BEYOND.past('$5')})
           AND ($7::float8 IS NULL OR NOT ${BEYOND.future('$7')})
           AND ($6::bigint IS NULL OR j.id <= $6)
           -- Never a second pending job for one event: one already waiting (a range replay queued
           -- it), or an older dead letter of the same event (rows an earlier version left) goes first.
           -- Each dead letter's event is looked up by (org_id, event_id) behind an OFFSET 0 fence, as in
           -- QUEUE_REPLAYED_SQL (replayRange.ts): a plain NOT EXISTS ran as an anti join probing by
           -- org_id alone on stale statistics, or hashing all the destination's jobs on fresh ones.
           AND NOT EXISTS (SELECT 1 FROM (SELECT p.id, p.destination_id, p.status FROM forwarding_jobs p
                                           WHERE p.org_id = j.org_id AND p.event_id = j.event_id OFFSET 0) p
                            WHERE p.destination_id = j.destination_id AND (p.status = 'pending' OR (p.status = 'failed' AND p.id < j.id)))
         ORDER BY j.id LIMIT $4))`;

/**
 * Puts dead-lettered jobs (all, or the given ids) back in the queue with a fresh retry schedule, in
 * bounded batches (callers that replay a lot loop and show progress). `maxAgeMs` leaves alone events
 * older than the SIEM keeps (Datadog: 18 h), and `maxAheadMs` events dated further ahead than it
 * accepts (Datadog: 2 h): sending them would be answered 2xx and then dropped, which would pretend a
 * success (the worker dead-letters them again at once). countTooOld and countTooFarAhead count them
 * once the replay is done, so the caller can say so. Both are measured on the database's clock.
 */
export async function replayFailed(
  db: Queryable,
  orgId: string,
  destinationId: string,
  jobIds: number[] | null,
  opts: { batch?: number; maxAgeMs?: number | null; maxAheadMs?: number | null; upToJobId?: number | null } = {},
): Promise<{ replayed: number }> {
  const { rowCount } = await db.query(REPLAY_FAILED_SQL, [
    orgId,
    destinationId,
    jobIds,
    opts.batch ?? 10_000,
    opts.maxAgeMs ?? null,
    opts.upToJobId ?? null,
    opts.maxAheadMs ?? null,
  ]);
  if (rowCount > 0) await db.query(`SELECT pg_notify('aegis_jobs', '')`);
  return { replayed: rowCount };
}

/**
 * Dead letters of the destination (all, or the given ids) older than `maxAgeMs`, the ones a replay
 * leaves (replayFailed), up to QUEUE_COUNT_CAP: asked once a replay is done, when they are the
 * destination's only dead letters left, so the walk reads about as many as it counts. Counted on every
 * batch and without a bound, 80,000 of them made each replay request take a second or more.
 */
export async function countTooOld(
  db: Queryable,
  orgId: string,
  destinationId: string,
  jobIds: number[] | null,
  maxAgeMs: number,
  /** The replay's bound (lastFailedJobId when it started): dead letters made since were not its to replay. */
  upToJobId: number | null = null,
): Promise<number> {
  return countBeyond(db, 'past', orgId, destinationId, jobIds, maxAgeMs, upToJobId);
}

/** As countTooOld, for dead letters dated more than `maxAheadMs` ahead (a SIEM's future window). */
export async function countTooFarAhead(
  db: Queryable,
  orgId: string,
  destinationId: string,
  jobIds: number[] | null,
  maxAheadMs: number,
  upToJobId: number | null = null,
): Promise<number> {
  return countBeyond(db, 'future', orgId, destinationId, jobIds, maxAheadMs, upToJobId);
}

/**
 * Walks the destination's dead letters (forwarding_jobs_failed) and reads each one's event by its key
 * (org_id, id) behind an OFFSET 0 fence, as REPLAY_FAILED_SQL does: with a plain join, on statistics
 * from before the dead letters (the organization had a few fresh events, none old enough), the
 * planner read for each dead letter the organization's old events by (org_id, occurred_at) and
 * matched the event id as a join filter: about 5,000 index entries per dead letter, 32-51 s and
 * 7,500,000 buffers to count to the cap at 1,500,000 events. Behind the fence the lookup is planned on
 * its own with the outer row's key as its only conditions, so the primary key answers it with one
 * row, and the distance is checked on that row: one probe per dead letter whatever the statistics.
 */
async function countBeyond(
  db: Queryable,
  side: keyof typeof BEYOND,
  orgId: string,
  destinationId: string,
  jobIds: number[] | null,
  distanceMs: number,
  upToJobId: number | null,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (
       SELECT 1 FROM forwarding_jobs j
        CROSS JOIN LATERAL (SELECT e.occurred_at FROM audit_events e WHERE e.org_id = j.org_id AND e.id = j.event_id OFFSET 0) e
        WHERE ${DEAD_LETTERS_OF_J}
          AND ($3::bigint[] IS NULL OR j.id = ANY($3::bigint[]))
          AND ${BEYOND[side]('$4')}
          AND ($6::bigint IS NULL OR j.id <= $6)
        LIMIT $5) t`,
    [orgId, destinationId, jobIds, distanceMs, QUEUE_COUNT_CAP, upToJobId],
  );
  return rows[0]?.n ?? 0;
}

/** The newest dead-lettered job id: replays stop there, so jobs dead-lettered again meanwhile wait for the next replay. */
export async function lastFailedJobId(db: Queryable, orgId: string, destinationId: string): Promise<number | null> {
  const { rows } = await db.query<{ id: number | null }>(`SELECT max(j.id) AS id FROM forwarding_jobs j WHERE ${DEAD_LETTERS_OF_J}`, [orgId, destinationId]);
  return rows[0]?.id ?? null;
}

export async function countFailed(db: Queryable, orgId: string, destinationId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM forwarding_jobs j WHERE ${DEAD_LETTERS_OF_J}`, [orgId, destinationId]);
  return rows[0]?.n ?? 0;
}
