import { randomUUID } from 'node:crypto';
import type { Db } from '../db/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { getDestinationRow, purgeDeletedDestination, purgeDeletedDestinations } from '../destinations/repository.js';
import { credentialUnreadableMessage } from '../destinations/credentials.js';
import { claimFarewellJobs, claimJobs, extendLease } from '../queue/claimJobs.js';
import { releaseJobs, settleClaim } from '../queue/settleJobs.js';
import { dueDestinations, nextDueAt, type DueDestination } from '../queue/dueDestinations.js';
import { BREAKER_THRESHOLD, noteRequestFailure, noteRequestSuccess, recordAttemptOutcome } from '../queue/deliveryState.js';
import type { AttemptRecord } from '../queue/attempts.js';
import { prune } from '../queue/prune.js';
import { enforceHoldLimit } from '../queue/holdLimit.js';
import { JOBS_CHANNEL, type ClaimedJob, type JobOutcome } from '../queue/types.js';
import { byteLength, maxEventBytesOf, planBatches } from '../siem/types.js';
import { getEncoder } from '../siem/registry.js';
import { getPresetInfo } from '../siem/catalog.js';
import type { SiemEncoder, SiemEvent } from '../siem/types.js';
import { encodeContext, sendRequest, type DeliveryDeps, type DeliveryTarget, type RequestOutcome } from './deliverBatch.js';
import { toTarget } from './target.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { EventBudget } from './eventBudget.js';
import { configuredLimits, LimiterRegistry, type DestinationLimiter } from './limits.js';
import type { AlertHook } from '../alerts/alerter.js';
import { AckTracker, type PendingAck } from './ackTracker.js';
import { indexerAckOn } from './splunkAck.js';

/** How often a running destination re-reads its configured limits (a PATCH applies within this). */
const LIMITS_REFRESH_MS = 5_000;

export interface WorkerOptions {
  intervalMs: number;
  leaseMs: number;
  retryDelaysS: number[];
  retentionDays: number;
  /**
   * AEGIS_MAX_HOLD_HOURS: a destination failing without a break this long is paused and its queue
   * dead-lettered (queue/holdLimit.ts). Checked every AEGIS_WORKER_INTERVAL_MS, at most every minute.
   */
  maxHoldHours?: number;
  /**
   * Destinations served at once by this process. Not what bounds memory or keeps tenants apart (the
   * event budget does): a runner waiting on a silent SIEM is a pending promise, so this is large.
   */
  maxDestinations?: number;
  /** Events held in memory at once across every destination (claimed, encoding or in flight). */
  maxEventsInFlight?: number;
  /** Concurrent claim-send-settle loops per destination. */
  lanesPerDestination?: number;
  /** Concurrent HTTP requests per lane (matters for one-event-per-request presets). */
  requestsPerLane?: number;
  /**
   * Jobs claimed per round for one-event-per-request presets. Larger claims amortise the claim and
   * settle statements further (256 measured in docs/BENCHMARKS.md), but everything claimed is sent
   * before a disable or a breaker pause takes effect: 64 keeps that to 4 rounds of a lane's requests.
   */
  singleEventClaim?: number;
  /**
   * Jobs claimed per round for batching presets, at most the preset's maxBatchEvents. Sumo Logic and
   * New Relic allow 10,000 events per request but only 1 MB, so a 10,000-job claim became ~7 requests
   * sent one after another by one lane while holding ~7 MB of events: smaller claims keep every lane
   * busy with one request each and the worker's memory flat.
   */
  batchClaim?: number;
  /** Splunk indexer acknowledgement: how long an accepted request may wait for its ack (AEGIS_SPLUNK_ACK_TIMEOUT_S). */
  splunkAckTimeoutMs?: number;
  /** Splunk indexer acknowledgement: poll interval per destination (AEGIS_SPLUNK_ACK_POLL_MS). */
  splunkAckPollMs?: number;
  /** Events one acknowledging destination may have waiting for acks before it claims no more. */
  splunkAckMaxPendingEvents?: number;
  /**
   * AEGIS_RATE_LIMITED_FAILING_AFTER_S: a SIEM that has answered only 429 this long is failing, so the
   * card, the alerts and the hold limit see it; before that a 429 is pacing.
   */
  rateLimitedFailingAfterMs?: number;
}

/** Why an event is dead-lettered without being sent: no raw values, only sizes and the limit. */
export function oversizeReason(siem: SiemEncoder['id'], bytes: number, limit: number): string {
  return `Event too large for ${getPresetInfo(siem).label}: ${bytes} bytes encoded, over its per-event limit of ${limit} bytes; dead-lettered, it can never be accepted.`;
}

