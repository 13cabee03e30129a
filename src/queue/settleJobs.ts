import { prepared } from '../db/prepared.js';
import type { Queryable } from '../db/types.js';
import { settleDestinationSet } from './deliveryState.js';
import type { JobOutcome } from './types.js';
import { compactAttempts, type AttemptRecord } from './attempts.js';

export interface SettleResult {
  done: number;
  retried: number;
  deadLettered: number;
  /** Jobs whose claim was no longer ours (lease expired and re-claimed): left untouched. */
  fenced: number;
}

/**
 * Whether a settle of `outcomes` jobs settled none of them (every one fenced): it then said nothing
 * about the destination (settleClaim's SETTLED_ANY), and neither breaker nor alerter should hear of it.
 */
export const allFenced = (settled: SettleResult, outcomes: number): boolean => outcomes > 0 && settled.fenced === outcomes;

/**
 * The settling statements, as CTEs ending in `settled(status)`, used by settleClaim.
 * Parameters: $1 org, $2 claim id, then for the jobs NOT delivered $3 ids, $4 outcomes, $5 errors,
 * $6 status codes, $7 retry delays (ms); and `$<doneParam>` the ids of the delivered jobs.
 * The statement decides nothing: each job's outcome and retry delay come from the schedule
 * (delivery/outcome.ts schedule()); the delay is added to the database's now(), one clock for all.
 *
 * Delivered jobs (the bulk of every claim) are deleted: nothing reads a delivered job (the dashboard,
 * alerts and counts read pending and failed ones; the delivery log is its own table, and retention
 * keeps an event by its own age), and a delete writes one small record per job where marking it done
 * wrote a new row version and three index entries, then cost retention a second delete (1.3 against
 * 7.4 µs of statement time per job, 590 against 1,131 bytes of WAL with the claim: docs/BENCHMARKS.md).
 * They are found by primary key with `id = ANY(...)`, no join:
 * joined to unnest(), the planner estimates one matching row (the claim-id filter) and on tables of
 * ~100k rows chose a nested loop over every pair (1,000 x 1,000 comparisons, ~140 ms per settle).
 * Jobs are found by id alone and fenced by the claim id (checked against the destination the claim
 * reports for and its organization): a claim id is a random UUID the claiming worker made, and a job
 * leaves 'pending' only with its claim id cleared (the table's forwarding_jobs_claimed_pending rule).
 * An organization or status condition let the planner read an index by organization or status
 * instead, on stale statistics every job of the organization, to settle a claim (migration 0016).
 */
function settleCtes(doneParam: number, destParam: number): string {
  // The claimed jobs belong to the destination the claim reports for, and it to the organization:
  // neither condition can pick an index (none leads with destination_id without a status), so both
  // hold without steering the plan away from the ids.
  const ours = `j.destination_id = $${destParam} AND EXISTS (SELECT 1 FROM destinations d WHERE d.org_id = $1 AND d.id = $${destParam})`;
  return `settled_done AS (
       DELETE FROM forwarding_jobs j
        WHERE j.id = ANY($${doneParam}::bigint[]) AND j.claim_id = $2::uuid AND ${ours}
       RETURNING 'done'::text AS status
     ),
     settled_other AS (
       UPDATE forwarding_jobs j SET
        attempts = j.attempts + 1,
        claim_id = NULL,
        status = CASE WHEN u.outcome = 'failed' THEN 'failed' ELSE 'pending' END,
        next_attempt_at = CASE
          WHEN u.outcome = 'retry' THEN now() + make_interval(secs => u.delay_ms / 1000.0)
          ELSE j.next_attempt_at END,
        settled_at = CASE WHEN u.outcome = 'failed' THEN now() ELSE NULL END,
        last_error = u.error,
        last_status_code = u.status_code
       FROM unnest($3::bigint[], $4::text[], $5::text[], $6::int[], $7::float8[]) AS u(id, outcome, error, status_code, delay_ms)
      WHERE j.id = ANY($3::bigint[]) AND j.id = u.id AND j.claim_id = $2::uuid AND ${ours}
      RETURNING j.id, j.status, u.error
     ),
     settled AS (SELECT status FROM settled_done UNION ALL SELECT status FROM settled_other)`;
}

