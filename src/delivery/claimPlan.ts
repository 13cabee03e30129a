// The worker's planning, pure: how a destination's runner and lanes are shaped from its state, and
// what a claim becomes before anything is sent (request-sized groups, and the jobs dead-lettered
// because no request can carry them). The I/O shell that claims, sends and settles is
// deliverClaim.ts and destinationRunner.ts; nothing here reads a clock or a database.
import { BREAKER_THRESHOLD } from '../queue/deliveryState.js';
import type { ClaimedJob } from '../queue/types.js';
import { getPresetInfo } from '../siem/catalog.js';
import { StoredEvent } from '../siem/storedEvent.js';
import {
  EVENT_AGE_MARGIN_MS,
  distanceOnSide,
  epochMillis,
  eventTimeLimits,
  maxEventBytesOf,
  planBatches,
  type EncodeContext,
  type EventTimeLimit,
  type SiemEncoder,
  type SiemEvent,
} from '../siem/types.js';
import { decideItem, type JobDecision } from './outcome.js';
import type { WorkerConfig } from './workerConfig.js';

/** Why an event is dead-lettered without being sent: no raw values, only sizes and the limit. */
export function oversizeReason(siem: SiemEncoder['id'], bytes: number, limit: number): string {
  return `Event too large for ${getPresetInfo(siem).label}: ${bytes} bytes encoded, over its per-event limit of ${limit} bytes; dead-lettered, it can never be accepted.`;
}

const hours = (ms: number) => `${Math.floor(ms / 3_600_000)} h`;

/** Inside the margin the event is still a little within the limit: say why it was refused anyway. */
function marginNote(distanceMs: number, limitMs: number): string {
  return distanceMs <= limitMs ? ` (within the ${EVENT_AGE_MARGIN_MS / 60_000}-minute margin for clocks)` : '';
}

/** Why an event is dead-lettered for its age: how old it is and what the SIEM would do with it. */
export function tooOldReason(siem: SiemEncoder['id'], ageMs: number, maxAgeMs: number): string {
  const { label } = getPresetInfo(siem);
  const margin = marginNote(ageMs, maxAgeMs);
  return (
    `Event too old for ${label}: its @timestamp is ${hours(ageMs)} old${margin}, and ${label} drops events older than ${hours(maxAgeMs)} ` +
    'after answering 2xx; dead-lettered instead of lost silently (docs/siem explains the limit).'
  );
}

/**
 * Why an event is dead-lettered for a @timestamp too far ahead: its time (normalised; a time, never
 * a value), how far ahead, the SIEM's window, and what to fix: no event happens in the future, so the
 * clock of whatever recorded it is wrong (a replay sends it only once its time is within the window).
 */
export function tooFarAheadReason(siem: SiemEncoder['id'], timestampMs: number, aheadMs: number, maxAheadMs: number): string {
  const { label } = getPresetInfo(siem);
  const margin = marginNote(aheadMs, maxAheadMs);
  return (
    `Event dated in the future for ${label}: its @timestamp ${new Date(timestampMs).toISOString()} is ${hours(aheadMs)} ahead of Aegis's clock${margin}, ` +
    `and ${label} drops events more than ${hours(maxAheadMs)} in the future after answering 2xx. ` +
    "The source's clock is likely wrong: correct the time of the agent or host that recorded it. " +
    'Dead-lettered instead of lost silently (docs/siem explains the limit).'
  );
}

const OUTSIDE_REASON: Readonly<Record<EventTimeLimit['side'], (siem: SiemEncoder['id'], timestampMs: number, distanceMs: number, limitMs: number) => string>> =
  {
    past: (siem, _t, ageMs, limitMs) => tooOldReason(siem, ageMs, limitMs),
    future: tooFarAheadReason,
  };

