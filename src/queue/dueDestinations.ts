import { prepared } from '../db/prepared.js';
import type { Queryable } from '../db/types.js';

/** A non-farewell job of destination d claimed under a running lease: a request in flight. */
const IN_FLIGHT_WHERE = `o.org_id = d.org_id AND o.destination_id = d.id AND o.status = 'pending' AND NOT o.farewell
                           AND o.claim_id IS NOT NULL AND o.next_attempt_at > now()`;
const IN_FLIGHT = `SELECT 1 FROM forwarding_jobs o WHERE ${IN_FLIGHT_WHERE}`;

/**
 * A destination row's version as text: its updated_at to the microsecond, in UTC (a JavaScript Date
 * would keep milliseconds only). Every write of a column a runner reads moves updated_at
 * (destinations/row.ts), so a worker that holds a row of this version holds the stored one. Over
 * `destinations d`.
 */
export const ROW_VERSION = `to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

/**
 * A filter's version as SQL, over the destinations' `filter` column (qualified by `alias` when given):
 * what the router computed its routing against (listFilteredDestinations) and what recording proves it
 * against (queue/enqueue.ts). One rule: versions spelled differently would never match, and every
 * recording of a filtered organization would be refused as stale.
 */
export const filterVersionSql = (alias?: string): string => `md5(${alias ? `${alias}.` : ''}filter::text)`;

/**
 * The SET item every write of what a runner reads from a destination row uses. Not plain now(): that
 * is the transaction's start, the same for two writes in one instant, and the embedded database's
 * clock counts whole milliseconds; two writes must never leave the same version, or a worker would
 * keep the older row (delivery/rowCache.ts).
 */
export const BUMP_ROW_VERSION = "updated_at = greatest(now(), updated_at + interval '1 microsecond')";

export interface DueDestination {
  orgId: string;
  id: string;
  consecutiveFailures: number;
  /** The row's version (ROW_VERSION) when the scan saw it: a runner reads the row only if it holds another. */
  version: string;
}

/**
 * Every destination with at least one pending job, and that job's earliest next_attempt_at: a loose
 * index scan ("skip scan") of forwarding_jobs_due (destination_id, next_attempt_at, id) WHERE pending.
 * Each step is one index descent to the first entry past the previous destination, so the cost is
 * one probe per destination that has pending work, whatever the backlog behind it and however many
 * quiet destinations are configured: with 50,000 destinations of which one is busy, a wake-up reads a
 * handful of index pages instead of visiting every destination (docs/BENCHMARKS.md, "many").
 * Destination ids are unique across organizations (destinations_id), so the id alone walks the index.
 */
export const PENDING_HEADS = `
  WITH RECURSIVE heads(destination_id, first_at) AS (
    (SELECT j.destination_id, j.next_attempt_at FROM forwarding_jobs j
      WHERE j.status = 'pending' ORDER BY j.destination_id, j.next_attempt_at LIMIT 1)
    UNION ALL
    SELECT n.destination_id, n.next_attempt_at FROM heads h
     CROSS JOIN LATERAL (
       SELECT j.destination_id, j.next_attempt_at FROM forwarding_jobs j
        WHERE j.status = 'pending' AND j.destination_id > h.destination_id
        ORDER BY j.destination_id, j.next_attempt_at LIMIT 1) n
  )`;

/**
 * One scan of the queue, in one statement (a wake-up's only one): the destinations due now and, for
 * the worker's timer, when the next one that is not falls due. $1: how many due destinations; $2:
 * destinations left out of both, the ones the caller is draining, waiting out a Retry-After or
 * waiting for Splunk acks (their runner, limiter or tracker wakes the worker when that ends, so
 * counting their due jobs would only re-arm the timer at once, over and over, for as long as a drain
 * lasts).
 * "Later" is the complement of "due" under one now(): a destination's next time counts only while it
 * is in the future. One due now but not started (every runner slot taken) is started when a runner
 * ends, which wakes the worker; it needs no timer.
 */
const SCAN_SQL = prepared(`${PENDING_HEADS},
     due AS (
       SELECT * FROM (
         SELECT d.org_id, d.id, d.consecutive_failures, ${ROW_VERSION} AS version FROM heads h
           JOIN destinations d ON d.id = h.destination_id
          WHERE h.first_at <= now() AND d.enabled AND (d.paused_until IS NULL OR d.paused_until <= now()) AND d.hold_paused_at IS NULL
            AND NOT (d.id = ANY($2::text[]))
         UNION
         SELECT d.org_id, d.id, d.consecutive_failures, ${ROW_VERSION} AS version
           FROM forwarding_jobs j JOIN destinations d ON d.org_id = j.org_id AND d.id = j.destination_id
          WHERE j.status = 'pending' AND j.farewell AND j.next_attempt_at <= now()
            AND NOT d.enabled AND (d.paused_until IS NULL OR d.paused_until <= now()) AND NOT (d.id = ANY($2::text[]))
            -- Held back while a request to it is in flight (claimFarewellJobs): not due until then.
            AND NOT EXISTS (${IN_FLIGHT})
       ) u
        -- Random order: with more busy destinations than worker slots, every one gets its turn.
        ORDER BY random()
        LIMIT $1
     ),
     later AS (
       SELECT least(
         (SELECT min(t.at) FILTER (WHERE t.at > now()) FROM heads h
            JOIN destinations d ON d.id = h.destination_id
           CROSS JOIN LATERAL (SELECT greatest(h.first_at, d.paused_until) AS at) t
           WHERE d.enabled AND d.hold_paused_at IS NULL AND NOT (d.id = ANY($2::text[]))),
         (SELECT min(t.at) FILTER (WHERE t.at > now())
            FROM forwarding_jobs j JOIN destinations d ON d.org_id = j.org_id AND d.id = j.destination_id
           CROSS JOIN LATERAL (SELECT greatest(j.next_attempt_at, d.paused_until,
                                 (SELECT max(o.next_attempt_at) FROM forwarding_jobs o WHERE ${IN_FLIGHT_WHERE})) AS at) t
           WHERE j.status = 'pending' AND j.farewell AND NOT d.enabled AND NOT (d.id = ANY($2::text[])))
       ) AS at
     )
     SELECT later.at AS next_at, due.* FROM later LEFT JOIN due ON true`);

/** What one scan found. */
export interface QueueScan {
  /**
   * Enabled, not-paused destinations (neither by the circuit breaker nor by the hold limit) with at
   * least one due job, found from the pending jobs' heads above. Disabled destinations keep their
   * queued jobs (held, not dropped) and appear here only for a due farewell (the trail event saying
   * they were disabled or deleted, queue/farewell.ts), found through the small farewell index.
   */
  due: DueDestination[];
  /**
   * When the next job of a destination not due now falls due (a retry, a lease running out, a pause
   * ending), or null: the same walk over destinations with pending jobs (PENDING_HEADS), not a pass
   * over every pending job nor over every configured destination. Farewells count too.
   */
  nextAt: Date | null;
}

/** Scans the queue for a wake-up (SCAN_SQL): `exclude` is left out of both answers. */
export async function scanQueue(db: Queryable, opts: { limit?: number; exclude?: readonly string[] } = {}): Promise<QueueScan> {
  const { rows } = await db.query<{ next_at: Date | null; org_id: string | null; id: string; consecutive_failures: number; version: string }>(SCAN_SQL, [
    opts.limit ?? 1000,
    opts.exclude ?? [],
  ]);
  const due: DueDestination[] = [];
  for (const r of rows) {
    if (r.org_id !== null) due.push({ orgId: r.org_id, id: r.id, consecutiveFailures: r.consecutive_failures, version: r.version });
  }
  return { due, nextAt: rows[0]?.next_at ?? null };
}
