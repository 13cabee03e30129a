// A destination's delivery state, and every statement that changes it: the circuit breaker
// (consecutive_failures, paused_until), the last attempt (last_attempt_*, last_error*, failing_since,
// last_delivery_at, last_dead_letter_at, and their order: outcome_seq, last_*_seq), the hold-limit pause and the reset on re-enable or replay.
// One module, so the rules that the card, the alerts and the hold limit read are stated once.
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
 * The pause after each failure from the threshold on (pauseSeconds at threshold, threshold + 1, ...,
 * up to the cap), for the statement below to look up: the rule is pauseSeconds, stated once.
 */
const PAUSE_SCHEDULE_S: number[] = [];
for (let n = BREAKER_THRESHOLD; PAUSE_SCHEDULE_S.at(-1) !== MAX_PAUSE_S; n++) PAUSE_SCHEDULE_S.push(pauseSeconds(n));

/** A request's claim and the jobs it carried (see noteRequestFailure). */
export interface ClaimFence {
  claimId: string;
  ids: number[];
}

/** No fence given, or the claim still holds one of the jobs (by primary key, as settleJobs finds them). */
const CLAIM_HOLDS = (claimId: string, ids: string) =>
  `(${claimId}::uuid IS NULL OR EXISTS (SELECT 1 FROM forwarding_jobs j WHERE j.id = ANY(${ids}::bigint[]) AND j.claim_id = ${claimId}::uuid))`;

/**
 * Records a whole-request failure; returns the pause end when the destination is (now or already)
 * paused, else null. Failures of requests that were already in flight when the breaker opened do not
 * count again: otherwise one burst of concurrent failures (16 requests of a webhook lane) would
 * escalate the pause straight to its maximum. So consecutive_failures is the threshold plus the
 * number of failed probes, and each failed probe doubles the pause.
 * One statement (the count and the pause it calls for, from the row as it is): a silent SIEM fails
 * every request, and two statements per failure doubled what its timeouts cost the database.
 * `fence`: the claim the request was sent for and its jobs; a claim that no longer holds any of them
 * (its lease ran out and another worker claimed them) says nothing about the destination any more, so
 * its request's failure is not counted (nor, in noteRequestSuccess, its success).
 */
export async function noteRequestFailure(db: Queryable, orgId: string, id: string, fence?: ClaimFence): Promise<Date | null> {
  const { rows } = await db.query<{ paused_until: Date | null; paused: boolean }>(
    `UPDATE destinations
        SET consecutive_failures = consecutive_failures + CASE WHEN paused_until > now() THEN 0 ELSE 1 END,
            paused_until = CASE
              WHEN paused_until > now() THEN paused_until
              WHEN consecutive_failures + 1 >= $3
                THEN now() + make_interval(secs => ($4::float8[])[least(consecutive_failures + 2 - $3, cardinality($4::float8[]))])
              ELSE paused_until END
      WHERE org_id = $1 AND id = $2 AND ${CLAIM_HOLDS('$5', '$6')}
      RETURNING paused_until, coalesce(paused_until > now(), false) AS paused`,
    [orgId, id, BREAKER_THRESHOLD, PAUSE_SCHEDULE_S, fence?.claimId ?? null, fence?.ids ?? null],
  );
  const row = rows[0];
  return row?.paused ? row.paused_until : null;
}

export async function noteRequestSuccess(db: Queryable, orgId: string, id: string, fence?: ClaimFence): Promise<void> {
  await db.query(
    `UPDATE destinations SET consecutive_failures = 0, paused_until = NULL
      WHERE org_id = $1 AND id = $2 AND (consecutive_failures <> 0 OR paused_until IS NOT NULL) AND ${CLAIM_HOLDS('$3', '$4')}`,
    [orgId, id, fence?.claimId ?? null, fence?.ids ?? null],
  );
}

/**
 * Every recorded outcome takes the next number on the row (migration 0024), and the last delivery and
 * dead letter keep theirs (the SET list's right-hand sides read the row as it was, so all three are one
 * number). What came after what is read from these, never from the times: a settle's now() is its
 * statement's start, so one that waited for the row behind another carries the earlier time though
 * it came second, and PGlite's clock gives settles in one millisecond one time. The number is taken
 * under the row's lock, in the order the settles commit. Migration 0024's trigger restates the rule for
 * the writes of a release before it (times alone): change both.
 */