/** The error of events still refused with 413 after the halvings: what it means and what to check. */
export function tooLargeHint(siem: SiemEncoder['id'], events: number, bytes: number, halvings: number): string {
  const { label } = getPresetInfo(siem);
  const split = halvings > 0 ? ` even after ${halvings} halving${halvings === 1 ? '' : 's'}` : '';
  return (
    `HTTP 413: the SIEM refused ${events} event${events === 1 ? '' : 's'} (${bytes} bytes) as too large${split}, though within ${label}'s documented limits: ` +
    "its size limit (or a proxy's) is lower, or it refuses requests for now; check it. Aegis will retry."
  );
}

/** How a destination's runner works, from what the scan knows of it. */
export interface RunnerShape {
  /** After a breaker pause: the first claim probes the destination. */
  probing: boolean;
  lanes: number;
}

/**
 * A destination that keeps failing gets one lane: its probe batch, not a flood. One whose last
 * request failed (a SIEM that hangs, refuses or errors) is suspect: one lane too, so that while it
 * waits out a timeout it holds one claim's events of the shared budget, not three. A disabled one
 * has only its farewell to send. Never more lanes than the requests its limits allow in flight.
 */
export function runnerShape(consecutiveFailures: number, farewellOnly: boolean, lanesPerDestination: number, concurrentRequests: number): RunnerShape {
  return {
    probing: consecutiveFailures >= BREAKER_THRESHOLD,
    lanes: farewellOnly ? 1 : Math.min(consecutiveFailures > 0 ? 1 : lanesPerDestination, concurrentRequests),
  };
}

/** How much one lane claims and sends per round for a preset. */
export interface LaneShape {
  /** Jobs claimed per round once the destination is known to work. */
  claimSize: number;
  /** The most a round may claim while a backlog drains fast (nextClaimSize). */
  maxClaim: number;
  /** The first claim's size: one event when probing a one-event-per-request preset. */
  firstClaim: number;
  /** Request slots asked of the destination's limiter per round (one when probing). */
  requests: number;
  firstRequests: number;
}

export function laneShape(
  encoder: Pick<SiemEncoder, 'maxBatchEvents'>,
  cfg: Pick<WorkerConfig, 'singleEventClaim' | 'batchClaim' | 'requestsPerLane'>,
  probing: boolean,
): LaneShape {
  const single = encoder.maxBatchEvents === 1;
  const claimSize = single ? cfg.singleEventClaim : Math.min(encoder.maxBatchEvents, cfg.batchClaim);
  const requests = single ? cfg.requestsPerLane : 1;
  // After a breaker pause, one request probes the destination (one event for one-per-request
  // presets, not requestsPerLane of them at once); if it gets through, the lane drains as usual.
  return {
    claimSize,
    maxClaim: single ? claimSize * CLAIM_GROWTH : claimSize,
    firstClaim: probing && single ? 1 : claimSize,
    requests,
    firstRequests: probing ? 1 : requests,
  };
}

/**
 * How far a one-event-per-request lane's claims may grow (x4: 256 jobs at the default 64). Each claim
 * and settle is two statements whatever its size, so while a backlog drains, claims of 256 cost
 * Postgres about half of what claims of 64 do per event (docs/BENCHMARKS.md), and a lane spends more
 * of its rounds sending.
 */
export const CLAIM_GROWTH = 4;

/**
 * A round's requests that took longer than this stop the growth: everything a lane has claimed is
 * sent before a disable or a breaker pause takes effect, so claims grow only for a SIEM that takes a
 * claim of 256 in about a second at most. A slow or failing one keeps the base size.
 */
export const FAST_ROUND_MS = 250;

/**
 * The lane's next claim after one of `asked` jobs that found `claimed` and was sent and settled in
 * `sendMs`: doubled (up to maxClaim) while claims come back full and are sent fast, a backlog being
 * drained; else the base size. After a probe (a first claim below the base) the base size.
 */
export function nextClaimSize(shape: LaneShape, asked: number, claimed: number, sendMs: number): number {
  if (asked < shape.claimSize || claimed < asked || sendMs > FAST_ROUND_MS) return shape.claimSize;
  return Math.min(asked * 2, shape.maxClaim);
}

