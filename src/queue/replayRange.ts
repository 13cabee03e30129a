import type { Db, Queryable } from '../db/types.js';
import { JOBS_CHANNEL } from './types.js';
import { REVIVE_SET } from './deadLetters.js';

/**
 * A range replay re-sends the organization's audit decisions, not its configuration trail (ids
 * "cfg_", docs/trail.md): replayed to another destination, "destination_deleted" would read as news.
 * The trail stays readable through the pull API, the export and the Activity page.
 */
const NOT_TRAIL = `left(e.id, 4) <> 'cfg_'`;

/** Where a range replay continues: after the event (occurred_at, id) in window order. */
export interface WindowPosition {
  /** occurred_at as the database printed it (exact to the microsecond; a JS Date keeps milliseconds). */
  occurredAt: string;
  id: string;
}

/** One batch's outcome. */
export interface ReplayBatchResult {
  scanned: number;
  queued: number;
  filteredOut: number;
  /**
   * Events walked but older than the SIEM accepts when the batch ran (`maxAgeMs`): not queued, and
   * counted here rather than filtered out or already pending. Part of `scanned`.
   */
  skippedTooOld: number;
  last: WindowPosition | null;
  /** Set when the `before` hook said no: nothing was read or queued. */
  aborted?: true;
}

/** What a batch queues, as its `before` hook read it (true, or a rule left out: no such limit). */
export interface BatchRules {
  /** The SIEM's sendable age: older events are skipped, not queued (null: no limit). */
  maxAgeMs?: number | null;
  /**
   * The destination's filter over the batch's wire events (null: every event), as live events are
   * routed: which of them it matches, in order. Asynchronous, so that the caller checks in slices of
   * the event loop (filters/loopSlice.ts selectInSlices): a batch is up to 50,000 events.
   */
  select?: ((payloads: readonly Record<string, unknown>[]) => Promise<boolean[]>) | null;
}

/**
 * Work a caller does inside the batch's transaction (a background replay: its row lock and its
 * progress), so that the jobs and the record of having queued them commit together or not at all.
 */
export interface ReplayBatchHooks {
  /**
   * Runs first; false: queue nothing and answer `aborted` (e.g. the replay was cancelled meanwhile).
   * It may instead answer the batch's rules as read in this transaction (the destination's row, under
   * its lock), so that a SIEM or filter changed between two batches applies from the next batch on.
   */
  before?(tx: Queryable): Promise<boolean | BatchRules>;
  /** Runs last, with the batch's outcome; throwing rolls the whole batch back. */
  after?(tx: Queryable, result: ReplayBatchResult): Promise<void>;
}

