import type { Queryable } from '../db/types.js';
import { PENDING_HEADS } from './dueDestinations.js';

/**
 * Retention: deletes delivered jobs, the delivery log and fully delivered events older than
 * `retentionDays`, in bounded batches so a large backlog never holds long locks. Dead letters and
 * pending jobs are never pruned. Returns how many rows went.
 */
export async function pruneOnce(db: Queryable, retentionDays: number, batch = 5000): Promise<{ jobs: number; attempts: number; events: number }> {
  const cutoff = `now() - make_interval(days => $1)`;
  const jobs = await db.query(
    `DELETE FROM forwarding_jobs WHERE (org_id, id) IN (
       SELECT org_id, id FROM forwarding_jobs WHERE status = 'done' AND settled_at < ${cutoff} LIMIT $2)`,
    [retentionDays, batch],
  );
  const attempts = await db.query(
    `DELETE FROM delivery_attempts WHERE (org_id, id) IN (
       SELECT org_id, id FROM delivery_attempts WHERE attempted_at < ${cutoff} LIMIT $2)`,
    [retentionDays, batch],
  );
  const events = await db.query(
    `DELETE FROM audit_events e WHERE (e.org_id, e.id) IN (
       SELECT a.org_id, a.id FROM audit_events a
        WHERE a.recorded_at < ${cutoff}
          AND NOT EXISTS (SELECT 1 FROM forwarding_jobs j WHERE j.org_id = a.org_id AND j.event_id = a.id)
        LIMIT $2)`,
    [retentionDays, batch],
  );
  return { jobs: jobs.rowCount, attempts: attempts.rowCount, events: events.rowCount };
}

/** Prunes until a pass deletes nothing (or `maxPasses` is reached). */
export async function prune(db: Queryable, retentionDays: number, maxPasses = 100): Promise<{ jobs: number; attempts: number; events: number }> {
  const total = { jobs: 0, attempts: 0, events: 0 };
  for (let i = 0; i < maxPasses; i++) {
    const r = await pruneOnce(db, retentionDays);
    total.jobs += r.jobs;
    total.attempts += r.attempts;
    total.events += r.events;
    if (r.jobs + r.attempts + r.events === 0) break;
  }
  return total;
}

/** Counts per destination stop here: /metrics then reads "at least this many" (docs/configuration.md). */
export const DEPTH_COUNT_CAP = 10_000;

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
 * most DEPTH_COUNT_CAP index entries. The oldest due age comes from the head of its index range.
 * Quiet destinations cost nothing (EXPLAIN in docs/BENCHMARKS.md).
 */
export async function queueDepth(db: Queryable, cap = DEPTH_COUNT_CAP): Promise<DestinationDepth[]> {
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
