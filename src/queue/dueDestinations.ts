import type { Queryable } from '../db/types.js';

/** A non-farewell job of destination d claimed under a running lease: a request in flight. */
const IN_FLIGHT_WHERE = `o.org_id = d.org_id AND o.destination_id = d.id AND o.status = 'pending' AND NOT o.farewell
                           AND o.claim_id IS NOT NULL AND o.next_attempt_at > now()`;
const IN_FLIGHT = `SELECT 1 FROM forwarding_jobs o WHERE ${IN_FLIGHT_WHERE}`;

export interface DueDestination {
  orgId: string;
  id: string;
  consecutiveFailures: number;
}

/**
 * Enabled, not-paused destinations (neither by the circuit breaker nor by the hold limit) with at least one due job. Disabled destinations keep their queued
 * jobs (held, not dropped) and appear here only for a due farewell (the trail event saying they were
 * disabled or deleted, queue/farewell.ts), found through the small farewell index.
 */
export async function dueDestinations(db: Queryable, limit = 1000): Promise<DueDestination[]> {
  const { rows } = await db.query<{ org_id: string; id: string; consecutive_failures: number }>(
    `SELECT * FROM (
       SELECT d.org_id, d.id, d.consecutive_failures FROM destinations d
        WHERE d.enabled AND (d.paused_until IS NULL OR d.paused_until <= now()) AND d.hold_paused_at IS NULL
          AND EXISTS (SELECT 1 FROM forwarding_jobs j
                       WHERE j.destination_id = d.id AND j.org_id = d.org_id
                         AND j.status = 'pending' AND j.next_attempt_at <= now())
       UNION
       SELECT d.org_id, d.id, d.consecutive_failures
         FROM forwarding_jobs j JOIN destinations d ON d.org_id = j.org_id AND d.id = j.destination_id
        WHERE j.status = 'pending' AND j.farewell AND j.next_attempt_at <= now()
          AND NOT d.enabled AND (d.paused_until IS NULL OR d.paused_until <= now())
          -- Held back while a request to it is in flight (claimFarewellJobs): not due until then.
          AND NOT EXISTS (${IN_FLIGHT})
     ) due
      -- Random order: with more busy destinations than worker slots, every one gets its turn.
      ORDER BY random()
      LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ orgId: r.org_id, id: r.id, consecutiveFailures: r.consecutive_failures }));
}

/**
 * When the next job of any enabled destination falls due (for the worker's timer), or null. One
 * index probe per destination (the first entry of forwarding_jobs_due), not a pass over every
 * pending job: the worker asks after every scan, and a backlog can hold millions of pending jobs.
 * `exclude`: destinations this process is draining right now. Their runner wakes the worker when it
 * ends, so counting their (already due) jobs would only re-arm the timer at 10 ms, over and over,
 * for as long as a drain lasts.
 */
export async function nextDueAt(db: Queryable, exclude: readonly string[] = []): Promise<Date | null> {
  // Farewells of disabled destinations count too (through the farewell index).
  const { rows } = await db.query<{ at: Date | null }>(
    `SELECT least(
       (SELECT min(greatest(n.at, coalesce(d.paused_until, n.at)))
          FROM destinations d
          CROSS JOIN LATERAL (
            SELECT j.next_attempt_at AS at FROM forwarding_jobs j
             WHERE j.destination_id = d.id AND j.org_id = d.org_id AND j.status = 'pending'
             ORDER BY j.next_attempt_at LIMIT 1) n
         WHERE d.enabled AND d.hold_paused_at IS NULL AND NOT (d.id = ANY($1::text[]))),
       (SELECT min(greatest(j.next_attempt_at, coalesce(d.paused_until, j.next_attempt_at),
                            coalesce((SELECT max(o.next_attempt_at) FROM forwarding_jobs o WHERE ${IN_FLIGHT_WHERE}), j.next_attempt_at)))
          FROM forwarding_jobs j JOIN destinations d ON d.org_id = j.org_id AND d.id = j.destination_id
         WHERE j.status = 'pending' AND j.farewell AND NOT d.enabled AND NOT (d.id = ANY($1::text[])))) AS at`,
    [exclude],
  );
  return rows[0]?.at ?? null;
}