/**
 * Queues a job for $2 for each event id of $3 with no pending job for that destination yet, and
 * NOTIFYs workers (delivered on commit) when it queued any. $1: the organization.
 *
 * Why the duplicate check looks up each event's jobs by (org_id, event_id) behind an OFFSET 0 fence,
 * not a plain NOT EXISTS on (destination, event, pending): the plain form leaves the plan to the
 * statistics, and a replay is what makes them stale (it adds the destination's pending jobs by the
 * hundred thousand between two ANALYZEs, autovacuum's or, on PGlite, db/maintenance.ts's). Believing the destination
 * has almost no pending jobs, the planner hashed all of them for every batch, or probed through
 * forwarding_jobs_due (by destination), so a replay of n events read about n^2/10,000 index entries
 * (docs/BENCHMARKS.md, range replay). Behind the fence the lookup has two conditions, the
 * organization and the outer row's event, and neither the destination nor the status (a subquery with
 * OFFSET is neither merged into the statement nor given the outer conditions): it runs once per event,
 * not as a join with a side to hash, and only forwarding_jobs_event (org_id, event_id) matches both
 * conditions (the partial indexes need status = 'pending'). A scan of the table per event is priced
 * by the table's current size, which the planner reads from the table itself, not from the
 * statistics. Each probe reads that event's jobs (one per destination and replay, until delivered:
 * a settle deletes a delivered job): a cost per event that does not grow with the history or the queue.
 *
 * An event dead-lettered for this destination is not given a second job: REVIVE_REPLAYED_SQL puts
 * its dead letter back in the queue instead, as a dead-letter replay does, so it leaves the
 * dead-letter list and a later dead-letter replay cannot queue the event again (docs/history.md).
 *
 * Each event of the batch is read by its key (org_id, id), one at a time, behind an OFFSET 0 fence as
 * well: joined plainly, the events' side was left to the statistics too, and with the organization's
 * share of them misjudged (no statistics at all, or taken before its events) the planner bitmap-scanned
 * and hashed all the organization's events for every batch (137,000 buffers, 1.0-1.3 s per batch of
 * 5,000 at 450,000 events of the organization), or walked them by org_id, so a replay of a window cost
 * (window / 5,000) x the organization's events.
 *
 * The destination and each event are share-locked here, as foreign keys did (migration 0017): retention
 * skips a locked event and a delete waits, so no job is queued for an event or destination deleted
 * meanwhile; one already gone, or a destination marked deleted (its row waits for a farewell), is
 * simply not queued (nothing is left to send it to, or to send). The event's lock is taken in its
 * probe, under the fence (a lock of the outer statement would be pushed into it anyway), and only for
 * the events that get a job: the duplicate check reads the batch's id alone, so it filters the ids
 * before their events are probed, and with no destination nothing is probed at all. The probe's
 * organization is a sub-select, a value the planner does not know: with the organization's id itself,
 * statistics from before its events (an organization "without events") made a walk of
 * audit_events_occurred (org_id, occurred_at, id) by org_id, every event of the organization per
 * probe, cost the same as the primary key's one row, and the planner sometimes took it.
 */
export const QUEUE_REPLAYED_SQL = `WITH dest AS (
  SELECT 1 FROM destinations WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL FOR KEY SHARE
), jobs AS (
  INSERT INTO forwarding_jobs (org_id, destination_id, event_id)
  SELECT $1, $2, e.id FROM unnest($3::text[]) AS x(id)
   CROSS JOIN LATERAL (SELECT e.id FROM audit_events e WHERE e.org_id = (SELECT $1::text) AND e.id = x.id OFFSET 0 FOR KEY SHARE) e
   WHERE EXISTS (SELECT 1 FROM dest)
     AND NOT EXISTS (SELECT 1 FROM (SELECT j.destination_id, j.status FROM forwarding_jobs j
                                     WHERE j.org_id = $1 AND j.event_id = x.id OFFSET 0) j
                      WHERE j.destination_id = $2 AND j.status IN ('pending', 'failed'))
  RETURNING 1
)
SELECT (SELECT count(*) FROM jobs)::int AS queued,
       (SELECT count(*) FROM (SELECT pg_notify('${JOBS_CHANNEL}', '') FROM (SELECT 1 FROM jobs LIMIT 1) one) n)::int AS notified`;

/**
 * The other half of QUEUE_REPLAYED_SQL, run right after it in the same transaction: the events of $3
 * that have a dead letter for $2 (and no pending job) get that dead letter put back in the queue, as
 * a dead-letter replay does (REVIVE_SET), rather than a second job. The oldest dead letter of an event
 * is the one revived (an earlier version could leave two). Nothing for a destination marked deleted.
 *
 * Driven from the batch's ids, each event's jobs read by (org_id, event_id) behind an OFFSET 0 fence,
 * for the same reason as QUEUE_REPLAYED_SQL's duplicate check: a plain NOT EXISTS over the target
 * table ran, on statistics from before the dead letters, as an anti join probing forwarding_jobs_event
 * by org_id alone (236 s for one batch of 5,000 over 200,000 dead letters), or on fresh ones as a hash
 * of all the destination's jobs. The found dead letters are then locked by primary key (locked) and
 * updated by primary key alone (= ANY of an array: any other condition, even status, would let the
 * planner walk a partial index of the destination's dead letters it believes empty). A dead-letter
 * replay of the destination waits for this transaction's end (takeReplayTurn).
 */