function settleParams(args: { orgId: string; claimId: string; outcomes: JobOutcome[] }): unknown[] {
  const o = args.outcomes.filter((x): x is Exclude<JobOutcome, { outcome: 'done' }> => x.outcome !== 'done');
  return [
    args.orgId,
    args.claimId,
    o.map((x) => x.id),
    o.map((x) => x.outcome),
    o.map((x) => x.error),
    o.map((x) => x.statusCode),
    o.map((x) => (x.outcome === 'retry' ? x.delayMs : null)),
  ];
}

const doneIds = (outcomes: JobOutcome[]) => outcomes.filter((x) => x.outcome === 'done').map((x) => x.id);

function countSettled(rows: Array<{ status: string }>, total: number): SettleResult {
  let done = 0;
  let retried = 0;
  let deadLettered = 0;
  for (const r of rows) {
    if (r.status === 'done') done++;
    else if (r.status === 'failed') deadLettered++;
    else retried++;
  }
  return { done, retried, deadLettered, fenced: total - rows.length };
}

/** What a claim's requests did, for the per-delivery log and the destination's status. */
export interface ClaimReport {
  destinationId: string;
  /** One per HTTP request made for the claim (the successful ones are logged together: compactAttempts). */
  attempts: AttemptRecord[];
  /** The last request's result (null when no request was made: nothing is recorded on the destination). */
  last: { ok: boolean; error: string | null } | null;
  /** Whether any event of the claim was delivered (closes the circuit breaker). */
  delivered: boolean;
}

/**
 * Everything a finished claim writes, in one statement (one round trip, one commit) instead of four:
 * settles the jobs as the schedule says (fenced by the claim id; a retry due its delay after the
 * database's now(); a dead letter settled now), appends the delivery log rows (one per failed request,
 * one for the requests that delivered all they carried: compactAttempts), records
 * the last attempt on the destination (recordAttemptOutcome, with deadLettered taken from this very
 * settle) and, when something was delivered, closes the circuit breaker (noteRequestSuccess); the
 * destination only if the settle settled a job (SETTLED_ANY), the log once (LOG_ONCE).
 * Data-modifying CTEs all run, whether or not the final SELECT reads them.
 */
export async function settleClaim(db: Queryable, args: SettleArgs): Promise<SettleResult> {
  const q = settleClaimQuery(args);
  const { rows } = await db.query<{ status: string }>(q.text, q.values);
  return countSettled(rows, args.outcomes.length);
}

export interface SettleArgs {
  orgId: string;
  claimId: string;
  outcomes: JobOutcome[];
  report: ClaimReport;
  /**
   * The same settle sent again after its first try failed for want of the database: the first may
   * have committed with its answer lost. If this one then settles nothing (every job fenced), its
   * requests are not logged again (they were, or the lease ran out meanwhile: see LOG_ONCE).
   */
  retry?: boolean;
}

/**
 * A claim that settled none of its jobs (every one fenced: its lease ran out and another worker took
 * them, or this very settle already committed and its answer was lost) says nothing about the
 * destination: its requests stay in the delivery log (they were made), but the destination's last
 * attempt, error, failing streak and breaker are the current holder's to write. A claim with no job
 * to settle (every one given back) still records its last request.
 */
const SETTLED_ANY = `(cardinality($3::bigint[]) + cardinality($20::bigint[]) = 0 OR EXISTS (SELECT 1 FROM settled))`;

/**
 * The destination's error: a job this settle dead-lettered because it ran out of attempts ($21, the
 * candidates, given only when the last request failed) speaks for it, else the last request's error.
 */
const DEST_ERROR = `coalesce((SELECT s.error FROM settled_other s WHERE s.id = ANY($21::bigint[]) ORDER BY s.id LIMIT 1), $18::text)`;

/**
 * A settle sent again ($22) that settled nothing most likely repeats one that committed: its requests
 * are in the log already, and logged twice they would count the events twice (/stats). Should the
 * first try not have committed and the lease run out before the second, that claim's requests go
 * unlogged: the lesser error. A first try always logs, fenced or not: the requests were made.
 */
const LOG_ONCE = `(NOT $22::boolean OR ${SETTLED_ANY})`;