/** The error of events still refused with 413 after the halvings: what it means and what to check. */
export function tooLargeHint(siem: SiemEncoder['id'], events: number, bytes: number, halvings: number): string {
  const { label } = getPresetInfo(siem);
  const split = halvings > 0 ? ` even after ${halvings} halving${halvings === 1 ? '' : 's'}` : '';
  return (
    `HTTP 413: the SIEM refused ${events} event${events === 1 ? '' : 's'} (${bytes} bytes) as too large${split}, though within ${label}'s documented limits: ` +
    "its size limit (or a proxy's) is lower, or it refuses requests for now; check it. Aegis will retry."
  );
}

export interface WorkerDeps {
  db: Db;
  delivery: DeliveryDeps;
  metrics: Metrics;
  logger: Logger;
  /**
   * Told about every settle that can change a destination's state (alerts/alerter.ts): a failure, a
   * dead letter, or a success (which it ignores unless it had alerted about that destination). It
   * only schedules work of its own: nothing here waits for an alert.
   */
  alerts?: AlertHook;
}

/**
 * The delivery worker. State machine per process:
 *   idle --(NOTIFY | interval | next-due timer)--> scanning --> one runner per due destination
 *   runner: lanes of [claim batch -> send requests -> settle] until nothing is due, then exit.
 * Nothing that must survive a crash lives here: attempts, schedules, leases and the circuit breaker
 * are rows. A killed worker's claims expire and are claimed again by anyone.
 */
export class Worker {
  private readonly opts: Required<WorkerOptions>;
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;
  private scanning = false;
  private rescan = false;
  private timer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  /** The retention prune running now, if any: stop() waits for it (see prune()). */
  private pruneRound: Promise<void> | null = null;
  private holdTimer: NodeJS.Timeout | null = null;
  private holdRound: Promise<void> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  /** True while scans fail because the database is unreachable: delivery is paused, said once. */
  private databaseAway = false;

  constructor(
    private readonly deps: WorkerDeps,
    opts: WorkerOptions,
  ) {
    this.opts = {
      maxHoldHours: 168,
      maxDestinations: 1000,
      maxEventsInFlight: 20_000,
      lanesPerDestination: 3,
      requestsPerLane: 16,
      singleEventClaim: 64,
      batchClaim: 1000,
      splunkAckTimeoutMs: 300_000,
      splunkAckPollMs: 2_000,
      splunkAckMaxPendingEvents: 10_000,
      rateLimitedFailingAfterMs: 900_000,
      ...opts,
    };
    this.budget = new EventBudget(this.opts.maxEventsInFlight);
    deps.metrics.setLimitsSource(() => this.limiters.snapshot());
  }

  private readonly budget: EventBudget;
  /** Per-destination rate and concurrency limits (in this process's memory; see delivery/limits.ts). */
  private readonly limiters = new LimiterRegistry();
  /** Splunk destinations with requests waiting for indexer acknowledgement, by destination id. */
  private readonly ackTrackers = new Map<string, AckTracker>();

  /** The destination's ack tracker, created on first use (acknowledging Splunk destinations only). */
  private ackTracker(target: DeliveryTarget): AckTracker {
    let t = this.ackTrackers.get(target.id);
    if (t) {
      t.update(target);
      return t;
    }
    t = new AckTracker(
      target,
      {
        db: this.deps.db,
        delivery: this.deps.delivery,
        metrics: this.deps.metrics,
        logger: this.deps.logger,
        ...(this.deps.alerts ? { alerts: this.deps.alerts } : {}),
        wake: () => this.onAcksSettled(),
      },
      {
        leaseMs: this.opts.leaseMs,
        retryDelaysS: this.opts.retryDelaysS,
        pollMs: this.opts.splunkAckPollMs,
        timeoutMs: this.opts.splunkAckTimeoutMs,
        maxPendingEvents: this.opts.splunkAckMaxPendingEvents,
      },
    );
    this.ackTrackers.set(target.id, t);
    return t;
  }

  private onAcksSettled(): void {
    for (const [id, t] of this.ackTrackers) if (t.idle()) this.ackTrackers.delete(id);
    this.wake();
  }

  /** Destinations holding as many events waiting for Splunk acks as they may: not run until acks come in. */
  private ackFull(): Set<string> {
    const out = new Set<string>();
    for (const [id, t] of this.ackTrackers) if (t.full()) out.add(id);
    return out;
  }

  async start(): Promise<void> {
    this.unlisten = await this.deps.db.listen(
      JOBS_CHANNEL,
      () => this.wake(),
      () => this.wake(), // after a reconnect: catch up on anything notified while we were away
    );
    this.pruneTimer = setInterval(() => void this.prune(), 3_600_000);
    this.pruneTimer.unref();
    this.holdTimer = setInterval(() => void this.enforceHoldLimit(), Math.min(60_000, this.opts.intervalMs));
    this.holdTimer.unref();
    this.wake();
  }

