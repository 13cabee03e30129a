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

export interface HourStat {
  hour: string;
  delivered: number;
  failed: number;
}

/**
 * The same 24 hourly figures for many destinations of one organization in one statement (the
 * dashboard's cards, a page at a time): one index range per destination (delivery_attempts_dest_time),
 * grouped by hour, with the empty hours filled in here rather than by a join per hour.
 */
export async function destinationsStats(db: Queryable, orgId: string, destinationIds: readonly string[]): Promise<Map<string, HourStat[]>> {
  const out = new Map<string, HourStat[]>();
  if (destinationIds.length === 0) return out;
  const { rows } = await db.query<{ destination_id: string; hour: Date; first_hour: Date; delivered: number; failed: number }>(
    `WITH w AS (SELECT date_trunc('hour', now()) - interval '23 hours' AS first_hour)
     SELECT a.destination_id, date_trunc('hour', a.attempted_at) AS hour, w.first_hour,
            sum(a.delivered_count)::int AS delivered, sum(a.failed_count)::int AS failed
       FROM w, delivery_attempts a
      WHERE a.org_id = $1 AND a.destination_id = ANY($2::text[])
        AND a.attempted_at >= w.first_hour AND a.attempted_at < w.first_hour + interval '24 hours'
        AND a.event_count > 0
      GROUP BY a.destination_id, date_trunc('hour', a.attempted_at), w.first_hour`,
    [orgId, destinationIds],
  );
  // The window's first hour from the database's clock (as destinationStats uses), even with no rows.
  const first = rows[0]?.first_hour ?? (await db.query<{ h: Date }>(`SELECT date_trunc('hour', now()) - interval '23 hours' AS h`)).rows[0]!.h;
  const start = new Date(first).getTime();
  const hours = Array.from({ length: 24 }, (_, i) => new Date(start + i * 3_600_000).toISOString());
  for (const id of destinationIds)
    out.set(
      id,
      hours.map((hour) => ({ hour, delivered: 0, failed: 0 })),
    );
  for (const r of rows) {
    const i = Math.round((new Date(r.hour).getTime() - start) / 3_600_000);
    const slot = out.get(r.destination_id)?.[i];
    if (slot) {
      slot.delivered = r.delivered;
      slot.failed = r.failed;
    }
  }
  return out;
}
