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

/** Records a whole-request failure; returns the pause end when the breaker opened, else null. */
export async function noteRequestFailure(db: Queryable, orgId: string, id: string): Promise<Date | null> {
  const { rows } = await db.query<{ consecutive_failures: number }>(
    `UPDATE destinations SET consecutive_failures = consecutive_failures + 1
      WHERE org_id = $1 AND id = $2 RETURNING consecutive_failures`,
    [orgId, id],
  );
  const n = rows[0]?.consecutive_failures ?? 0;
  const s = pauseSeconds(n);
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
