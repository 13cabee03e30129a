// The I/O shell of one claim: send its planned requests (claimPlan.ts), act on each request's
// decision (outcome.ts: split, give back, await a Splunk ack, or settle), and settle the claim in one
// statement. What an answer means is decided there; here is only what doing it takes: the limiter,
// the breaker's rows, the heartbeat, metrics and logs.
import type { AttemptRecord } from '../queue/attempts.js';
import { extendLease } from '../queue/claimJobs.js';
import { noteRequestFailure, noteRequestSuccess } from '../queue/deliveryState.js';
import { allFenced, releaseJobs, settleClaim } from '../queue/settleJobs.js';
import type { ClaimedJob } from '../queue/types.js';
import { getEncoder } from '../siem/registry.js';
import { byteLength, type SiemEvent } from '../siem/types.js';
import { whileDatabaseAway } from '../db/unavailable.js';
import type { AckTracker } from './ackTracker.js';
import { planClaim, tooLargeHint } from './claimPlan.js';
import { encodeContext, sendRequest, type DeliveryTarget, type RequestOutcome } from './deliverBatch.js';
import { internalError } from './interpretAnswer.js';
import { THROTTLE_BACKOFF_MAX_MS, type DestinationLimiter } from './limits.js';
import { decide, scheduleJobs, shedDecision, shedSpellFor, type EventDecision, type Failure, type JobDecision } from './outcome.js';
import { indexerAckOn, splunkChannel } from './splunkAck.js';
import type { WorkerConfig, WorkerDeps } from './workerConfig.js';
import { monotonicNow } from '../monotonicClock.js';
import { reportInternalSendError, warnForDestination } from './destinationLines.js';

/** What the shell needs of the worker that runs it. */
export interface ClaimShell {
  deps: WorkerDeps;
  cfg: Pick<WorkerConfig, 'leaseMs' | 'retryDelaysS' | 'splunkAckTimeoutMs' | 'rateLimitedFailingAfterMs'>;
  stopping(): boolean;
  /** The destination's Splunk ack tracker (created on first use). */
  ackTracker(target: DeliveryTarget): AckTracker;
  /**
   * How many changes of the destination's settings this process has heard of (queue/types.ts
   * SETTINGS_CHANGED): a claim stops sending once it moves past what it was when the claim was made.
   */
  settingsChanges(destinationId: string): number;
}

