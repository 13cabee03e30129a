import type { Queryable } from '../db/types.js';

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

export async function queueDepth(db: Queryable): Promise<{ destinationId: string; pending: number; failed: number; oldestDueAgeS: number }[]> {
  const { rows } = await db.query<{ destination_id: string; pending: number; failed: number; oldest_due_age_s: number | null }>(
    `SELECT destination_id,
            count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE status = 'pending' AND next_attempt_at <= now()))::float8 AS oldest_due_age_s
       FROM forwarding_jobs WHERE status <> 'done' GROUP BY destination_id`,
  );
  return rows.map((r) => ({ destinationId: r.destination_id, pending: r.pending, failed: r.failed, oldestDueAgeS: r.oldest_due_age_s ?? 0 }));
}
