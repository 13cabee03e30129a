import type { Queryable } from '../db/types.js';

/**
 * Circuit breaker state lives on the destination row (never in memory), so every worker sees it.
 * After `threshold` failed requests in a row the destination is paused for an exponentially growing
 * time (30 s doubling, capped at 10 min); when the pause ends one batch probes it. An outage then
 * costs a handful of attempts instead of every queued job's whole retry schedule.
 */
export const BREAKER_THRESHOLD = 5;
const BASE_PAUSE_S = 30;
const MAX_PAUSE_S = 600;

export function pauseSeconds(consecutiveFailures: number): number {
  if (consecutiveFailures < BREAKER_THRESHOLD) return 0;
  return Math.min(BASE_PAUSE_S * 2 ** (consecutiveFailures - BREAKER_THRESHOLD), MAX_PAUSE_S);
}

/**
 * Records a whole-request failure; returns the pause end when the destination is (now or already)
 * paused, else null. Failures of requests that were already in flight when the breaker opened do not
 * count again: otherwise one burst of concurrent failures (16 requests of a webhook lane) would
 * escalate the pause straight to its maximum. So consecutive_failures is the threshold plus the
 * number of failed probes, and each failed probe doubles the pause.
 */
export async function noteRequestFailure(db: Queryable, orgId: string, id: string): Promise<Date | null> {
  const { rows } = await db.query<{ consecutive_failures: number; paused_until: Date | null; paused: boolean }>(
    `UPDATE destinations
        SET consecutive_failures = consecutive_failures + CASE WHEN paused_until > now() THEN 0 ELSE 1 END
      WHERE org_id = $1 AND id = $2
      RETURNING consecutive_failures, paused_until, coalesce(paused_until > now(), false) AS paused`,
    [orgId, id],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.paused) return row.paused_until;
  const s = pauseSeconds(row.consecutive_failures);
  if (s === 0) return null;
  const { rows: p } = await db.query<{ paused_until: Date }>(
    `UPDATE destinations SET paused_until = now() + make_interval(secs => $3) WHERE org_id = $1 AND id = $2 RETURNING paused_until`,
    [orgId, id, s],
  );
  return p[0]?.paused_until ?? null;
}

export async function noteRequestSuccess(db: Queryable, orgId: string, id: string): Promise<void> {
  await db.query(
    `UPDATE destinations SET consecutive_failures = 0, paused_until = NULL
      WHERE org_id = $1 AND id = $2 AND (consecutive_failures <> 0 OR paused_until IS NOT NULL)`,
    [orgId, id],
  );
}
