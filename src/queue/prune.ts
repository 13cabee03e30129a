import type { Db, Queryable } from '../db/types.js';
import { PENDING_HEADS } from './dueDestinations.js';
import { QUEUE_COUNT_CAP } from './countCap.js';

const CUTOFF = `now() - make_interval(days => $1)`;

/** Rows of each kind per pass, unless the caller says otherwise. */
const PRUNE_BATCH = 5000;

/**
 * pruneOnce's statements, $1 the retention in days and $2 the batch size (exported for the test
 * that checks their plans). Each takes the oldest rows first, so its batch comes from the head of
 * an index range on the time column (forwarding_jobs_settled, delivery_attempts_attempted,
 * audit_events_recorded) whatever the statistics say about how many rows are old; without the
 * ORDER BY the planner walked the primary key and filtered by time. It deletes the batch by
 * ctid (a TID scan of exactly those rows): `(org_id, id) IN (SELECT ... LIMIT)` let the planner hash
 * the batch and read the whole table to find it again, a cost that grows with the table. (A ctid
 * read in the same statement still names that row: its snapshot keeps VACUUM from reusing the slot,
 * and a row updated meanwhile has moved and is left for the next pass; events' ctids cross two
 * statements under the row locks the first took, which keep them in place.) The NOT EXISTS, and the
 * cascade every batch fires on forwarding_jobs (a trigger, migration 0017), probe forwarding_jobs_event (migration
 * 0015); without it each deleted event read every job. The NOT EXISTS reads each candidate's jobs
 * behind an OFFSET 0 fence, as the replay statements do (queue/replayRange.ts): a plain one was left to
 * the statistics, and on statistics from while every old event still had a job (with the queue's churn
 * counted in the job total) the planner expected no old event to go and ran it as a hash anti join, all
 * the jobs read against a hash of all the old events: 3.4-4.4 s a pass at 1,500,000 events. Behind the
 * fence it cannot become a join (an EXISTS over a subquery that names the outer row is run per row), so
 * it is one forwarding_jobs_event probe per candidate, in recorded_at order, until the batch is full.
 * The batch size is given as LIMIT (SELECT $2), which the planner cannot read as a number: it then
 * plans for the first tenth of the rows, so the walk in recorded_at order always wins over probing
 * every old event and sorting them. With LIMIT $2 a filter the planner prices at one row in two
 * (a subquery) left that choice to the range's estimate: without statistics (the range priced at 0.5 %
 * of the table, two batches at 1,000,000 events) it probed all 770,000 old events and sorted them,
 * 2.9 s a pass, where the walk reads 7,500 (fencedProbes.test.ts).
 * FOR UPDATE SKIP LOCKED: every worker process prunes on its own timer; two at once take different
 * rows instead of queueing behind each other's batch.
 * The events' lock starts at $3 (the last pass's newest deleted event, or null): old events that
 * stay (a dead letter or a pending job still holds them) sit at the head of its range, and without
 * the bound every pass of a run would read them all again before reaching deletable ones. The first
 * pass of each run still reads past them once: that pass's cost grows with the old events kept.
 * Plans and per-batch cost at two history sizes: docs/BENCHMARKS.md (retention).
 */