  /**
   * One hold-limit round (queue/holdLimit.ts): pauses destinations that failed for the whole limit and
   * dead-letters the queues of paused ones; the alerter judges each destination it paused. One round
   * at a time; public for tests.
   */
  enforceHoldLimit(): Promise<void> {
    if (this.holdRound || this.stopping) return this.holdRound ?? Promise.resolve();
    this.holdRound = (async () => {
      try {
        const r = await enforceHoldLimit(this.deps.db, this.opts.maxHoldHours);
        for (const d of r.paused) {
          this.deps.logger.warn(
            { destination_id: d.id, max_hold_hours: this.opts.maxHoldHours },
            'destination failed for the whole hold limit; paused and its queued events dead-lettered',
          );
          this.deps.alerts?.noteSettle(d.orgId, d.id, true);
        }
        for (const d of r.deadLettered) {
          this.deps.metrics.deadLettered.inc(this.deps.metrics.destinationLabels(d.id, d.siem), d.count);
          this.deps.logger.info({ destination_id: d.id, dead_lettered: d.count }, 'events of a destination paused by the hold limit dead-lettered');
        }
      } catch (err) {
        if (!isDatabaseUnavailable(err)) this.deps.logger.warn({ err: (err as Error).message }, 'hold limit round failed; will retry');
      } finally {
        this.holdRound = null;
      }
    })();
    return this.holdRound;
  }

  /** Asks for a scan soon; coalesces bursts of wake-ups into one scan. */
  wake(): void {
    if (this.stopping) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = true;
    setImmediate(() => void this.scan());
  }

  private async scan(): Promise<void> {
    try {
      do {
        this.rescan = false;
        const due = await dueDestinations(this.deps.db);
        const blocked = this.limiters.blocked();
        const ackFull = this.ackFull();
        for (const d of due) {
          if (this.stopping || this.running.size >= this.opts.maxDestinations) break;
          // Waiting out its SIEM's Retry-After: the timer brings it back when the wait ends. Waiting
          // for Splunk acks: the tracker wakes the worker when some come in.
          if (this.running.has(d.id) || blocked.has(d.id) || ackFull.has(d.id)) continue;
          const p = this.runDestination(d)
            .catch((err: unknown) => {
              // A database outage mid-run is expected and already reported by the scan; its claims
              // expire into due work if they could not be settled.
              if (isDatabaseUnavailable(err))
                this.deps.logger.debug({ err: (err as Error).message, destination_id: d.id }, 'destination runner stopped: database unavailable');
              else this.deps.logger.error({ err: (err as Error).message, destination_id: d.id }, 'destination runner failed');
            })
            .finally(() => {
              this.running.delete(d.id);
              // The destination may have more due work (or others may have been waiting for a slot).
              this.wake();
            });
          this.running.set(d.id, p);
        }
      } while (this.rescan && !this.stopping);
      await this.armTimer();
      if (this.databaseAway) {
        this.databaseAway = false;
        this.deps.logger.info('database reachable again; delivery resumed');
      }
    } catch (err) {
      // Database unreachable (restart, failover, cut connection): delivery pauses and the scan is
      // tried again every second until it works. Said once per outage, not once per second.
      if (!isDatabaseUnavailable(err)) this.deps.logger.warn({ err: (err as Error).message }, 'worker scan failed; will retry');
      else if (!this.databaseAway) this.deps.logger.warn({ err: (err as Error).message }, 'database unreachable; delivery paused until it is back');
      if (isDatabaseUnavailable(err)) this.databaseAway = true;
      this.armFallbackTimer(Math.min(this.opts.intervalMs, 1000));
    } finally {
      this.scanning = false;
      if (this.rescan && !this.stopping) this.wake();
    }
  }

  /** Sleeps until the interval (the safety net) or the next scheduled retry, whichever comes first. */
  private async armTimer(): Promise<void> {
    let delay = this.opts.intervalMs;
    const blocked = this.limiters.blocked();
    const next = await nextDueAt(this.deps.db, [...this.running.keys(), ...blocked.keys(), ...this.ackFull()]);
    if (next) delay = Math.max(10, Math.min(delay, new Date(next).getTime() - Date.now() + 5));
    for (const until of blocked.values()) delay = Math.max(10, Math.min(delay, until - Date.now() + 5));
    this.armFallbackTimer(delay);
  }