export const REVIVE_REPLAYED_SQL = `WITH found AS (
  SELECT j.id FROM unnest($3::text[]) AS x(id)
    CROSS JOIN LATERAL (SELECT j.id, j.destination_id, j.status FROM forwarding_jobs j WHERE j.org_id = $1 AND j.event_id = x.id OFFSET 0) j
   WHERE j.destination_id = $2 AND j.status = 'failed'
     AND EXISTS (SELECT 1 FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NULL)
     AND NOT EXISTS (SELECT 1 FROM (SELECT p.id, p.destination_id, p.status FROM forwarding_jobs p
                                     WHERE p.org_id = $1 AND p.event_id = x.id OFFSET 0) p
                      WHERE p.destination_id = $2 AND (p.status = 'pending' OR (p.status = 'failed' AND p.id < j.id)))
), locked AS (
  -- Only the dead letters found are locked, one primary-key probe each, in id order: a lock taken in
  -- the lookup above, under its fence, fell on every job of each event (another destination's pending
  -- jobs, a job the worker was sending, whose settle then waited or deadlocked with this transaction).
  -- The status is read from the row as locked, its newest version: one revived or delivered meanwhile
  -- is left alone.
  SELECT l.id FROM unnest(ARRAY(SELECT id FROM found ORDER BY id)) AS u(id)
    CROSS JOIN LATERAL (SELECT f.id, f.status FROM forwarding_jobs f WHERE f.id = u.id OFFSET 0 FOR UPDATE) l
   WHERE l.status = 'failed'
), revived AS (
  ${REVIVE_SET}
   WHERE id = ANY(ARRAY(SELECT id FROM locked))
  RETURNING 1
)
SELECT (SELECT count(*) FROM revived)::int AS queued,
       (SELECT count(*) FROM (SELECT pg_notify('${JOBS_CHANNEL}', '') FROM (SELECT 1 FROM revived LIMIT 1) one) n)::int AS notified`;

/** The advisory lock class of range replays (first key of the two-key form; the second is the destination's hash). */
const REPLAY_LOCK_CLASS = 0x52504c59; // "RPLY"

/**
 * Takes the destination's replay turn for the rest of the transaction: range replay batches and
 * dead-letter replay batches of one destination run one at a time. Both revive dead letters (rows
 * locked in different orders) and may resume a hold-paused destination (its row), one before the
 * other; run side by side, PostgreSQL ended one of them as a deadlock.
 */
export async function takeReplayTurn(tx: Queryable, destinationId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [REPLAY_LOCK_CLASS, destinationId]);
}

/**
 * Range replay's one job-creating step: takes the next `batch` events of the organization whose
 * occurred_at is in [from, to), after `after`, and queues a job for `destinationId` for each one that
 * `matches` (the destination's filter, as live events are routed) and has no pending job for it yet
 * (event.id stays the dedupe key: an event already waiting, or in flight, is not sent twice). Every
 * job a range replay creates is created here.
 *
 * One short transaction per batch: a window of a million events never holds one giant transaction
 * or its locks, and NOTIFY (delivered on commit) wakes workers batch by batch. The batch first takes
 * a transaction-scoped advisory lock on the destination, so two replays of one destination running
 * at once take turns batch by batch, and the insert (a new statement, so a new snapshot under READ
 * COMMITTED) sees the other's committed jobs: the dedupe holds under concurrent replays too. The
 * two-key form keeps these locks apart from the migration lock's single-key space.
 *
 * With a `maxAgeMs` from the `before` hook (the SIEM's sendable age), the batch's lower bound is
 * clamped to what the SIEM accepts at the batch's own time, on the database's clock (when the batch reads: statement_timestamp()): a
 * background replay walked hours after it was accepted finds the start of its window too old by then,
 * and the worker would dead-letter each such event at once. Those events are still read, in window
 * order and within the batch's LIMIT, so each one is counted exactly once (`skippedTooOld`) and the
 * cursor moves past them: a stretch of a million of them is walked, and counted, batch by batch, never
 * in one unbounded count. Too old comes before the filter, as the plan's trim counts every event.
 */