export const PRUNE_STATEMENTS = {
  // Jobs marked done: a settle deletes a delivered job since 2026-12 (queue/settleJobs.ts), so these
  // are the ones an earlier version left, and rows a test writes in that state.
  jobs: `DELETE FROM forwarding_jobs WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM forwarding_jobs WHERE status = 'done' AND settled_at < ${CUTOFF}
            ORDER BY settled_at LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  attempts: `DELETE FROM delivery_attempts WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM delivery_attempts WHERE attempted_at < ${CUTOFF}
                ORDER BY attempted_at LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  // Events in two statements of one transaction (prunePass): lock the candidates, then delete those
  // still without a job under a snapshot taken after the locks. One statement judged "no job" on its
  // own snapshot, from before its locks: a replay that queued a job for the event and committed in
  // between (QUEUE_REPLAYED_SQL's FOR KEY SHARE on the event was released by then) lost
  // that job to the cascade, and the replay counted it queued.
  eventsLock: `SELECT a.ctid::text AS ctid FROM audit_events a
                WHERE a.recorded_at < ${CUTOFF} AND a.recorded_at >= coalesce($3::timestamptz, '-infinity')
                  AND NOT EXISTS (SELECT 1 FROM (SELECT 1 FROM forwarding_jobs j WHERE j.org_id = a.org_id AND j.event_id = a.id OFFSET 0) j)
                ORDER BY a.recorded_at LIMIT (SELECT $2::bigint) FOR UPDATE SKIP LOCKED`,
  // $1 the locked rows' ctids: a lock keeps a row where it is, so each still names its event. Behind
  // ARRAY(SELECT unnest(...)): as `ANY($1)` the planner priced a TID scan at the batch's 5,000
  // elements and read the whole table instead below about 20,000 pages (PGlite at every size).
  eventsDelete: `WITH gone AS (
                   DELETE FROM audit_events a WHERE a.ctid = ANY(ARRAY(SELECT unnest($1::tid[])))
                      AND NOT EXISTS (SELECT 1 FROM (SELECT 1 FROM forwarding_jobs j WHERE j.org_id = a.org_id AND j.event_id = a.id OFFSET 0) j)
                   RETURNING recorded_at)
                 SELECT count(*)::int AS n, max(recorded_at)::text AS through FROM gone`,
} as const;

interface PassResult {
  jobs: number;
  attempts: number;
  events: number;
  /** The newest event this pass deleted (text, to keep PostgreSQL's microseconds), or null. */
  eventsThrough: string | null;
}

export interface PruneHooks {
  /** Called with the events locked for deletion, before they are judged and deleted (a test's seam: a race). */
  eventsLocked?: (count: number) => Promise<void>;
}

async function pruneEvents(db: Db, params: unknown[], hooks: PruneHooks): Promise<{ n: number; through: string | null }> {
  return db.transaction(async (tx) => {
    const { rows: locked } = await tx.query<{ ctid: string }>(PRUNE_STATEMENTS.eventsLock, params);
    if (locked.length === 0) return { n: 0, through: null };
    await hooks.eventsLocked?.(locked.length);
    const { rows } = await tx.query<{ n: number; through: string | null }>(PRUNE_STATEMENTS.eventsDelete, [locked.map((r) => r.ctid)]);
    return rows[0] ?? { n: 0, through: null };
  });
}

async function prunePass(db: Db, retentionDays: number, batch: number, eventsFrom: string | null, hooks: PruneHooks): Promise<PassResult> {
  const params = [retentionDays, batch];
  const jobs = await db.query(PRUNE_STATEMENTS.jobs, params);
  const attempts = await db.query(PRUNE_STATEMENTS.attempts, params);
  const events = await pruneEvents(db, [...params, eventsFrom], hooks);
  return { jobs: jobs.rowCount, attempts: attempts.rowCount, events: events.n, eventsThrough: events.through };
}

/**
 * Retention: deletes the delivery log and fully delivered events older than `retentionDays` (and
 * done jobs an earlier version left; a settle deletes a delivered job now), in bounded batches so a
 * large backlog never holds long locks, at a cost per batch that does not grow with the tables
 * (PRUNE_STATEMENTS). Dead letters and pending jobs are never pruned. Returns how many rows went.
 */
export async function pruneOnce(
  db: Db,
  retentionDays: number,
  batch = PRUNE_BATCH,
  hooks: PruneHooks = {},
): Promise<{ jobs: number; attempts: number; events: number }> {
  const { jobs, attempts, events } = await prunePass(db, retentionDays, batch, null, hooks);
  return { jobs, attempts, events };
}

