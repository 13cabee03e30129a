// What happened to a delivery, and what follows from it: one outcome model and one decision.
// Every source of an outcome maps into DeliveryOutcome once (interpretAnswer.ts: the encoder's
// verdict, a network error; deliverBatch.ts: a token endpoint that refused; claimPlan.ts: an event
// refused before sending; ackTracker.ts: a Splunk ack that never came). decide() then says what the
// request means for its jobs and the destination; the worker, the probe's hint and the settle
// statement all take it from there. schedule() then turns a job's decision into what the settle
// statement applies: done, dead letter with its reason, or retry after a delay (the attempt limit,
// ±10% jitter, the Retry-After floor). Pure: no clock, no database, no I/O (the randomness is passed in).
// Two rules stay in the worker's shell (deliverClaim.ts) because they need what only it holds: the
// hint for one event refused with 413 (its encoded size, the halvings so far) and "429 for too long
// is failing" (the destination limiter's clock). The attempt count schedule() needs is the claimed
// job's: no one else can change it while the claim id holds (a re-claim after the lease changes the
// claim id, and the settle statement fences the old one out).
import { withoutRetryTail } from '../queue/holdLimit.js';
import type { JobOutcome } from '../queue/types.js';

/** Where a delivery failed: before anything was sent, on the network, in the HTTP answer, or per item inside an accepted answer. */
export type Stage = 'before_send' | 'network' | 'http' | 'item';

/** How one event fared in one attempt. */
export type DeliveryOutcome =
  | { ok: true }
  | {
      ok: false;
      stage: Stage;
      /** The action-oriented sentence users see (last_error, the delivery log, the probe's answer). */
      reason: string;
      /** The SIEM's own answer code (the HTTP status), or null when it was not reached. */
      statusCode: number | null;
      /** How long the SIEM asked us to wait (Retry-After, clamped; failure.ts). */
      retryAfterMs?: number;
      /** Sending the same bytes again cannot succeed (a per-item refusal, an event that cannot be sent). */
      permanent: boolean;
      /**
       * The SIEM said "too many" for this event alone, inside an accepted request (an Elastic _bulk
       * item 429): the destination's limits are lowered when the SIEM took none of the request, and
       * the event still spends an attempt (a circuit breaker that a document too large for it trips
       * every time must end in a dead letter).
       */
      slowDown?: boolean;
      /**
       * The SIEM shed this event for load (an Elastic item 429 es_rejected_execution_exception: its
       * write queue full): pacing, as a request-level 429 is. The job goes back without an attempt
       * within the pacing window of its spell of sheds (shedDecision, shedSpellFor), and the limits are
       * lowered when the SIEM took none of the request. Never permanent.
       */
      throttled?: boolean;
    };

export type Failure = Extract<DeliveryOutcome, { ok: false }>;

/** What becomes of one job from its outcome alone, before the schedule (schedule() below). */
export type JobDecision =
  | { outcome: 'done' }
  | { outcome: 'retry'; error: string; statusCode: number | null; retryAfterMs?: number }
  | { outcome: 'failed'; error: string; statusCode: number | null };

type WithoutId<T> = T extends { id: number } ? Omit<T, 'id'> : never;
/** What the settle statement applies to one job (queue/settleJobs.ts), without its id. */
export type JobSettlement = WithoutId<JobOutcome>;

/**
 * One job's fate from its outcome alone: delivered; dead-lettered now with the reason (permanent);
 * or a failed attempt, retried on the schedule (schedule()), never before Retry-After.
 */
export function decideItem(outcome: DeliveryOutcome): JobDecision {
  if (outcome.ok) return { outcome: 'done' };
  if (outcome.permanent) return { outcome: 'failed', error: outcome.reason, statusCode: outcome.statusCode };
  return {
    outcome: 'retry',
    error: outcome.reason,
    statusCode: outcome.statusCode,
    ...(outcome.retryAfterMs ? { retryAfterMs: outcome.retryAfterMs } : {}),
  };
}

/** An event the SIEM shed for load, in a request settled otherwise: its job goes back without an attempt (deliverClaim.ts). */
export interface GiveBack {
  outcome: 'give_back';
}

/**
 * What becomes of one event of a settled request: its job's decision, or given back. Only JobDecision
 * reaches the schedule and the settle statement; a given-back job is released, as after a 429.
 */
export type EventDecision = JobDecision | GiveBack;