const OUTCOME_SEQ_SET = 'outcome_seq = outcome_seq + 1';

/** `column` takes this outcome's number when `when` (an SQL boolean) holds, else keeps its own. */
const numberedWhen = (when: string, column: 'last_delivery_seq' | 'last_dead_letter_seq') =>
  `${column} = CASE WHEN ${when} THEN outcome_seq + 1 ELSE ${column} END`;

/** A dead letter outside a settle (the hold limit's batches, queue/holdLimit.ts): its time and number. */
export const DEAD_LETTER_STAMP = `last_dead_letter_at = now(), ${OUTCOME_SEQ_SET}, ${numberedWhen('true', 'last_dead_letter_seq')}`;

/**
 * The delivery-state rule of a destination row after an attempt, as a SET list, stated once for the
 * probe (recordAttemptOutcome) and the worker's one-statement settle (settleDestinationSet). The
 * arguments are SQL expressions: booleans ok, delivered and deadLettered, and the error text.
 * A failed attempt records its error and continues the failing streak, or starts one: from now when
 * this attempt also delivered (`streakEnds`: a claim whose earlier request delivered ends the old
 * streak, its failed last request starts a new one), so a failing destination always says why, and
 * since when. A successful attempt that delivered clears the error and ends the streak; one that
 * delivered nothing (a probe) keeps the error. `streakEnds` defaults to delivered.
 * While the hold limit pauses the destination its streak and its last_error (what to do to resume)
 * are frozen: a late settle or a test event does not replace them.
 */
function attemptOutcomeSet(ok: string, delivered: string, error: string, deadLettered: string, streakEnds = delivered): string {
  const keepError = `hold_paused_at IS NOT NULL OR (${ok} AND NOT ${delivered})`;
  return `last_attempt_at = now(),
        failing_since = CASE WHEN hold_paused_at IS NOT NULL THEN failing_since
                             WHEN NOT ${ok} THEN CASE WHEN ${streakEnds} THEN now() ELSE coalesce(failing_since, now()) END
                             WHEN ${streakEnds} THEN NULL ELSE failing_since END,
        last_attempt_ok = ${ok},
        last_delivery_at = CASE WHEN ${delivered} THEN now() ELSE last_delivery_at END,
        last_error = CASE WHEN ${keepError} THEN last_error WHEN ${ok} THEN NULL ELSE coalesce(${error}, last_error) END,
        last_error_at = CASE WHEN ${keepError} THEN last_error_at WHEN ${ok} THEN NULL ELSE now() END,
        last_dead_letter_at = CASE WHEN ${deadLettered} THEN now() ELSE last_dead_letter_at END,
        ${OUTCOME_SEQ_SET},
        ${numberedWhen(delivered, 'last_delivery_seq')},
        ${numberedWhen(deadLettered, 'last_dead_letter_seq')}`;
}

/**
 * The SET list of the settle statement (queue/settleJobs.ts) for the destination: the last attempt
 * as attemptOutcomeSet records it, and, when something was delivered, the breaker closed (what
 * noteRequestSuccess does) in the same statement. Arguments are SQL expressions, as above.
 */
export function settleDestinationSet(ok: string, delivered: string, error: string, deadLettered: string): string {
  return `${attemptOutcomeSet(ok, delivered, error, deadLettered)},
          consecutive_failures = CASE WHEN ${delivered} THEN 0 ELSE consecutive_failures END,
          paused_until = CASE WHEN ${delivered} THEN NULL ELSE paused_until END`;
}

/**
 * Records the outcome of a delivery request or a test probe on the destination row; a test that
 * reached the SIEM (testDelivered) also stamps last_test_ok_at and closes the circuit breaker, as a
 * delivery does: the user fixed the destination and proved it, and its queued events go now rather
 * than when a pause of up to 10 minutes runs out. The hold limit's pause is not the breaker's: only a
 * replay or re-enabling lifts it (resumeHeld).
 */
