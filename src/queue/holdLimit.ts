// The hold limit (AEGIS_MAX_HOLD_HOURS, docs/alerts.md#hold-limit): a destination whose requests
// have failed without a break that long is paused and its pending jobs are dead-lettered, so an
// outage never holds events without end; a replay (or re-enabling) resumes it (deliveryState.ts holds
// the statements that pause and resume the destination row); the worker runs enforceHoldLimit on a timer.
import type { Queryable } from '../db/types.js';
import { DEAD_LETTER_STAMP, holdPause } from './deliveryState.js';

/** The start of every job error this writes: how a replay of them is told apart, and never nested. */
export const HOLD_DEAD_LETTER_PREFIX = 'Dead-lettered by the hold limit';

/** Jobs dead-lettered per statement: bounded, so a week's backlog never makes one giant transaction. */
export const HOLD_DEAD_LETTER_BATCH = 5000;
/** Batches per destination per round; the next round goes on where this one stopped. */
const MAX_BATCHES_PER_ROUND = 20;
const DESTINATIONS_PER_ROUND = 100;

const iso = (d: Date) => new Date(d).toISOString();

/**
 * The "Aegis will retry" tail of queue errors (delivery/failure.ts): no longer true once paused, nor
 * of a one-off probe (delivery/probe.ts). A string, as PostgreSQL's regexp_replace and JavaScript's
 * RegExp both read it the same way.
 */
export const RETRY_TAIL = '[;,.]?\\s*Aegis will retry( later)?(, honouring Retry-After)?\\.?$';
const RETRY_TAIL_RE = new RegExp(RETRY_TAIL);
/** `error` with its "Aegis will retry" tail (RETRY_TAIL) replaced by a full stop. */
export const withoutRetryTail = (error: string): string => error.replace(RETRY_TAIL_RE, '.');

/** The destination's last_error while the hold limit pauses it: what happened and what to do. */
export function holdPausedError(failingSince: Date, maxHoldHours: number, lastError: string | null): string {
  const cause = lastError ? ` Last error: ${withoutRetryTail(lastError)}` : '';
  return (
    `Paused by the hold limit: failing without a break since ${iso(failingSince)} (${maxHoldHours} h, the service's hold limit); ` +
    `its queued events were dead-lettered.${cause} Fix the destination, then replay its dead-lettered events to resume.`
  );
}

/** A dead-lettered job's last_error (its own previous error is appended in SQL). */
export function holdDeadLetterError(failingSince: Date, maxHoldHours: number): string {
  return (
    `${HOLD_DEAD_LETTER_PREFIX}: the destination failed without a break from ${iso(failingSince)} for ${maxHoldHours} h (the service's hold limit) and was paused. ` +
    'Replay this event once the destination is fixed.'
  );
}

export interface HoldRound {
  /** Destinations this round paused (the alerter judges them). */
  paused: Array<{ orgId: string; id: string }>;
  /** Jobs dead-lettered this round, per destination. */
  deadLettered: Array<{ orgId: string; id: string; siem: string; count: number }>;
}

/**
 * One round: pauses every enabled destination whose failing streak reached the limit, then
 * dead-letters the pending jobs of every paused one (those held when it was paused, and events
 * recorded for it since), each batch only while it is still paused (deadLetterHeldBatch). Safe with many workers: the pause is a compare-and-set on the streak it
 * judged, and jobs are taken with SKIP LOCKED (a job another worker has claimed is dead-lettered
 * too: its settle is fenced by status, so a late outcome cannot revive it).
 */
