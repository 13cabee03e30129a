import type { Queryable } from '../db/types.js';

/** Delivered and failed events per hour over the last 24 hours (the dashboard card's chart). */
export async function destinationStats(db: Queryable, orgId: string, destinationId: string) {
  const { rows } = await db.query<{ hour: Date; delivered: number; failed: number }>(
    `SELECT h.hour,
            coalesce(sum(a.delivered_count), 0)::int AS delivered,
            coalesce(sum(a.failed_count), 0)::int AS failed
       FROM generate_series(date_trunc('hour', now()) - interval '23 hours', date_trunc('hour', now()), interval '1 hour') AS h(hour)
       LEFT JOIN delivery_attempts a
         ON a.org_id = $1 AND a.destination_id = $2 AND a.attempted_at >= h.hour AND a.attempted_at < h.hour + interval '1 hour'
        AND a.event_count > 0
      GROUP BY h.hour ORDER BY h.hour`,
    [orgId, destinationId],
  );
  return { hours: rows.map((r) => ({ hour: new Date(r.hour).toISOString(), delivered: r.delivered, failed: r.failed })) };
}