export interface PruneOptions {
  /** Rows of each kind per pass (one statement each). */
  batch?: number;
  /** Asked between passes: true stops (the worker is shutting down). */
  shouldStop?: () => boolean;
}

/**
 * Prunes until a pass deletes nothing, or `shouldStop` says so. No cap on passes: a fixed one (it was
 * 100, 500,000 rows of each kind an hour) let a large installation's history grow past its retention
 * (100,000,000 events kept 7 days is 14,000,000 a day). Each pass is three short statements at a cost
 * that does not grow with the tables, so a long backlog is many small transactions, never a long lock.
 * Events pass by pass from where the last one stopped: an event whose last job goes in a later pass
 * of the same run is deleted by the next run (an hour later), not by going back over the kept ones.
 */
export async function prune(db: Db, retentionDays: number, opts: PruneOptions = {}): Promise<{ jobs: number; attempts: number; events: number }> {
  const total = { jobs: 0, attempts: 0, events: 0 };
  let eventsFrom: string | null = null;
  while (!opts.shouldStop?.()) {
    const r = await prunePass(db, retentionDays, opts.batch ?? PRUNE_BATCH, eventsFrom, {});
    total.jobs += r.jobs;
    total.attempts += r.attempts;
    total.events += r.events;
    eventsFrom = r.eventsThrough ?? eventsFrom;
    if (r.jobs + r.attempts + r.events === 0) break;
  }
  return total;
}

export interface DestinationDepth {
  orgId: string;
  destinationId: string;
  pending: number;
  failed: number;
  oldestDueAgeS: number;
}

/**
 * Queue figures for /metrics, per destination, in work bounded whatever the backlog: destinations
 * with pending or failed jobs are found by loose index scans (PENDING_HEADS over forwarding_jobs_due,
 * the same over forwarding_jobs_failed), never by reading every job, and each one's count reads at
 * most QUEUE_COUNT_CAP index entries (countCap.ts: /metrics then reads "at least this many"). The oldest due age comes from the head of its index range.
 * Quiet destinations cost nothing (EXPLAIN in docs/BENCHMARKS.md).
 */
export async function queueDepth(db: Queryable, cap = QUEUE_COUNT_CAP): Promise<DestinationDepth[]> {
  const { rows } = await db.query<{ org_id: string; destination_id: string; pending: number; failed: number; oldest_due_age_s: number | null }>(
    `${PENDING_HEADS},
     failed_heads(destination_id) AS (
       (SELECT j.destination_id FROM forwarding_jobs j WHERE j.status = 'failed' ORDER BY j.destination_id LIMIT 1)
       UNION ALL
       SELECT n.destination_id FROM failed_heads f
        CROSS JOIN LATERAL (
          SELECT j.destination_id FROM forwarding_jobs j
           WHERE j.status = 'failed' AND j.destination_id > f.destination_id
           ORDER BY j.destination_id LIMIT 1) n
     ),
     ids AS (SELECT destination_id FROM heads UNION SELECT destination_id FROM failed_heads)
     SELECT d.org_id, d.id AS destination_id,
            (SELECT count(*)::int FROM (SELECT 1 FROM forwarding_jobs j WHERE j.destination_id = d.id AND j.status = 'pending' LIMIT $1) p) AS pending,
            (SELECT count(*)::int FROM (SELECT 1 FROM forwarding_jobs j WHERE j.destination_id = d.id AND j.status = 'failed' LIMIT $1) f) AS failed,
            CASE WHEN h.first_at <= now() THEN extract(epoch FROM now() - h.first_at)::float8 END AS oldest_due_age_s
       FROM ids JOIN destinations d ON d.id = ids.destination_id
       LEFT JOIN heads h ON h.destination_id = ids.destination_id`,
    [cap],
  );
  return rows.map((r) => ({ orgId: r.org_id, destinationId: r.destination_id, pending: r.pending, failed: r.failed, oldestDueAgeS: r.oldest_due_age_s ?? 0 }));
}
