import type { Queryable } from '../db/types.js';
import type { JobOutcome } from './types.js';

export interface SettleResult {
  done: number;
  retried: number;
  deadLettered: number;
  /** Jobs whose claim was no longer ours (lease expired and re-claimed): left untouched. */
  fenced: number;
}

/**
 * Settles the outcomes of one claim in one statement. Every update requires the claim id (fencing).
 * Retries: the delay for attempt n is retryDelaysS[n-1] with ±10% jitter, at least retryAfterMs;
 * once attempts exceed the schedule the job is dead-lettered (status failed). Computed in SQL from the
 * stored attempts so the count survives any crash.
 */
export async function settleJobs(
  db: Queryable,
  args: { orgId: string; claimId: string; outcomes: JobOutcome[]; retryDelaysS: number[] },
): Promise<SettleResult> {
  if (args.outcomes.length === 0) return { done: 0, retried: 0, deadLettered: 0, fenced: 0 };
  const o = args.outcomes;
  const { rows } = await db.query<{ status: string }>(
    `UPDATE forwarding_jobs j SET
        attempts = j.attempts + 1,
        claim_id = NULL,
        status = CASE
          WHEN u.outcome = 'done' THEN 'done'
          WHEN u.outcome = 'failed' OR j.attempts + 1 > cardinality($4::float8[]) THEN 'failed'
          ELSE 'pending' END,
        next_attempt_at = CASE
          WHEN u.outcome = 'retry' AND j.attempts + 1 <= cardinality($4::float8[]) THEN now() + make_interval(secs =>
            GREATEST(($4::float8[])[j.attempts + 1] * (0.9 + random() * 0.2), coalesce(u.retry_after_ms, 0) / 1000.0))
          ELSE j.next_attempt_at END,
        settled_at = CASE WHEN u.outcome = 'done' OR u.outcome = 'failed' OR j.attempts + 1 > cardinality($4::float8[]) THEN now() ELSE NULL END,
        last_error = CASE WHEN u.outcome = 'done' THEN j.last_error ELSE u.error END,
        last_status_code = u.status_code
       FROM unnest($3::bigint[], $5::text[], $6::text[], $7::int[], $8::float8[]) AS u(id, outcome, error, status_code, retry_after_ms)
      WHERE j.org_id = $1 AND j.id = u.id AND j.claim_id = $2::uuid AND j.status = 'pending'
      RETURNING j.status`,
    [
      args.orgId,
      args.claimId,
      o.map((x) => x.id),
      args.retryDelaysS,
      o.map((x) => x.outcome),
      o.map((x) => (x.outcome === 'done' ? null : x.error)),
      o.map((x) => (x.outcome === 'done' ? null : x.statusCode)),
      o.map((x) => (x.outcome === 'retry' ? (x.retryAfterMs ?? null) : null)),
    ],
  );
  let done = 0;
  let retried = 0;
  let deadLettered = 0;
  for (const r of rows) {
    if (r.status === 'done') done++;
    else if (r.status === 'failed') deadLettered++;
    else retried++;
  }
  return { done, retried, deadLettered, fenced: o.length - rows.length };
}

/**
 * Gives claimed jobs back without counting an attempt: on shutdown, or when a destination's circuit
 * breaker opens and the rest of a claim was never sent. `at` is when they become due again.
 */
export async function releaseJobs(db: Queryable, args: { orgId: string; claimId: string; ids: number[]; at?: Date }): Promise<number> {
  if (args.ids.length === 0) return 0;
  const { rowCount } = await db.query(
    `UPDATE forwarding_jobs SET claim_id = NULL, next_attempt_at = coalesce($4::timestamptz, now())
      WHERE org_id = $1 AND claim_id = $2::uuid AND id = ANY($3::bigint[]) AND status = 'pending'`,
    [args.orgId, args.claimId, args.ids, args.at ?? null],
  );
  return rowCount;
}