/** One event of a request: given back when the SIEM shed it for load, else its job's decision (decideItem). */
export function decideEvent(outcome: DeliveryOutcome): EventDecision {
  return !outcome.ok && outcome.throttled ? { outcome: 'give_back' } : decideItem(outcome);
}

/**
 * An event the SIEM shed for load, by how long the SIEM has been shedding its job (`shedForMs`, since
 * the job's first shed: 0 for a first one): given back without an attempt within `paceWindowMs`
 * (AEGIS_RATE_LIMITED_FAILING_AFTER_S, the time after which a SIEM that only paces counts as failing);
 * after it, the shed is an ordinary failed attempt on the schedule. A busy spell that long costs no
 * attempt however long the job had waited before it, and a document the SIEM sheds every time (a
 * hostile or broken answer, a hot shard) ends as a dead letter, never in a loop. A window of 0: every
 * shed is an attempt.
 */
export function shedDecision(outcome: Failure, shedForMs: number, paceWindowMs: number): EventDecision {
  return shedForMs < paceWindowMs ? { outcome: 'give_back' } : decideItem({ ...outcome, throttled: false });
}

/**
 * How long the SIEM has been shedding a job when it is claimed (shedDecision's `shedForMs`), on the
 * database's clock: since its spell's first shed, or 0 when it was never shed or was claimed more than
 * `paceWindowMs` after it was due again from its last shed. A pause, an outage, failures of another
 * kind in between are not shedding, so a later shed starts a new spell (the release statement records
 * it so, migration 0019); the waits Aegis set after a shed are, so a document shed every time, claimed
 * when due each time, stays in one spell and ends as a dead letter.
 */
export function shedSpellFor(job: { claimedAt: Date; shedSince: Date | null; shedDueAt: Date | null }, paceWindowMs: number): number {
  if (job.shedSince === null || job.shedDueAt === null) return 0;
  const claimed = job.claimedAt.getTime();
  return claimed - job.shedDueAt.getTime() > paceWindowMs ? 0 : claimed - job.shedSince.getTime();
}

/** One request's result as decide() reads it (deliverBatch.ts RequestOutcome satisfies it). */
export interface RequestResult {
  /** Aligned with the events sent. */
  items: DeliveryOutcome[];
  statusCode: number | null;
  /** The request-level error, or null when the SIEM accepted the request. */
  error: string | null;
  /** Splunk indexer acknowledgement: accepted under this ackId (delivered once Splunk confirms). */
  ackId?: number;
}

export type RequestDecision =
  /** 413 for several events: sent again at once as two halves, no attempt spent, nothing settled. */
  | { kind: 'split' }
  /**
   * 429 with nothing delivered (a request-level 429, or every item shed for load): the SIEM paces us.
   * The jobs go back without an attempt, due when the destination's limiter allows (lowered, not before
   * Retry-After); not a failure for the breaker.
   */
  | { kind: 'give_back'; retryAfterMs?: number }
  /** Accepted under an ackId: the jobs stay claimed until Splunk confirms (ackTracker.ts). */
  | { kind: 'await_ack' }
  | {
      kind: 'settle';
      /** One per event sent, in order: an event the SIEM shed for load is given back, the others settle. */
      jobs: EventDecision[];
      delivered: number;
      /**
       * The SIEM asked to slow down (503 with Retry-After, or item 429s in a request it took none of):
       * lower the destination's limits.
       */
      throttle: boolean;
      retryAfterMs?: number;
      /**
       * The circuit breaker: 'failure' (nothing delivered, the request failed: counts towards pausing
       * the destination), 'success' (something delivered: closes it), 'none'.
       */
      breaker: 'failure' | 'success' | 'none';
    };

/** An event accepted in a request Splunk refused in part, under indexer acknowledgement (decide). */
export const UNCONFIRMED_ERROR =
  'Splunk accepted this event in a request it refused in part, with no ackId to confirm it by (indexer acknowledgement); Aegis will retry.';

/**
 * The one decision for a request's result. `ack`: the destination uses Splunk indexer
 * acknowledgement. Rules, as the product states them: 2xx delivers; a per-item refusal dead-letters
 * that item; every other failure (any non-2xx, any network error) is a retried attempt; 413 for
 * several events splits them; 429 spends no attempt, nor does an item the SIEM shed for load.
 */