/** Sends one claim's jobs, settles them, and returns true when the lane should stop (breaker open, destination deleted). */
export async function deliverClaim(
  shell: ClaimShell,
  target: DeliveryTarget,
  limiter: DestinationLimiter,
  claimId: string,
  jobs: ClaimedJob[],
  maxRequests: number,
  /** settingsChanges(target.id) just before the claim was made. */
  settingsAtClaim: number,
): Promise<boolean> {
  const { db, metrics, logger } = shell.deps;
  const cfg = shell.cfg;
  const encoder = getEncoder(target.siem);
  const ctx = encodeContext(shell.deps.delivery, target);
  // Ages by the database's clock, as the replays' trims and the dead-letter replay measure them: a
  // worker whose clock runs fast must not dead-letter what the SIEM still accepts.
  const plan = planClaim(jobs, encoder, ctx, jobs[0]?.claimedAt.getTime() ?? Date.now());
  const { jobOf } = plan;
  const idsOf = (group: SiemEvent[]) => group.map((e) => jobOf.get(e)!.id);
  const decisions: Array<JobDecision & { id: number }> = [...plan.refused];
  // A queue, not a list: a request refused as too large (413) comes back as two halves.
  const groups = plan.groups;
  /** How many times each group split off from a request refused with 413 was halved. */
  const halvingsOf = new WeakMap<SiemEvent[], number>();
  const ack = indexerAckOn(target);
  // This process's channel for the destination: the one its ack tracker polls (splunkAck.ts).
  const ackChannel = ack ? splunkChannel(target.id) : undefined;
  /** The tracker this claim's ackIds were last registered with (told of the lane's lease renewals). */
  let ackTracker: AckTracker | null = null;
  let ackMissing = false;
  const attempts: AttemptRecord[] = [];
  const unsent: number[] = [];
  // Jobs the SIEM rate limited (429) or shed for load (an Elastic item 429), or not sent because it
  // asked to wait: given back without an attempt, due when the wait ends. A 429 says "later", not
  // "broken": it must not push events towards the dead-letter list or open the breaker.
  const deferred: number[] = [];
  // Jobs shed for load in a request the SIEM took none of: as `deferred`, their first shed kept.
  const deferredShed: number[] = [];
  // Jobs shed for load in a request the SIEM otherwise took: given back without an attempt, due after
  // the first retry delay, at most the limiter's longest backoff (the destination's limits were not
  // lowered, so its limiter would let them straight back in, to be shed again); their first shed kept.
  const shedLater: number[] = [];
  const settleOrDefer = (id: number, fate: EventDecision, later: number[]) => {
    if (fate.outcome === 'give_back') later.push(id);
    else decisions.push({ id, ...fate });
  };
  let pausedUntil: Date | null = null;
  let lastOutcome: RequestOutcome | null = null;
  let anyDelivered = false;
  let sawFailure = false;
  let sending = 0;

  // When the lease of every job of the claim was last renewed (as of when the renewal started): the
  // claim's lease was just taken. Requests awaiting an ack are handed to the tracker with it, as they
  // are answered; the tracker renews their lease from then on, the lane's heartbeat too while it runs.
  let leaseRenewedAt = monotonicNow();
  // Heartbeat: keep the lease while slow requests are in flight.
  const heartbeat = setInterval(
    () => {
      const at = monotonicNow();
      void extendLease(db, { claimId, ids: jobs.map((j) => j.id), leaseMs: cfg.leaseMs })
        .then(() => {
          leaseRenewedAt = Math.max(leaseRenewedAt, at);
          ackTracker?.leaseRenewed(claimId, at);
        })
        .catch(() => undefined);
    },
    Math.max(1000, Math.floor(cfg.leaseMs / 3)),
  );
  try {
    const sender = async () => {
      while (groups.length > 0) {
        const group = groups.shift()!;
        // Changed since the claim was made (a PATCH, a disable, a delete answered already): the rest of
        // the claim is not sent with the old URL or credential; it goes back, due, without an attempt,
        // and the next runner sends it with the new settings.
        if (shell.stopping() || pausedUntil || shell.settingsChanges(target.id) !== settingsAtClaim) {
          unsent.push(...idsOf(group));
          continue;
        }
        if (limiter.notBefore() > 0) {
          deferred.push(...idsOf(group));
          continue;
        }
        // Under indexer acknowledgement the destination's tracker learns of the request before it is
        // sent: until its answer is read, a `true` from an ack poll may be about its ackId (Splunk
        // restarted and gave out an ackId still waiting), so none counts meanwhile (ackTracker.ts).
        const tracker = ack ? shell.ackTracker(target) : null;
        const ticket = tracker?.beginSend();
        try {
          // sendRequest reports every SIEM and network failure as an outcome; should it throw anyway
          // (a bug), the group counts as a failed attempt on the schedule.
          metrics.requestsInFlight.inc({ siem: target.siem });
          sending++;
          const out = await sendRequest(shell.deps.delivery, target, group, { ackChannel })
            .finally(() => {
              sending--;
              metrics.requestsInFlight.dec({ siem: target.siem });
            })
            .catch((err: unknown) => {
              reportInternalSendError(logger, target, err);
              return internalError(group);
            });
          const halvings = halvingsOf.get(group) ?? 0;
          if (out.statusCode === 413 && group.length === 1) {
            // One event refused alone, though the planner found it within the SIEM's documented limits:
            // the SIEM's own limit is lower than documented, or it refuses everything for a while (a
            // proxy, a misconfiguration, a temporary limit). A failed attempt retries it on the schedule,
            // and the breaker backs off, while the hint says what to check; it is never dead-lettered
            // for the 413 alone. Only events over the documented per-event limit are (by the planner).
            const reason = tooLargeHint(target.siem, group.length, byteLength(encoder.encode(group, ctx).body), halvings);
            out.items = group.map(() => ({ ok: false, stage: 'http', reason, statusCode: 413, permanent: false }));
            out.error = reason;
          }
          const decision = decide(out, group.length, ack);
          if (decision.kind === 'await_ack') {
            // Accepted, not yet indexed: the jobs stay claimed until Splunk confirms (ackTracker.ts),
            // which also logs this request once the answer is known. Registered at once, before this
            // claim's next request: the tracker must know every ackId it is given to tell a `true` for
            // it from one for an older request whose ackId Splunk gave out again after a restart.
            const jobsOf = group.map((e) => jobOf.get(e)!);
            tracker!.add(
              {
                ackId: out.ackId!,
                claimId,
                jobIds: jobsOf.map((j) => j.id),
                jobAttempts: jobsOf.map((j) => j.attempts),
                jobCreatedAt: jobsOf.map((j) => j.createdAt.getTime()),
                attempt: {
                  orgId: target.orgId,
                  destinationId: target.id,
                  eventCount: group.length,
                  statusCode: out.statusCode,
                  durationMs: out.durationMs,
                  responseSnippet: out.error ? out.responseSnippet : null,
                },
                deadline: monotonicNow() + cfg.splunkAckTimeoutMs,
              },
              { ticket: ticket!, leaseRenewedAt },
            );
            ackTracker = tracker;
          } else if (ticket !== undefined) tracker!.endSend(ticket);
          if (decision.kind === 'split') {
            // Too large for this SIEM after all (a limit lowered below the documented one): the halves
            // are sent at once, without an attempt spent on the events, down to one event, so whatever
            // the SIEM's real limit, every event under it arrives (at most 2n - 1 requests for n events).
            const half = Math.ceil(group.length / 2);
            const halves = [group.slice(0, half), group.slice(half)];
            for (const h of halves) halvingsOf.set(h, halvings + 1);
            groups.unshift(...halves);
            metrics.requests.inc(metrics.requestLabels(target.id, target.siem, 'failed'));
            attempts.push({
              orgId: target.orgId,
              destinationId: target.id,
              eventCount: group.length,
              deliveredCount: 0,
              failedCount: 0,
              statusCode: 413,
              durationMs: out.durationMs,
              error: `HTTP 413: the SIEM refused ${group.length} events as too large; sent again as ${half} and ${group.length - half}.`,
              responseSnippet: out.responseSnippet,
            });
            continue;
          }
          const rateLimited = decision.kind === 'give_back';
          const delivered = out.items.filter((i) => i.ok).length;
          // Each event's fate: an event the SIEM shed for load goes back without an attempt within the
          // pacing window of its job's first shed, else it is a failed attempt (shedDecision); a
          // request-level 429 gives every job back, as the product's rule says. Both times are the
          // database's (the claim's and the first shed's), as every other age rule here.
          const shed = (i: number): EventDecision =>
            shedDecision(out.items[i] as Failure, shedSpellFor(jobOf.get(group[i]!)!, cfg.rateLimitedFailingAfterMs), cfg.rateLimitedFailingAfterMs);
          const fates: EventDecision[] =
            decision.kind === 'settle'
              ? decision.jobs.map((j, i) => (j.outcome === 'give_back' ? shed(i) : j))
              : rateLimited && out.statusCode !== 429
                ? group.map((_, i) => shed(i))
                : [];
          if (rateLimited || (decision.kind === 'settle' && decision.throttle)) {
            // The SIEM says "too many": the destination's limits drop and nothing starts before Retry-After.
            const retryAfterMs = decision.retryAfterMs;
            const before = limiter.effective;
            const spellStarts = !limiter.throttling;
            const until = limiter.throttle(retryAfterMs, sending + 1);
            const after = limiter.effective;
            // A line when the spell starts or the limits drop; a SIEM that keeps answering 429 at the
            // floor (Retry-After: 0, every second for 15 minutes, a review's) adds nothing an operator
            // needs at info, and wrote 86,000 lines a day per destination.
            const changed = spellStarts || after.eventsPerSecond !== before.eventsPerSecond || after.concurrentRequests !== before.concurrentRequests;
            logger[changed ? 'info' : 'debug'](
              {
                destination_id: target.id,
                status: out.statusCode,
                retry_after_ms: retryAfterMs ?? null,
                // until is on the limiter's monotonic clock: as a wall-clock time, from the wait left.
                not_before: new Date(Date.now() + Math.max(0, until - monotonicNow())).toISOString(),
                limits: after,
              },
              changed ? 'SIEM asked to slow down; destination limits lowered' : 'SIEM asked to slow down again; limits already at their floor or unchanged',
            );
          } else if (delivered > 0) {
            limiter.succeeded();
          }
          // A 429 is the SIEM pacing us, not failing: it is in the delivery log, but it does not make the
          // destination's last attempt a failure (the card's "failing", a "failing" alert)... until it
          // has answered nothing but 429 for rateLimitedFailingAfterMs: a SIEM that never accepts is
          // failing (a quota used up, a plan cancelled), and the card, the alerts and the hold limit must
          // see it, or it would hold its queue for ever. Its jobs still spend no attempt.
          const throttledMs = rateLimited ? limiter.throttledForMs() : 0;
          if (rateLimited && throttledMs >= cfg.rateLimitedFailingAfterMs) {
            const refused = out.statusCode === 429 ? 'HTTP 429' : `HTTP ${out.statusCode}, every event refused with 429`;
            out.error = `${refused}: the SIEM has rate limited every request for ${Math.round(throttledMs / 60_000)} min without accepting one; check its ingest quota (or lower max_events_per_second). Aegis will retry later, honouring Retry-After.`;
            lastOutcome = out;
          } else if (decision.kind === 'settle') {
            // Events delivered and the rest shed for load: paced, not failing (as for a 429), so the
            // destination's last attempt is a success; the delivery log keeps the refusal.
            const pacedOnly = fates.every((j) => j.outcome === 'done' || j.outcome === 'give_back');
            lastOutcome = pacedOnly ? { ...out, error: null } : out;
          }
          if (decision.kind === 'settle' && decision.breaker === 'success') {
            anyDelivered = true;
            // A success closes the breaker's count at once, not when the whole claim is settled: else a
            // flapping SIEM (every other request failing) counts a claim's failures "in a row" and gets
            // paused although it is up. Only when this claim has seen a failure (no query otherwise).
            // Fenced by the claim: a request whose lease ran out says nothing about the destination.
            if (sawFailure) await noteRequestSuccess(db, target.orgId, target.id, { claimId, ids: idsOf(group) }).catch(() => undefined); // settle records it too
          }
          metrics.requestDuration.observe({ siem: target.siem }, out.durationMs / 1000);
          metrics.requests.inc(
            metrics.requestLabels(target.id, target.siem, out.error === null ? 'ok' : delivered > 0 ? 'partial' : rateLimited ? 'throttled' : 'failed'),
          );
          const log: AttemptRecord = {
            orgId: target.orgId,
            destinationId: target.id,
            eventCount: group.length,
            deliveredCount: delivered,
            failedCount: group.length - delivered,
            statusCode: out.statusCode,
            durationMs: out.durationMs,
            error: out.error,
            responseSnippet: out.error ? out.responseSnippet : null,
          };
          if (rateLimited) {
            attempts.push(log);
            // Due when the (lowered) limiter allows; jobs shed for too long spend an attempt instead.
            if (fates.length === 0) deferred.push(...idsOf(group));
            else group.forEach((e, i) => settleOrDefer(jobOf.get(e)!.id, fates[i]!, deferredShed));
            continue;
          }
          // Registered with the ack tracker above, which logs it once Splunk's answer is known.
          if (decision.kind === 'await_ack') continue;
          attempts.push(log);
          if (ack && out.error === null && out.ackId === undefined) ackMissing = true;
          // Shed for load beside events the SIEM took: its limits stand, so these wait a retry's delay.
          group.forEach((e, i) => settleOrDefer(jobOf.get(e)!.id, fates[i]!, shedLater));
          if (decision.breaker === 'failure') {
            sawFailure = true;
            // Breaker bookkeeping must not cost the claim its outcomes: should the database be away, the
            // outcomes are still settled below (which retries until it is back). Fenced by the claim: a
            // worker whose lease ran out (another one holds the jobs now) does not count on the breaker.
            const p = await noteRequestFailure(db, target.orgId, target.id, { claimId, ids: idsOf(group) }).catch(() => null);
            if (p && !pausedUntil) {
              pausedUntil = p;
              logger.warn({ destination_id: target.id, paused_until: p.toISOString() }, 'destination keeps failing; holding its queue and probing later');
            }
          }
        } finally {
          // Whatever became of the request (a throw included), it is no longer in flight.
          if (ticket !== undefined) tracker!.endSend(ticket);
        }
      }
    };
    // At most the request slots this lane was granted by the destination's limiter.
    const concurrency = encoder.maxBatchEvents === 1 ? maxRequests : 1;
    await Promise.all(Array.from({ length: Math.min(concurrency, groups.length) }, sender));
  } finally {
    clearInterval(heartbeat);
  }
  // Requests awaiting acks were registered as they were answered: the lane's heartbeat ends here, and
  // the tracker renews their lease from the last renewal it was told of.
  if (ackMissing)
    logger.warn(
      { destination_id: target.id },
      'indexer_ack is on but Splunk answered without an ackId (acknowledgement is off for this token): counted delivered on the 2xx',
    );

  // One statement: settle the jobs, log the requests, record the outcome on the destination (and
  // close its breaker when something was delivered).
  const last = lastOutcome as RequestOutcome | null;
  // The requests were sent: their outcome is settled even across a short database outage (up to a lease).
  const settling = <T>(fn: () => Promise<T>) => whileDatabaseAway(cfg.leaseMs, () => shell.stopping(), fn);
  const refusedReason = plan.refusedReason;
  // The schedule, from the attempts the claimed jobs had made: no one else changes them while the
  // claim id holds, and a settle after a re-claim is fenced out.
  const attemptsOf = new Map(jobs.map((j) => [j.id, j.attempts]));
  const outcomes = scheduleJobs(
    decisions.map(({ id, ...decision }) => ({ id, attempts: attemptsOf.get(id)!, decision })),
    cfg.retryDelaysS,
  );
  // A try after the first may repeat one that committed with its answer lost: settleClaim then logs nothing again.
  let tries = 0;
  const settled = await settling(() =>
    settleClaim(db, {
      orgId: target.orgId,
      claimId,
      outcomes,
      report: {
        destinationId: target.id,
        attempts,
        last: last ? { ok: last.error === null, error: last.error } : refusedReason ? { ok: false, error: refusedReason } : null,
        delivered: anyDelivered,
      },
      retry: tries++ > 0,
    }),
  ).catch((err: unknown) => {
    // The statement skips the log of a destination already deleted; one deleted in the instant
    // between that check and the insert still trips the foreign key. Its jobs went with it, so there
    // is nothing left to settle: not an operator's problem.
    if ((err as { code?: string }).code === '23503') {
      logger.debug({ destination_id: target.id }, 'destination deleted while its deliveries settled; attempts not recorded');
      return null;
    }
    throw err;
  });
  if (!settled) return true; // the destination is gone: this lane stops, as for a paused one
  // A claim that settled none of its jobs (all fenced) left the destination as its holder wrote it
  // (settleClaim): nothing for the alerter to judge from this claim. Unless the settle was sent again:
  // then the first try most likely committed, unjudged (the judgement reads the row, as it is).
  const fenced = allFenced(settled, outcomes.length);
  const settledBefore = fenced && tries > 1;
  if (!fenced || settledBefore)
    shell.deps.alerts?.noteSettle(target.orgId, target.id, (last !== null && last.error !== null) || settled.deadLettered > 0 || refusedReason !== null);
  // Unsent jobs go back as due now, without an attempt: while the breaker holds the destination it is
  // the destination's paused_until that keeps them (claims and scans skip a paused destination), so
  // lifting the pause (a probe succeeding, or the user re-enabling) lets them flow at once.
  if (unsent.length > 0) await settling(() => releaseJobs(db, { claimId, ids: unsent }));
  const limiterWaitMs = Math.max(0, limiter.notBefore() - monotonicNow());
  if (deferred.length > 0) await settling(() => releaseJobs(db, { claimId, ids: deferred, afterMs: limiterWaitMs }));
  // A job claimed within the pacing window of its due time after a shed continues its spell (shedSpellFor).
  const shedSpellMs = cfg.rateLimitedFailingAfterMs;
  if (deferredShed.length > 0) await settling(() => releaseJobs(db, { claimId, ids: deferredShed, afterMs: limiterWaitMs, shedSpellMs }));
  if (shedLater.length > 0) {
    const afterMs = Math.min((cfg.retryDelaysS[0] ?? 1) * 1000, THROTTLE_BACKOFF_MAX_MS) * (0.9 + Math.random() * 0.2);
    await settling(() => releaseJobs(db, { claimId, ids: shedLater, afterMs, shedSpellMs }));
  }

  const labels = metrics.destinationLabels(target.id, target.siem);
  if (settled.done) metrics.delivered.inc(labels, settled.done);
  if (settled.retried) metrics.retried.inc(labels, settled.retried);
  if (settled.deadLettered) metrics.deadLettered.inc(labels, settled.deadLettered);
  if (settledBefore)
    logger.info(
      { destination_id: target.id, fenced: settled.fenced },
      'settle sent again after its answer was lost: nothing left to settle (the first try had committed, or the lease ran out meanwhile)',
    );
  else if (settled.fenced)
    logger.warn({ destination_id: target.id, fenced: settled.fenced }, 'lease expired before settling; another worker owns these jobs now');
  const now = Date.now();
  const createdAt = new Map(jobs.map((j) => [j.id, j.createdAt.getTime()]));
  for (const o of outcomes) {
    if (o.outcome === 'done') metrics.deliveryLatency.observe({ siem: target.siem }, (now - createdAt.get(o.id)!) / 1000);
  }
  if (settled.deadLettered) {
    // The SIEM's status, never its text: a refusal can quote the event it refuses (Elasticsearch's
    // "Preview of field's value: 'alice@example.com'"), and an event's values are the tenant's, read
    // in its own views (last_error, failed events, the delivery log), not the operator's log.
    const failed = outcomes.find((o) => o.outcome === 'failed');
    const statusCode = failed?.outcome === 'failed' ? failed.statusCode : (last?.statusCode ?? null);
    warnForDestination(
      logger,
      'dead-lettered',
      target.id,
      { dead_lettered: settled.deadLettered, status_code: statusCode },
      "events dead-lettered; the reason is in the destination's failed events and delivery log",
    );
  }
  return pausedUntil !== null;
}