/** settleClaim's statement: the same text for every claim, so it is prepared once per connection. */
const SETTLE_CLAIM_SQL = prepared(`WITH ${settleCtes(20, 8)},
     logged AS (
       INSERT INTO delivery_attempts (org_id, destination_id, event_count, delivered_count, failed_count, status_code, duration_ms, error, response_snippet)
       SELECT $1, $8, * FROM unnest($9::int[], $10::int[], $11::int[], $12::int[], $13::int[], $14::text[], $15::text[])
       -- A destination deleted while its runner was sending has no log to append to.
       WHERE EXISTS (SELECT 1 FROM destinations WHERE org_id = $1 AND id = $8) AND ${LOG_ONCE}
     ),
     dest AS (
       UPDATE destinations SET
          ${settleDestinationSet('$16', '$17', DEST_ERROR, "EXISTS (SELECT 1 FROM settled WHERE status = 'failed')")}
        WHERE org_id = $1 AND id = $8 AND $19 AND ${SETTLED_ANY}
     )
     SELECT status FROM settled`);

/** settleClaim's statement and parameters (apart so that tests can read its plan). */
export function settleClaimQuery(args: SettleArgs): { text: string; values: unknown[] } {
  const { report } = args;
  const a = compactAttempts(report.attempts);
  // A claim whose failing requests used up a job's attempts says so on the destination too (the
  // product page: a dead letter is surfaced through its last_error), not the retry its last request's
  // error promised: if this settle did dead-letter it (DEST_ERROR), not when the job was fenced. Not
  // a job refused for good (one event the SIEM cannot take): the destination's own trouble, if any, is
  // the last request's error.
  const lastFailed = report.last !== null && !report.last.ok;
  const deadLetterIds = lastFailed ? args.outcomes.filter((o) => o.outcome === 'failed' && o.outOfRetries === true).map((o) => o.id) : [];
  return {
    text: SETTLE_CLAIM_SQL,
    values: [
      ...settleParams(args),
      report.destinationId,
      a.map((r) => r.eventCount),
      a.map((r) => r.deliveredCount),
      a.map((r) => r.failedCount),
      a.map((r) => r.statusCode),
      a.map((r) => Math.round(r.durationMs)),
      a.map((r) => r.error),
      a.map((r) => (r.responseSnippet ? r.responseSnippet.slice(0, 512) : null)),
      report.last?.ok ?? false,
      report.delivered,
      report.last?.error ?? null,
      report.last !== null,
      doneIds(args.outcomes),
      deadLetterIds,
      args.retry ?? false,
    ],
  };
}

/**
 * Gives claimed jobs back without counting an attempt: on shutdown, when a destination's circuit
 * breaker opens and the rest of a claim was never sent, or when the SIEM rate limited them (429).
 * They become due again at `at`, or `afterMs` from the database's now() (no clock skew), or now.
 * `shedSpellMs`: the SIEM shed them for load (migration 0019): the shed continues the job's spell of
 * sheds if the job was claimed at most this long after it was due again from the last one, else
 * starts a new one (outcome.ts shedSpellFor reads it the same way at the claim).
 */
export async function releaseJobs(db: Queryable, args: { claimId: string; ids: number[]; at?: Date; afterMs?: number; shedSpellMs?: number }): Promise<number> {
  if (args.ids.length === 0) return 0;
  const { rowCount } = await db.query(RELEASE_JOBS_SQL, [args.claimId, args.ids, args.at ?? null, args.afterMs ?? null, args.shedSpellMs ?? null]);
  return rowCount;
}

/** By primary key, fenced by the claim id alone (see settleCtes). */
export const RELEASE_JOBS_SQL = prepared(`UPDATE forwarding_jobs j SET claim_id = NULL, next_attempt_at = d.due,
            shed_since = CASE WHEN $5::float8 IS NULL THEN j.shed_since
                              WHEN j.shed_since IS NULL OR j.shed_due_at < now() - make_interval(secs => $5::float8 / 1000.0) THEN now()
                              ELSE j.shed_since END,
            shed_due_at = CASE WHEN $5::float8 IS NULL THEN j.shed_due_at ELSE d.due END
       FROM (SELECT CASE WHEN $4::float8 IS NOT NULL THEN now() + make_interval(secs => $4::float8 / 1000.0)
                         ELSE coalesce($3::timestamptz, now()) END AS due) d
      WHERE j.id = ANY($2::bigint[]) AND j.claim_id = $1::uuid`);