/** What a claim becomes before anything is sent. */
export interface ClaimPlan {
  /** Request-sized groups within the preset's limits, in the claim's order. */
  groups: SiemEvent[][];
  /** The claimed job of each event (the events are the jobs' payloads). */
  jobOf: Map<SiemEvent, ClaimedJob>;
  /** Jobs dead-lettered before sending: the event cannot be encoded, is over the per-event limit, or its time is outside the SIEM's window. */
  refused: Array<JobDecision & { id: number }>;
  /** The last refusal's reason: the destination's error when no request is made. */
  refusedReason: string | null;
}

/**
 * Plans one claim. Sized with the context the encoder will really use, so no request exceeds the
 * preset's limits. An event the encoder cannot encode (a poison pill, e.g. an unparsable @timestamp
 * written around the API) would make every claim that holds it throw and hold its batch until the
 * lease runs out, again and again: it is dead-lettered on its own and the rest of the claim is sent.
 * An event over the SIEM's per-event limit can never be carried by any request (or the SIEM would
 * truncate it): dead-lettered with its size and the limit. An event older than the SIEM keeps
 * (`maxEventAgeMs`) or dated further ahead than it accepts (`maxEventFutureMs`), by @timestamp at
 * `now`, less EVENT_AGE_MARGIN_MS, would be answered 2xx and then dropped, a success that lies:
 * dead-lettered with the reason, where the user sees it.
 */
export function planClaim(jobs: readonly ClaimedJob[], encoder: SiemEncoder, ctx: EncodeContext, now: number): ClaimPlan {
  const jobOf = new Map<SiemEvent, ClaimedJob>();
  const refused: ClaimPlan['refused'] = [];
  let refusedReason: string | null = null;
  const refuse = (e: SiemEvent, reason: string) => {
    refusedReason = reason;
    refused.push({ id: jobOf.get(e)!.id, ...decideItem({ ok: false, stage: 'before_send', reason, statusCode: null, permanent: true }) });
  };
  const limits = eventTimeLimits(encoder);
  const events: SiemEvent[] = [];
  for (const j of jobs) {
    const e: SiemEvent = new StoredEvent(j.payloadJson);
    jobOf.set(e, j);
    const outside = limits.length === 0 ? null : outsideTimeLimits(e, limits, encoder.id, now);
    if (outside !== null) {
      refuse(e, outside);
      continue;
    }
    events.push(e);
  }
  let plan: ReturnType<typeof planBatches<SiemEvent>>;
  try {
    plan = planBatches(events, encoder, ctx);
  } catch {
    const good: SiemEvent[] = [];
    for (const e of events) {
      try {
        encoder.encode([e], ctx);
        good.push(e);
      } catch (err) {
        refuse(e, `An event cannot be encoded for ${encoder.id} and was dead-lettered: ${(err as Error).message}`);
      }
    }
    plan = planBatches(good, encoder, ctx);
  }
  for (const { event, bytes } of plan.oversize) refuse(event, oversizeReason(encoder.id, bytes, maxEventBytesOf(encoder)));
  return { groups: plan.groups, jobOf, refused, refusedReason };
}

/**
 * Why the event's @timestamp is outside one of the SIEM's time limits at `now`, or null: within all
 * of them, or no readable @timestamp (the encoder then refuses it).
 */
function outsideTimeLimits(e: SiemEvent, limits: readonly EventTimeLimit[], siem: SiemEncoder['id'], now: number): string | null {
  const t = timestampOf(e);
  if (t === null) return null;
  for (const { side, limitMs, sendableMs } of limits) {
    const distanceMs = distanceOnSide(side, t, now);
    if (distanceMs > sendableMs) return OUTSIDE_REASON[side](siem, t, distanceMs, limitMs);
  }
  return null;
}

/** An event's @timestamp in epoch milliseconds, or null when it has none readable. */
function timestampOf(e: SiemEvent): number | null {
  try {
    return epochMillis(e['@timestamp']);
  } catch {
    return null;
  }
}