export function decide(out: RequestResult, events: number, ack: boolean): RequestDecision {
  if (out.statusCode === 413 && events > 1) return { kind: 'split' };
  // Under indexer acknowledgement only Splunk's `true` for a request's ackId confirms its events. A
  // request refused in part (400 code 6: the events before invalid-event-number were accepted) has
  // no ackId: what it accepted is unconfirmed, a failed attempt sent again (a copy, never a loss).
  if (ack && out.error !== null && out.items.some((i) => i.ok)) {
    const unconfirmed: DeliveryOutcome = { ok: false, stage: 'item', reason: UNCONFIRMED_ERROR, statusCode: out.statusCode, permanent: false };
    out = { ...out, items: out.items.map((i) => (i.ok ? unconfirmed : i)) };
  }
  const delivered = out.items.filter((i) => i.ok).length;
  const failures = out.items.filter((i): i is Failure => !i.ok);
  const retryAfterMs = failures.find((i) => !i.permanent)?.retryAfterMs;
  const after = retryAfterMs !== undefined ? { retryAfterMs } : {};
  // Every event shed for load is the same "later" as a request-level 429.
  const allShed = out.items.length > 0 && failures.length === out.items.length && failures.every((f) => f.throttled);
  if (delivered === 0 && (out.statusCode === 429 || allShed)) return { kind: 'give_back', ...after };
  if (ack && out.error === null && out.ackId !== undefined) return { kind: 'await_ack' };
  return {
    kind: 'settle',
    jobs: out.items.map(decideEvent),
    delivered,
    // Splunk's "server busy": a 503 with Retry-After stays a failed attempt (it may be a real outage,
    // which the schedule and the breaker are there for), but nothing starts before Retry-After. Item
    // 429s lower the limits when the SIEM took none of the request; one that took the rest is keeping
    // up, and halving its rate for each document it sheds would let one document it never takes pin
    // the destination at its floor (as Elastic's own bulk helper, only the shed items wait).
    throttle: (out.statusCode === 503 && retryAfterMs !== undefined) || (delivered === 0 && failures.some((f) => f.throttled || f.slowDown)),
    ...after,
    breaker: delivered > 0 ? 'success' : out.error !== null ? 'failure' : 'none',
  };
}

/**
 * The retry schedule, applied to one job's decision. `attemptsBefore`: attempts made before this one
 * (the claimed job's count); `retryDelaysS`: the delay before each retry (AEGIS_RETRY_DELAYS_S), so a
 * job is attempted at most `retryDelaysS.length + 1` times; `random` in [0, 1) jitters the delay by
 * ±10% so that jobs failed together do not all come back in the same instant. A failed attempt past
 * the schedule is dead-lettered with its error; otherwise it is retried after the jittered delay,
 * never before the SIEM's Retry-After. The settle statement adds the delay to the database's clock.
 */
export function schedule(decision: JobDecision, attemptsBefore: number, retryDelaysS: readonly number[], random: number): JobSettlement {
  if (decision.outcome !== 'retry') return decision;
  const { error, statusCode, retryAfterMs } = decision;
  const delayS = retryDelaysS[attemptsBefore];
  if (delayS === undefined) return { outcome: 'failed', error: outOfRetriesError(error, attemptsBefore + 1), statusCode, outOfRetries: true };
  return { outcome: 'retry', error, statusCode, delayMs: Math.max(delayS * 1000 * (0.9 + random * 0.2), retryAfterMs ?? 0) };
}

/**
 * A job's last_error once its attempts are spent: what went wrong, without the "Aegis will retry" it
 * no longer gets (the dead letter is surfaced through this text, on the job and on the destination),
 * and what the user does next.
 */
export function outOfRetriesError(error: string, attempts: number): string {
  const cause = withoutRetryTail(error).replace(/[\s;,.]+$/, '');
  return `${cause ? `${cause}. ` : ''}Dead-lettered after ${attempts} attempt${attempts === 1 ? '' : 's'}: fix the destination, then replay its failed events.`;
}

/** One claimed job's decision, with the attempts it had made before this one (its claimed count). */
export interface ClaimedDecision {
  id: number;
  attempts: number;
  decision: JobDecision;
}

/**
 * What the settle statement applies to a claim's jobs: schedule() for each, one random number per job
 * (jobs failed together come back spread out). Used by the worker and the Splunk ack tracker alike.
 */
export function scheduleJobs(jobs: readonly ClaimedDecision[], retryDelaysS: readonly number[], random: () => number = Math.random): JobOutcome[] {
  return jobs.map(({ id, attempts, decision }) => ({ id, ...schedule(decision, attempts, retryDelaysS, random()) }));
}