export async function queueReplayBatch(
  db: Db,
  args: {
    orgId: string;
    destinationId: string;
    from: Date;
    to: Date;
    after: WindowPosition | null;
    batch: number;
  },
  hooks: ReplayBatchHooks = {},
): Promise<ReplayBatchResult> {
  return db.transaction(async (tx): Promise<ReplayBatchResult> => {
    const go = hooks.before ? await hooks.before(tx) : true;
    if (go === false) return { scanned: 0, queued: 0, filteredOut: 0, skippedTooOld: 0, last: null, aborted: true };
    await takeReplayTurn(tx, args.destinationId);
    const maxAgeMs = go === true ? null : (go.maxAgeMs ?? null);
    const select = go === true ? null : (go.select ?? null);
    // statement_timestamp(), not now(): the batch may have waited for the replay's row or the
    // destination's replay turn since its transaction began, and the cut is for when it reads.
    const tooOld = maxAgeMs === null ? 'false' : `e.occurred_at < statement_timestamp() - $7 * interval '1 millisecond'`;
    // The payload is read only when a filter needs it, and never for an event skipped as too old: an
    // unfiltered replay moves ids alone.
    const payload = !select ? '' : maxAgeMs === null ? ', e.payload' : `, CASE WHEN ${tooOld} THEN NULL ELSE e.payload END AS payload`;
    const { rows: batch } = await tx.query<{ id: string; occurred_at: string; too_old: boolean; payload?: Record<string, unknown> | null }>(
      `SELECT e.id, e.occurred_at::text AS occurred_at, ${tooOld} AS too_old${payload} FROM audit_events e
        WHERE e.org_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND ${NOT_TRAIL}
          -- Always a position (the first batch starts after (from, '')), never "IS NULL OR": the row
          -- comparison must stay an index bound, or each batch would re-read the window from its start.
          AND (e.occurred_at, e.id) > ($4::timestamptz, $5::text)
        ORDER BY e.occurred_at, e.id
        LIMIT $6`,
      [args.orgId, args.from, args.to, args.after?.occurredAt ?? args.from, args.after?.id ?? '', args.batch, ...(maxAgeMs === null ? [] : [maxAgeMs])],
    );
    const sendable = batch.filter((e) => !e.too_old);
    const kept = select ? await select(sendable.map((e) => e.payload ?? {})) : null;
    const ids = sendable.filter((_, i) => !kept || kept[i]).map((e) => e.id);
    let queued = 0;
    if (ids.length > 0) {
      const { rows } = await tx.query<{ queued: number }>(QUEUE_REPLAYED_SQL, [args.orgId, args.destinationId, ids]);
      const { rows: revived } = await tx.query<{ queued: number }>(REVIVE_REPLAYED_SQL, [args.orgId, args.destinationId, ids]);
      queued = rows[0]!.queued + revived[0]!.queued;
    }
    const last = batch.at(-1);
    const result: ReplayBatchResult = {
      scanned: batch.length,
      queued,
      filteredOut: sendable.length - ids.length,
      skippedTooOld: batch.length - sendable.length,
      last: last ? { occurredAt: last.occurred_at, id: last.id } : null,
    };
    await hooks.after?.(tx, result);
    return result;
  });
}

/**
 * How many events of the organization have occurred_at in [from, to): what a trimmed window left out,
 * or what a replay will walk. With `cap`, counting stops there (answers at most `cap`): enough to tell
 * that a window is over a limit without walking all of it.
 */
export async function countInWindow(db: Queryable, orgId: string, from: Date, to: Date, cap: number | null = null): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (
       SELECT 1 FROM audit_events e WHERE e.org_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND ${NOT_TRAIL}
        LIMIT $4
     ) w`,
    [orgId, from, to, cap],
  );
  return rows[0]?.n ?? 0;
}

/** The database's clock: windows are trimmed against the same now() that stamps the events. */
export async function databaseNow(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>('SELECT now() AS now');
  return new Date(rows[0]!.now);
}