  private armFallbackTimer(delay: number): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), delay);
  }

  private async runDestination(due: DueDestination): Promise<void> {
    const row = await getDestinationRow(this.deps.db, due.orgId, due.id);
    if (!row) return;
    // A disabled (or deleted) destination is due only for its farewell: the one job it is still sent.
    const farewellOnly = !row.enabled;
    let target: DeliveryTarget;
    try {
      target = toTarget(this.deps.delivery.keyRing, row);
    } catch (err) {
      // A credential that cannot be opened (key removed from the ring) is a configuration error the
      // user must see; the jobs stay queued until the key is back.
      const error = credentialUnreadableMessage(err as Error);
      await recordAttemptOutcome(this.deps.db, due.orgId, due.id, { ok: false, delivered: false, error, deadLettered: false });
      await noteRequestFailure(this.deps.db, due.orgId, due.id);
      this.deps.alerts?.noteSettle(due.orgId, due.id, true);
      return;
    }
    // A destination that keeps failing gets one lane: its probe batch, not a flood. One whose last
    // request failed (a SIEM that hangs, refuses or errors) is suspect: one lane too, so that while it
    // waits out a timeout it holds one claim's events of the shared budget, not three.
    const probing = due.consecutiveFailures >= BREAKER_THRESHOLD;
    // The destination's own limits (options or the SIEM's defaults, adapted to its 429s) bound its
    // requests in flight; more lanes than that would only wait on each other.
    const limiter = this.limiters.get(target.id, target.siem, configuredLimits(target.siem, target.options));
    const lanes = farewellOnly ? 1 : Math.min(due.consecutiveFailures > 0 ? 1 : this.opts.lanesPerDestination, limiter.effective.concurrentRequests);
    // A runner draining a backlog can last long: a PATCHed limit is picked up every few seconds, not
    // only when the runner next starts.
    const refresh = setInterval(() => {
      void getDestinationRow(this.deps.db, due.orgId, due.id)
        .then((r) => {
          if (r) limiter.configure(configuredLimits(target.siem, r.options));
        })
        .catch(() => undefined);
    }, LIMITS_REFRESH_MS);
    // Lanes start one at a time: a second lane starts when a claim comes back full (a backlog), not
    // on every wake-up. At a steady trickle one lane finds everything due and the others would only
    // run empty claims (each a statement and a commit; three per wake-up and destination before).
    // Each lane's failure is caught the moment the lane starts: a lane that fails while the runner is
    // still waiting on an earlier one (a settle given up on during a database outage) would otherwise
    // be an unhandled rejection, and Node ends the process on those.
    const running: Promise<{ err: unknown } | null>[] = [];
    const startLane = () => {
      if (running.length < lanes)
        running.push(
          this.lane(target, limiter, probing, farewellOnly, new Date(row.updated_at), startLane).then(
            () => null,
            (err: unknown) => ({ err }),
          ),
        );
    };
    startLane();
    try {
      // Lanes started meanwhile are appended to the list, so this waits for every one of them, and
      // for all of them even when one fails (the runner must not end while a lane still sends).
      let failed: { err: unknown } | null = null;
      for (let i = 0; i < running.length; i++) {
        const outcome = await running[i]!;
        failed ??= outcome;
      }
      if (failed) throw failed.err;
    } finally {
      clearInterval(refresh);
      this.limiters.forgetIfPristine(target.id);
    }
    // A deleted destination's row waited for its farewell: settled now (delivered or dead-lettered),
    // it goes with its jobs and log. Kept while the farewell is still pending (a retry is scheduled).
    // Asked of the database, not of `row`: a delete that came while this runner was sending (its
    // farewell delivered by the same runner) would otherwise leave the row to the hourly sweep.
    await purgeDeletedDestination(this.deps.db, due.orgId, due.id);
  }

  /**
   * One claim-send-settle loop. Latency note (SIEM-FORMATS.md: "flush a partial batch after a short
   * wait, e.g. 250 ms"): that rule is for senders that accumulate events in memory before sending.
   * Here nothing accumulates: a lane claims whatever is due the moment NOTIFY wakes it and sends it at
   * once, however few events that is (a partial batch is flushed after 0 ms). Under load the batches
   * fill by themselves, because events pile up in the queue while the previous request is in flight.
   * So the low-latency requirement is met without a flush timer, and none is added on purpose.
   */
  private async lane(
    target: DeliveryTarget,
    limiter: DestinationLimiter,
    probing = false,
    farewellOnly = false,
    configVersion?: Date,
    onFull?: () => void,
  ): Promise<void> {
    const encoder = getEncoder(target.siem);
    const claimSize = encoder.maxBatchEvents === 1 ? this.opts.singleEventClaim : Math.min(encoder.maxBatchEvents, this.opts.batchClaim);
    const requestsWanted = encoder.maxBatchEvents === 1 ? this.opts.requestsPerLane : 1;
    // After a breaker pause, one request probes the destination (one event for one-per-request
    // presets, not requestsPerLane of them at once); if it gets through, the lane drains as usual.
    let limit = probing && encoder.maxBatchEvents === 1 ? 1 : claimSize;
    while (!this.stopping) {
      // Told to wait (Retry-After): the runner ends instead of waiting, so it holds no runner slot;
      // the scan skips the destination until the wait is over.
      if (limiter.notBefore() > 0) return;
      // Too many events waiting for Splunk acks: the runner ends; the scan skips the destination until
      // acks come in, so it holds nothing meanwhile.
      if (this.ackTrackers.get(target.id)?.full()) return;
      // The destination's own pacing comes first (its request slots, its events-per-second tokens, a
      // Retry-After it was given), while the lane holds nothing shared: a limited destination waits
      // without any of the event budget, so it never slows another destination.
      const permit = await limiter.acquire({ requests: probing ? 1 : requestsWanted, events: limit }, () => this.stopping);
      if (!permit) return;
      try {
        // Memory is bounded by the budget shared by every destination, taken before claiming: a lane
        // claims no more events than it was granted, and gives back what it did not claim at once and
        // the rest once the claim is settled.
        const granted = await this.budget.acquire(permit.events);
        this.deps.metrics.eventsHeld.set(this.budget.inUse);
        let held = granted;
        try {
          if (this.stopping) return;
          const claimId = randomUUID();
          const claim = { orgId: target.orgId, destinationId: target.id, limit: granted, leaseMs: this.opts.leaseMs, claimId };
          // Claims under the settings this runner read (configVersion): a changed destination gets a new runner.
          const jobs = farewellOnly ? await claimFarewellJobs(this.deps.db, claim) : await claimJobs(this.deps.db, { ...claim, configVersion });
          this.budget.release(granted - jobs.length);
          limiter.refund(permit.events - jobs.length);
          held = jobs.length;
          limit = claimSize;
          probing = false;
          if (jobs.length === 0) return;
          // As much as it asked for: there is probably more due, worth another lane.
          if (jobs.length === granted) onFull?.();
          const paused = await this.deliverClaim(target, limiter, claimId, jobs, permit.requests);
          if (paused) return;
        } finally {
          this.budget.release(held);
          this.deps.metrics.eventsHeld.set(this.budget.inUse);
        }
      } finally {
        limiter.release(permit.requests);
      }
    }
  }

  /** Sends one claim's jobs, settles them, and returns true when the lane should stop (breaker open, destination deleted). */
  private async deliverClaim(target: DeliveryTarget, limiter: DestinationLimiter, claimId: string, jobs: ClaimedJob[], maxRequests: number): Promise<boolean> {
    const { db, metrics, logger } = this.deps;
    const encoder = getEncoder(target.siem);
    const byEvent = new Map<SiemEvent, ClaimedJob>();
    const events = jobs.map((j) => {
      const e = j.payload as SiemEvent;
      byEvent.set(e, j);
      return e;
    });
    const outcomes: JobOutcome[] = [];
    // Sized with the context the encoder will really use, so no request exceeds the preset's limits.
    // An event the encoder cannot encode (a poison pill, e.g. an unparsable @timestamp written around
    // the API) would make every claim that holds it throw and hold its batch until the lease runs out,
    // again and again: it is dead-lettered on its own and the rest of the claim is sent.
    const ctx = encodeContext(this.deps.delivery, target);
    let plan: ReturnType<typeof planBatches<SiemEvent>>;
    let poisonError: string | null = null;
    try {
      plan = planBatches(events, encoder, ctx);
    } catch {
      const good: SiemEvent[] = [];
      for (const e of events) {
        try {
          encoder.encode([e], ctx);
          good.push(e);
        } catch (err) {
          poisonError = `An event cannot be encoded for ${target.siem} and was dead-lettered: ${(err as Error).message}`;
          outcomes.push({ id: byEvent.get(e)!.id, outcome: 'failed', error: poisonError, statusCode: null });
        }
      }
      plan = planBatches(good, encoder, ctx);
    }
    // Over the SIEM's per-event limit: no request can ever carry it (or the SIEM would truncate it).
    for (const { event, bytes } of plan.oversize) {
      poisonError = oversizeReason(target.siem, bytes, maxEventBytesOf(encoder));
      outcomes.push({ id: byEvent.get(event)!.id, outcome: 'failed', error: poisonError, statusCode: null });
    }
    // A queue, not a list: a request refused as too large (413) comes back as two halves.
    const groups = plan.groups;
    /** How many times each group split off from a request refused with 413 was halved. */
    const halvingsOf = new WeakMap<SiemEvent[], number>();
    const ack = indexerAckOn(target);
    const ackPending: PendingAck[] = [];
    let ackMissing = false;
    const attempts: AttemptRecord[] = [];
    const unsent: number[] = [];
    // Jobs the SIEM rate limited (429), or not sent because it asked to wait: given back without an
    // attempt, due when the wait ends. A 429 says "later", not "broken": it must not push events
    // towards the dead-letter list or open the breaker.
    const deferred: number[] = [];
    let pausedUntil: Date | null = null;
    let lastOutcome: RequestOutcome | null = null;
    let anyDelivered = false;
    let sawFailure = false;
    let sending = 0;

    // Heartbeat: keep the lease while slow requests are in flight.
    const heartbeat = setInterval(
      () => {
        void extendLease(db, { orgId: target.orgId, claimId, ids: jobs.map((j) => j.id), leaseMs: this.opts.leaseMs }).catch(() => undefined);
      },
      Math.max(1000, Math.floor(this.opts.leaseMs / 3)),
    );
    try {
      const sender = async () => {
        while (groups.length > 0) {
          const group = groups.shift()!;
          if (this.stopping || pausedUntil) {
            for (const e of group) unsent.push(byEvent.get(e)!.id);
            continue;
          }
          if (limiter.notBefore() > 0) {
            for (const e of group) deferred.push(byEvent.get(e)!.id);
            continue;
          }
          // sendRequest reports every SIEM and network failure as an outcome; should it throw anyway
          // (a bug), the group counts as a failed attempt on the schedule instead of holding its claim
          // until the lease runs out and repeating that forever without spending an attempt.
          metrics.requestsInFlight.inc({ siem: target.siem });
          sending++;
          const out = await sendRequest(this.deps.delivery, target, group)
            .finally(() => {
              sending--;
              metrics.requestsInFlight.dec({ siem: target.siem });
            })
            .catch((err: unknown): RequestOutcome => ({
              items: group.map(() => ({ outcome: 'retry' as const, error: `Internal error while sending: ${(err as Error).message}` })),
              statusCode: null,
              error: `Internal error while sending: ${(err as Error).message}`,
              durationMs: 0,
              responseSnippet: null,
            }));
          const halvings = halvingsOf.get(group) ?? 0;
          if (out.statusCode === 413 && group.length > 1) {
            // Too large for this SIEM after all (a limit lowered below the documented one): the halves
            // are sent at once, without an attempt spent on the events, down to one event, so whatever
            // the SIEM's real limit, every event under it arrives (at most 2n - 1 requests for n events).
            const half = Math.ceil(group.length / 2);
            const halves = [group.slice(0, half), group.slice(half)];
            for (const h of halves) halvingsOf.set(h, halvings + 1);
            groups.unshift(...halves);
            metrics.requests.inc({ ...metrics.destinationLabels(target.id, target.siem), result: 'failed' });
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
          if (out.statusCode === 413) {
            // One event refused alone, though the planner found it within the SIEM's documented limits:
            // the SIEM's own limit is lower than documented, or it refuses everything for a while (a
            // proxy, a misconfiguration, a temporary limit). A failed attempt retries it on the schedule,
            // and the breaker backs off, while the hint says what to check; it is never dead-lettered
            // for the 413 alone. Only events over the documented per-event limit are (by the planner).
            const error = tooLargeHint(target.siem, group.length, byteLength(encoder.encode(group, ctx).body), halvings);
            out.items = group.map(() => ({ outcome: 'retry' as const, error }));
            out.error = error;
          }
          const delivered = out.items.filter((i) => i.outcome === 'done').length;
          const retryAfterMs = out.items.find((i): i is Extract<typeof i, { outcome: 'retry' }> => i.outcome === 'retry')?.retryAfterMs;
          // The SIEM says "too many": 429, or 503 with Retry-After (Splunk's server busy). The
          // destination's limits drop and nothing starts before Retry-After. A 429 is then given back
          // without an attempt; a 503 stays a failed attempt (it may be a real outage, which the
          // schedule and the breaker are there for).
          const rateLimited = out.statusCode === 429 && delivered === 0;
          // A 429 is the SIEM pacing us, not failing: it is in the delivery log, but it does not make
          // the destination's last attempt a failure (the card's "failing", a "failing" alert).
          // Accepted under an ackId: delivered only once Splunk confirms, which the tracker records.
          const awaitingAck = ack && out.error === null && out.ackId !== undefined;
          if (rateLimited || (out.statusCode === 503 && retryAfterMs !== undefined)) {
            const until = limiter.throttle(retryAfterMs, sending + 1);
            logger.info(
              {
                destination_id: target.id,
                status: out.statusCode,
                retry_after_ms: retryAfterMs ?? null,
                not_before: new Date(until).toISOString(),
                limits: limiter.effective,
              },
              'SIEM asked to slow down; destination limits lowered',
            );
          } else if (delivered > 0) {
            limiter.succeeded();
          }
          // ...until it has answered nothing but 429 for rateLimitedFailingAfterMs: a SIEM that never
          // accepts is failing (a quota used up, a plan cancelled), and the card, the alerts and the hold
          // limit must see it, or it would hold its queue for ever. Its jobs still spend no attempt.
          const throttledMs = rateLimited ? limiter.throttledForMs() : 0;
          if (rateLimited && throttledMs >= this.opts.rateLimitedFailingAfterMs) {
            out.error = `HTTP 429: the SIEM has rate limited every request for ${Math.round(throttledMs / 60_000)} min without accepting one; check its ingest quota (or lower max_events_per_second). Aegis will retry later, honouring Retry-After.`;
            lastOutcome = out;
          } else if (!rateLimited && !awaitingAck) lastOutcome = out;
          if (delivered > 0 && !awaitingAck) {
            anyDelivered = true;
            // A success closes the breaker's count at once, not when the whole claim is settled: else a
            // flapping SIEM (every other request failing) counts a claim's failures "in a row" and gets
            // paused although it is up. Only when this claim has seen a failure (no query otherwise).
            if (sawFailure) await noteRequestSuccess(db, target.orgId, target.id).catch(() => undefined); // settle records it too
          }
          metrics.requestDuration.observe({ siem: target.siem }, out.durationMs / 1000);
          metrics.requests.inc({
            ...metrics.destinationLabels(target.id, target.siem),
            result: out.error === null ? 'ok' : delivered > 0 ? 'partial' : rateLimited ? 'throttled' : 'failed',
          });
          attempts.push({
            orgId: target.orgId,
            destinationId: target.id,
            eventCount: group.length,
            deliveredCount: delivered,
            failedCount: group.length - delivered,
            statusCode: out.statusCode,
            durationMs: out.durationMs,
            error: out.error,
            responseSnippet: out.error ? out.responseSnippet : null,
          });
          if (rateLimited) {
            for (const e of group) deferred.push(byEvent.get(e)!.id);
            continue;
          }
          if (ack && out.error === null && out.ackId === undefined) ackMissing = true;
          if (awaitingAck) {
            // Accepted, not yet indexed: the jobs stay claimed until Splunk confirms (ackTracker.ts),
            // which also logs this request once the answer is known.
            const log = attempts.pop()!;
            const jobsOf = group.map((e) => byEvent.get(e)!);
            ackPending.push({
              ackId: out.ackId!,
              claimId,
              jobIds: jobsOf.map((j) => j.id),
              jobCreatedAt: jobsOf.map((j) => new Date(j.createdAt).getTime()),
              attempt: {
                orgId: log.orgId,
                destinationId: log.destinationId,
                eventCount: log.eventCount,
                statusCode: log.statusCode,
                durationMs: log.durationMs,
                responseSnippet: log.responseSnippet,
              },
              deadline: Date.now() + this.opts.splunkAckTimeoutMs,
            });
            continue;
          }
          group.forEach((e, i) => {
            const item = out.items[i]!;
            const id = byEvent.get(e)!.id;
            if (item.outcome === 'done') outcomes.push({ id, outcome: 'done' });
            else if (item.outcome === 'failed') outcomes.push({ id, outcome: 'failed', error: item.error, statusCode: out.statusCode });
            else
              outcomes.push({
                id,
                outcome: 'retry',
                error: item.error,
                statusCode: out.statusCode,
                ...(item.retryAfterMs ? { retryAfterMs: item.retryAfterMs } : {}),
              });
          });
          if (delivered === 0 && out.error !== null) {
            sawFailure = true;
            // Breaker bookkeeping must not cost the claim its outcomes: should the database be away, the
            // outcomes are still settled below (which retries until it is back).
            const p = await noteRequestFailure(db, target.orgId, target.id).catch(() => null);
            if (p && !pausedUntil) {
              pausedUntil = p;
              logger.warn({ destination_id: target.id, paused_until: p.toISOString() }, 'destination keeps failing; holding its queue and probing later');
            }
          }
        }
      };
      // At most the request slots this lane was granted by the destination's limiter.
      const concurrency = encoder.maxBatchEvents === 1 ? maxRequests : 1;
      await Promise.all(Array.from({ length: Math.min(concurrency, groups.length) }, sender));
    } finally {
      clearInterval(heartbeat);
    }
    if (ackPending.length > 0) {
      // The lane's heartbeat ends here: renew the lease now, the tracker renews it from then on.
      await extendLease(db, { orgId: target.orgId, claimId, ids: ackPending.flatMap((p) => p.jobIds), leaseMs: this.opts.leaseMs }).catch(() => undefined);
      const tracker = this.ackTracker(target);
      for (const p of ackPending) tracker.add(p);
    }
    if (ackMissing)
      logger.warn(
        { destination_id: target.id },
        'indexer_ack is on but Splunk answered without an ackId (acknowledgement is off for this token): counted delivered on the 2xx',
      );

    // One statement: settle the jobs, log the requests, record the outcome on the destination (and
    // close its breaker when something was delivered).
    const last = lastOutcome as RequestOutcome | null;
    const settled = await this.whileDatabaseAway(() =>
      settleClaim(db, {
        orgId: target.orgId,
        claimId,
        outcomes,
        retryDelaysS: this.opts.retryDelaysS,
        report: {
          destinationId: target.id,
          attempts,
          last: last ? { ok: last.error === null, error: last.error } : poisonError ? { ok: false, error: poisonError } : null,
          delivered: anyDelivered,
        },
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
    this.deps.alerts?.noteSettle(target.orgId, target.id, (last !== null && last.error !== null) || settled.deadLettered > 0 || poisonError !== null);
    // Unsent jobs go back as due now, without an attempt: while the breaker holds the destination it is
    // the destination's paused_until that keeps them (claims and scans skip a paused destination), so
    // lifting the pause (a probe succeeding, or the user re-enabling) lets them flow at once.
    if (unsent.length > 0) await this.whileDatabaseAway(() => releaseJobs(db, { orgId: target.orgId, claimId, ids: unsent }));
    if (deferred.length > 0) {
      const afterMs = Math.max(0, limiter.notBefore() - Date.now());
      await this.whileDatabaseAway(() => releaseJobs(db, { orgId: target.orgId, claimId, ids: deferred, afterMs }));
    }

    const labels = metrics.destinationLabels(target.id, target.siem);
    if (settled.done) metrics.delivered.inc(labels, settled.done);
    if (settled.retried) metrics.retried.inc(labels, settled.retried);
    if (settled.deadLettered) metrics.deadLettered.inc(labels, settled.deadLettered);
    if (settled.fenced) logger.warn({ destination_id: target.id, fenced: settled.fenced }, 'lease expired before settling; another worker owns these jobs now');
    const now = Date.now();
    const createdAt = new Map(jobs.map((j) => [j.id, new Date(j.createdAt).getTime()]));
    for (const o of outcomes) {
      if (o.outcome === 'done') metrics.deliveryLatency.observe({ siem: target.siem }, (now - createdAt.get(o.id)!) / 1000);
    }
    if (settled.deadLettered) {
      logger.warn({ destination_id: target.id, dead_lettered: settled.deadLettered, error: last?.error }, 'events dead-lettered');
    }
    return pausedUntil !== null;
  }

  /**
   * Runs a settling statement, and while the database is unreachable (a restart, a failover) tries it
   * again every second or so for up to one lease: the requests were sent, and settling their outcome
   * once the server is back saves the SIEM a second copy. Our claim id still fences the jobs, so a
   * late settle can never touch jobs another worker has claimed meanwhile. Past the lease (or when
   * stopping) it gives up: the claim expires into due work, at least once as always.
   */
  private async whileDatabaseAway<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.opts.leaseMs;
    for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await fn();
      } catch (err) {
        if (!isDatabaseUnavailable(err) || this.stopping || Date.now() + delay > deadline) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private prune(): Promise<void> {
    // A backlog's prune may outlast the hour: the next one starts when this one is done, not beside it.
    if (this.pruneRound || this.stopping) return this.pruneRound ?? Promise.resolve();
    this.pruneRound = (async () => {
      try {
        const r = await prune(this.deps.db, this.opts.retentionDays, { shouldStop: () => this.stopping });
        if (r.jobs + r.attempts + r.events > 0) this.deps.logger.info(r, 'retention: pruned delivered jobs, delivery log and events');
        const deleted = await purgeDeletedDestinations(this.deps.db);
        if (deleted > 0) this.deps.logger.info({ destinations: deleted }, 'removed deleted destinations whose farewell was settled or given up on');
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message }, 'retention prune failed; will retry');
      } finally {
        this.pruneRound = null;
      }
    })();
    return this.pruneRound;
  }

  /** Stops claiming, lets in-flight requests finish (each is bounded by the HTTP timeout), settles them. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.limiters.kickAll(); // lanes waiting on a destination's pacing give up now
    if (this.timer) clearTimeout(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.holdTimer) clearInterval(this.holdTimer);
    await this.holdRound;
    // A long prune stops at its next pass (shouldStop); its statement in flight ends before the pool does.
    await this.pruneRound;
    await Promise.allSettled([...this.running.values()]);
    // Requests still waiting for Splunk acks keep their claims; the lease ends and anyone sends them again.
    for (const t of this.ackTrackers.values()) t.stop();
    if (this.unlisten) await this.unlisten().catch(() => undefined);
  }

  /** For tests: resolves when no destination runner is active. */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.scanning) await Promise.allSettled([...this.running.values(), new Promise((r) => setTimeout(r, 5))]);
  }
}