export async function recordAttemptOutcome(
  db: Queryable,
  orgId: string,
  id: string,
  outcome: { ok: boolean; delivered: boolean; error: string | null; deadLettered: boolean; testDelivered?: boolean },
): Promise<void> {
  await db.query(
    // A test event that got through ends a failing streak too: the destination works again.
    `UPDATE destinations SET ${attemptOutcomeSet('$3', '$4', '$5', '$6', '($4 OR $7)')},
        last_test_ok_at = CASE WHEN $7 THEN now() ELSE last_test_ok_at END,
        consecutive_failures = CASE WHEN $7 THEN 0 ELSE consecutive_failures END,
        paused_until = CASE WHEN $7 THEN NULL ELSE paused_until END
      WHERE org_id = $1 AND id = $2`,
    [orgId, id, outcome.ok, outcome.delivered, outcome.error, outcome.deadLettered, outcome.testDelivered ?? false],
  );
}

/**
 * The SET list that lifts any pause (breaker or hold limit) and starts a new failing streak: for a
 * destination re-enabled (destinations/writes.ts) or resumed by a replay (resumeHeld).
 */
export const RESET_DELIVERY_STATE = 'paused_until = NULL, consecutive_failures = 0, hold_paused_at = NULL, failing_since = NULL';

/**
 * Pauses a destination for the hold limit (queue/holdLimit.ts), with `error` as its last_error: a
 * compare-and-set on the failing streak it judged (`sinceText`, failing_since as text: it round-trips
 * to the microsecond), so two workers never pause it twice. Returns whether this call paused it.
 */
export async function holdPause(db: Queryable, orgId: string, id: string, sinceText: string, error: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE destinations SET hold_paused_at = now(), last_attempt_ok = false, last_error = $4, last_error_at = now()
      WHERE org_id = $1 AND id = $2 AND enabled AND hold_paused_at IS NULL AND failing_since = $3::timestamptz`,
    [orgId, id, sinceText, error],
  );
  return rowCount > 0;
}

/**
 * Lifts a hold-limit pause (a replay resumes the destination) and starts a new streak: the limit
 * counts again from the next failure. The breaker starts afresh too, so the replayed events flow at
 * once. Returns whether the destination was paused by the hold limit.
 */
export async function resumeHeld(db: Queryable, orgId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE destinations SET ${RESET_DELIVERY_STATE} WHERE org_id = $1 AND id = $2 AND hold_paused_at IS NOT NULL`, [
    orgId,
    id,
  ]);
  return rowCount > 0;
}

/**
 * Whether nobody has taken the destination's work for `seconds`: a job it would be sent (any pending
 * one while it is enabled; its farewell once it is not) due for longer, and in that time no delivery,
 * no attempt recorded but `ownError` (the text a process that cannot open the credential records),
 * and no job claimed under a running lease. A worker that cannot open the destination's credential
 * asks this before it records anything on the shared row: while another process (one whose
 * AEGIS_ENCRYPTION_KEY holds the key, during a rolling rotation) works on it, delivering or failing
 * against a SIEM that is down, the failure is this process's own, and writing it would show the tenant
 * an error that is not the destination's and open the breaker for every worker.
 */
export async function untakenFor(db: Queryable, orgId: string, id: string, seconds: number, ownError: string): Promise<boolean> {
  const { rows } = await db.query<{ untaken: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM forwarding_jobs j
                     WHERE j.destination_id = d.id AND j.status = 'pending' AND (d.enabled OR j.farewell)
                       AND j.next_attempt_at < now() - make_interval(secs => $3))
        AND NOT coalesce(d.last_delivery_at >= now() - make_interval(secs => $3), false)
        AND NOT coalesce(d.last_attempt_at >= now() - make_interval(secs => $3) AND d.last_error IS DISTINCT FROM $4, false)
        AND NOT EXISTS (SELECT 1 FROM forwarding_jobs j
                         WHERE j.destination_id = d.id AND j.status = 'pending' AND j.claim_id IS NOT NULL AND j.next_attempt_at > now()) AS untaken
       FROM destinations d WHERE d.org_id = $1 AND d.id = $2`,
    [orgId, id, seconds, ownError],
  );
  return rows[0]?.untaken ?? false;
}