export async function enforceHoldLimit(db: Queryable, maxHoldHours: number): Promise<HoldRound> {
  // failing_since also as text: it round-trips to the microsecond, which a JS Date does not, and the
  // pause below compares it.
  const { rows: due } = await db.query<{ org_id: string; id: string; failing_since: Date; since_text: string; last_error: string | null }>(
    `SELECT org_id, id, failing_since, failing_since::text AS since_text, last_error FROM destinations
      WHERE failing_since IS NOT NULL AND hold_paused_at IS NULL AND enabled
        AND failing_since <= now() - make_interval(hours => $1::int)
      ORDER BY failing_since LIMIT $2`,
    [maxHoldHours, DESTINATIONS_PER_ROUND],
  );
  const paused: HoldRound['paused'] = [];
  for (const d of due) {
    if (await holdPause(db, d.org_id, d.id, d.since_text, holdPausedError(d.failing_since, maxHoldHours, d.last_error)))
      paused.push({ orgId: d.org_id, id: d.id });
  }
  // hold_paused_at also as text: each batch checks the destination is still held by this very pause.
  const { rows: held } = await db.query<{ org_id: string; id: string; siem: string; failing_since: Date | null; hold_paused_at: Date; paused_text: string }>(
    `SELECT d.org_id, d.id, d.siem, d.failing_since, d.hold_paused_at, d.hold_paused_at::text AS paused_text FROM destinations d
      WHERE d.hold_paused_at IS NOT NULL AND d.enabled
        AND EXISTS (SELECT 1 FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'pending')
      ORDER BY d.hold_paused_at LIMIT $1`,
    [DESTINATIONS_PER_ROUND],
  );
  const deadLettered: HoldRound['deadLettered'] = [];
  for (const d of held) {
    const error = holdDeadLetterError(d.failing_since ?? d.hold_paused_at, maxHoldHours);
    let count = 0;
    for (let i = 0; i < MAX_BATCHES_PER_ROUND; i++) {
      const n = await deadLetterHeldBatch(db, d.org_id, d.id, d.paused_text, error);
      count += n;
      if (n < HOLD_DEAD_LETTER_BATCH) break;
    }
    if (count > 0) deadLettered.push({ orgId: d.org_id, id: d.id, siem: d.siem, count });
  }
  return { paused, deadLettered };
}

/**
 * Dead-letters one batch of a paused destination's pending jobs and stamps the dead letter (DEAD_LETTER_STAMP), only
 * while it is still held by the pause listed (`pausedText`, hold_paused_at as text) and enabled. The
 * round's list is read before its batches: a replay (resumeHeld) or a disable and enable may have
 * committed since, and the jobs it revived, or events recorded after it, are then live. The row is
 * locked first (FOR NO KEY UPDATE, as the stamp and resumeHeld take it): a resume committed before
 * this statement reaches the row, or while it waits for it, leaves `held` empty (PostgreSQL rechecks
 * the condition on the row as committed), so no job is taken; a resume that comes after waits for
 * this batch. The jobs are then taken with SKIP LOCKED and never waited for.
 */
async function deadLetterHeldBatch(db: Queryable, orgId: string, id: string, pausedText: string, error: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH held AS (
       SELECT 1 FROM destinations
        WHERE org_id = $1 AND id = $2 AND enabled AND hold_paused_at = $7::timestamptz
          FOR NO KEY UPDATE
     ), picked AS (
       SELECT id FROM forwarding_jobs WHERE org_id = $1 AND destination_id = $2 AND status = 'pending' AND EXISTS (SELECT 1 FROM held)
        ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED
     ), gone AS (
       UPDATE forwarding_jobs j
          SET status = 'failed', claim_id = NULL, settled_at = now(),
              -- The job's own last error says what the SIEM answered; an earlier hold's text is not nested.
              last_error = $3 || CASE WHEN j.last_error IS NULL OR left(j.last_error, length($4)) = $4 THEN ''
                                      ELSE ' Its last error: ' || regexp_replace(j.last_error, $6, '.') END
        WHERE j.org_id = $1 AND j.id = ANY(ARRAY(SELECT id FROM picked))
       RETURNING 1
     ), stamped AS (
       UPDATE destinations SET ${DEAD_LETTER_STAMP}
        WHERE org_id = $1 AND id = $2 AND EXISTS (SELECT 1 FROM gone)
     )
     SELECT count(*)::int AS n FROM gone`,
    [orgId, id, error, HOLD_DEAD_LETTER_PREFIX, HOLD_DEAD_LETTER_BATCH, RETRY_TAIL, pausedText],
  );
  return rows[0]?.n ?? 0;
}
