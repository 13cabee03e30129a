// Splunk HEC indexer acknowledgement, the queue side: requests Splunk accepted with an ackId whose
// jobs are not done until Splunk confirms them. One tracker per acknowledging destination in a worker
// process, and one channel (splunkChannel: the process's own). State machine of one request:
//   sent (ackId) --poll says true--> done (settled)
//                --deadline passes--> retry (settled: one failed attempt, sent again on the schedule)
//                --Splunk's ackId count restarts--> retry (settled the same way, at once)
//                --worker dies/stops--> nothing settled: the lease expires and anyone sends it again
// Splunk numbers ackIds per channel from 0 and starts again at 0 when it restarts, forgetting every ack
// it held: a `true` for an ackId is about whichever request Splunk last gave it to. So each ackId is
// registered as soon as its request's answer is read (deliverClaim.ts), a `true` counts only once
// every request sent before it was answered is registered, and only for a request the poll asked
// about, still waiting, registered in the same reset generation as the poll was sent in (see add()).
// Its jobs stay claimed the whole time (their claim id fences every settle) and the tracker keeps
// renewing their lease, so no other worker sends them while the ack is awaited. At least once holds:
// nothing is marked done without Splunk's "true", and everything not confirmed is sent again.
import type { Db } from '../db/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { AlertHook } from '../alerts/alerter.js';
import { extendLease } from '../queue/claimJobs.js';
import { allFenced, settleClaim } from '../queue/settleJobs.js';
import { noteRequestFailure } from '../queue/deliveryState.js';
import type { AttemptRecord } from '../queue/attempts.js';
import type { DeliveryDeps, DeliveryTarget } from './deliverBatch.js';
import { ACK_QUERY_MAX_IDS, queryAcks } from './splunkAck.js';

/**
 * A request's items that waited while Splunk's ackId count started again (a Splunk restart: it gave out
 * ackIds again and forgot the acks it held) before confirming them: a failed attempt.
 */
export const ACK_REUSED_ERROR =
  'Splunk restarted its ackId count on this channel (an ackId was given out again) before confirming the request; Aegis will retry.';

/**
 * A request Splunk did not confirm in time: a failed attempt. The poll's error is clipped so that the
 * retry clause stays the text's end (the one a dead letter, the hold limit and a probe replace).
 */
export const ACK_TIMEOUT_ERROR = (timeoutS: number, why: string): string =>
  `Splunk did not confirm indexing within ${timeoutS} s (indexer acknowledgement)${why.slice(0, 500)}; Aegis will retry.`;
import { decideItem, scheduleJobs, type ClaimedDecision } from './outcome.js';
import { monotonicNow } from '../monotonicClock.js';
import { warnForDestination } from './destinationLines.js';

/** How often leases of requests awaiting their ack are looked at: a third of a lease (500 ms at least). */
export function renewalIntervalMs(leaseMs: number): number {
  return Math.max(500, Math.floor(leaseMs / 3));
}

/**
 * Whether a claim's lease, last renewed at `renewedAt` (by the tracker or the lane's heartbeat), is
 * renewed now. Due from half an interval on, so a renewal is never put off to the next round: due
 * only from a whole one (lease / 3 against a timer of floor(lease / 3) ms, started a millisecond
 * early), a claim was skipped and renewed a round later, two thirds of a lease apart, and a loaded
 * machine's late round let the lease lapse and the jobs go out again under another claim. Now the
 * renewals are at most an interval and a half apart, half a lease.
 */
export function leaseRenewalDue(now: number, renewedAt: number | undefined, leaseMs: number): boolean {
  return renewedAt === undefined || now - renewedAt >= renewalIntervalMs(leaseMs) / 2;
}

/** One accepted request waiting for its ack. */
export interface PendingAck {
  ackId: number;
  claimId: string;
  jobIds: number[];
  /** Attempts each job had made before this request (its claimed count), aligned with jobIds: the schedule's input. */
  jobAttempts: number[];
  /** created_at of each job (ms), for the delivery-latency metric. */
  jobCreatedAt: number[];
  /** The request as the delivery log records it once the ack question is settled. */
  attempt: Omit<AttemptRecord, 'deliveredCount' | 'failedCount' | 'error'>;
  /** When the ack is given up on, on monotonicNow()'s clock (as every time this tracker keeps). */
  deadline: number;
}

export interface AckTrackerDeps {
  db: Db;
  delivery: DeliveryDeps;
  metrics: Metrics;
  logger: Logger;
  alerts?: AlertHook;
  /** Told when room frees up (the destination may claim again). */
  wake: () => void;
}

export interface AckTrackerOptions {
  leaseMs: number;
  retryDelaysS: number[];
  pollMs: number;
  timeoutMs: number;
  /**
   * Events of one destination allowed to wait for acks at once. Past it the destination claims no
   * more until acks come in: a Splunk that acknowledges slowly holds its own queue, not the worker's
   * shared event budget (a pending ack holds job ids only) nor any other destination's capacity.
   */
  maxPendingEvents: number;
}

type Resolved = { p: PendingAck; acked: boolean; error: string | null };

/** A request waiting for its ack, as the tracker holds it. */
interface Entry {
  p: PendingAck;
  /** The reset generation it was registered in. */
  gen: number;
  /** When it was registered, on the tracker's clock (the order of sends begun and registrations). */
  reg: number;
}

/** A poll's `true`s, held until every request sent before they were read has been answered. */
interface Confirmation {
  gen: number;
  entries: Entry[];
  /** The tracker's clock when they were read: sends begun up to it must have ended first. */
  upTo: number;
}

/** How the claim's lane registers a request's ackId (see add()). */
export interface AddOptions {
  /** From beginSend() before the request was sent; without it, the request counts as sent just now. */
  ticket?: number;
  /** When the lease of the request's jobs was last renewed (default: now). */
  leaseRenewedAt?: number;
}

export class AckTracker {
  /** Waiting requests by ackId: at most one per ackId (two sharing one are both failed, see add()). */
  private readonly pending = new Map<number, Entry>();
  /** Orders sends begun (beginSend) and registrations (add): increments on each. */
  private clock = 0;
  /** Sends begun and not yet answered (their ackIds are not known yet), by ticket. */
  private readonly sending = new Set<number>();
  /** Reset generation: bumped each time Splunk's ackId count is seen to start again. */
  private gen = 0;
  /** At least every waiting ackId (a fast path for the common case: a new ackId higher than all). */
  private highest = -1;
  /** Poll answers waiting for requests in flight when they were read (see confirm()). */
  private confirmations: Confirmation[] = [];
  /**
   * Answered (or timed out) but not yet settled, by claim (one settle statement each): kept while the
   * database is away. Grouped as they come, so a round costs time linear in the requests it settles.
   */
  private readonly resolved = new Map<string, Resolved[]>();
  /** Rounds whose settle failed for want of the database, by claim: each is sent again alone, as a retry (settleResolved). */
  private readonly failedRounds = new Map<string, Resolved[][]>();
  private events = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;
  /** The current round's lease renewal clock (see tick()); stop() clears it at once. */
  private heartbeat: NodeJS.Timeout | null = null;
  /** When each claim's lease was last renewed (the caller renews it just before add()). */
  private readonly extendedAt = new Map<string, number>();
  private lastPoll = 0;
  private lastPollError: string | null = null;
  /**
   * The poll error last written to the log: a new one is offered to the throttle at every poll until
   * a line says it (one held back within the minute of another comes out after it), then no more.
   */
  private loggedPollError: string | null = null;

  constructor(
    private target: DeliveryTarget,
    private readonly deps: AckTrackerDeps,
    private readonly opts: AckTrackerOptions,
  ) {}

  /** A runner's fresher view of the destination (a PATCHed credential is used for the next poll). */
  update(target: DeliveryTarget): void {
    this.target = target;
  }

  get pendingEvents(): number {
    return this.events;
  }

  /** True while the destination has as many events waiting for acks as it may. */
  full(): boolean {
    return this.events >= this.opts.maxPendingEvents;
  }

  /**
   * True when nothing waits and no request is in flight on the channel (the worker may forget this
   * tracker: a request in flight must be registered with the tracker that knows what it may collide with).
   */
  idle(): boolean {
    return this.pending.size === 0 && this.resolved.size === 0 && this.failedRounds.size === 0 && this.sending.size === 0;
  }

  /**
   * A request is about to be sent on this destination's channel: its ackId, unknown until its answer is
   * read, may be the one a poll answers about meanwhile. End it with add(p, { ticket }) or endSend().
   */
  beginSend(): number {
    const ticket = ++this.clock;
    this.sending.add(ticket);
    return ticket;
  }

  /** The request of `ticket` was answered without an ackId to wait for (or not answered at all). */
  endSend(ticket: number): void {
    if (this.sending.delete(ticket)) this.flushConfirmations();
  }

  /**
   * Registers a request Splunk accepted with an ackId, as soon as its answer is read.
   *
   * Splunk gives out ackIds on a channel in increasing order, so a request sent after another was
   * registered gets a higher ackId, unless Splunk's count started again in between (a restart, which
   * also forgets every ack it held). A new ackId not higher than that of a request registered before it
   * was sent therefore means a restart: every request waiting is ambiguous (a `true` for its ackId
   * would be about a request sent after the restart) and is settled as a failed attempt, sent again on
   * the schedule; the new request, accepted after the restart, starts the next generation. (Requests in
   * flight together may be answered in any order: a lower ackId read after a higher one of a request
   * sent meanwhile is no restart.) One ackId held by two requests in flight together: one of them
   * predates a restart, and neither can be told apart: both are failed attempts.
   */
  add(p: PendingAck, opts: AddOptions = {}): void {
    const sentAt = opts.ticket ?? this.clock + 1;
    if (opts.ticket !== undefined) this.sending.delete(opts.ticket);
    if (this.stopped) return;
    let restarted = false;
    let shared = false;
    if (p.ackId <= this.highest) {
      for (const e of this.pending.values()) {
        if (e.p.ackId >= p.ackId && e.reg < sentAt) restarted = true;
        if (e.p.ackId === p.ackId) shared = true;
      }
    }
    if (restarted || shared) {
      for (const e of [...this.pending.values()]) this.resolve(e, false, ACK_REUSED_ERROR);
      this.gen++;
      this.highest = -1;
      warnForDestination(
        this.deps.logger,
        'ack-restarted',
        this.target.id,
        { ack_id: p.ackId },
        "Splunk's ackId count started again on this channel (Splunk restarted?): requests waiting for acknowledgement are sent again",
      );
    }
    const entry: Entry = { p, gen: this.gen, reg: ++this.clock };
    this.pending.set(p.ackId, entry);
    this.events += p.jobIds.length;
    if (p.ackId > this.highest) this.highest = p.ackId;
    // The lease of its jobs was renewed then; of the claim's, the earliest renewal counts.
    const renewed = opts.leaseRenewedAt ?? monotonicNow();
    const known = this.extendedAt.get(p.claimId);
    this.extendedAt.set(p.claimId, known === undefined ? renewed : Math.min(known, renewed));
    if (shared && !restarted) this.resolve(entry, false, ACK_REUSED_ERROR);
    this.flushConfirmations();
    this.schedule();
  }

  /** The lane renewed the lease of every job of the claim at `at` (its own heartbeat). */
  leaseRenewed(claimId: string, at: number): void {
    const known = this.extendedAt.get(claimId);
    if (known !== undefined && at > known) this.extendedAt.set(claimId, at);
  }

  /** Stops polling. Unsettled requests keep their claims until the lease expires, then are sent again. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A round may be waiting on a poll that never answers: its leases are no longer ours to renew.
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private schedule(): void {
    if (this.stopped || this.timer || this.running) return;
    // Often enough to renew leases in time even when polls are rarer than a third of the lease.
    const delay = Math.min(this.opts.pollMs, renewalIntervalMs(this.opts.leaseMs));
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick();
    }, delay);
  }

  private resolve(e: Entry, acked: boolean, error: string | null): void {
    const p = e.p;
    // Only the very request: another may have been registered with its ackId since.
    if (this.pending.get(p.ackId) !== e) return;
    this.pending.delete(p.ackId);
    this.events -= p.jobIds.length;
    const group = this.resolved.get(p.claimId);
    if (group) group.push({ p, acked, error });
    else this.resolved.set(p.claimId, [{ p, acked, error }]);
  }

  /**
   * A poll's `true`s, for the requests it asked about. Splunk's `true` is about whichever request it last
   * gave that ackId to, which may be one whose answer has not been read yet (sent after a restart):
   * they count only once every request in flight now has been answered and registered (add() then
   * sees any restart), and only for requests still waiting from the generation the poll was sent in.
   */
  private confirm(c: Confirmation): void {
    if (c.entries.length === 0) return;
    this.confirmations.push(c);
    this.flushConfirmations();
  }

  private flushConfirmations(): void {
    if (this.confirmations.length === 0) return;
    let oldestInFlight = Infinity;
    for (const t of this.sending) if (t < oldestInFlight) oldestInFlight = t;
    let applied = 0;
    for (const c of this.confirmations) {
      // Held until the sends begun before it was read have ended; later ones hold the rest too (in order).
      if (oldestInFlight <= c.upTo) break;
      applied++;
      if (c.gen !== this.gen) continue;
      for (const e of c.entries) if (e.gen === c.gen) this.resolve(e, true, null);
    }
    if (applied > 0) {
      this.confirmations = this.confirmations.slice(applied);
      this.schedule();
    }
  }

  /** One round: poll (one POST per 1,000 ackIds), time out the overdue, settle, renew leases. */
  private async tick(): Promise<void> {
    this.running = true;
    // A poll may take up to the outbound time limit per phase (a Splunk that accepts the connection and
    // never answers), longer than a lease: the leases are renewed on their own clock meanwhile, or the
    // jobs would be claimed and sent again by another claim while their first copy awaits its ack.
    // An object, not a `let`: TypeScript does not see assignments made inside the interval's callback
    // and would narrow a `let` to null below; the property is read for its current value.
    const renewal: { running: Promise<void> | null } = { running: null };
    const heartbeat = setInterval(() => {
      if (this.stopped || renewal.running) return;
      renewal.running = this.extendLeases()
        .catch((err: unknown) =>
          this.deps.logger.warn({ destination_id: this.target.id, err: (err as Error).message }, 'renewing Splunk ack leases failed; will try again'),
        )
        .finally(() => (renewal.running = null));
    }, renewalIntervalMs(this.opts.leaseMs));
    // Never what keeps the process alive: a stopping worker must be able to exit mid-poll.
    heartbeat.unref();
    this.heartbeat = heartbeat;
    try {
      const pollDue = monotonicNow() - this.lastPoll >= this.opts.pollMs - 5;
      if (pollDue) this.lastPoll = monotonicNow();
      const asked = pollDue ? [...this.pending.values()] : [];
      for (let i = 0; i < asked.length && !this.stopped; i += ACK_QUERY_MAX_IDS) {
        const chunk = asked.slice(i, i + ACK_QUERY_MAX_IDS);
        const gen = this.gen;
        // Never throws: a failed poll comes back as its (scrubbed) error.
        const poll = await queryAcks(
          this.deps.delivery,
          this.target,
          chunk.map((e) => e.p.ackId),
        );
        if (poll.error !== null && poll.error !== this.loggedPollError) {
          if (warnForDestination(this.deps.logger, 'ack-poll', this.target.id, { error: poll.error }, 'Splunk acknowledgement poll failed; will poll again'))
            this.loggedPollError = poll.error;
        } else if (poll.error === null) this.loggedPollError = null;
        this.lastPollError = poll.error;
        this.confirm({ gen, entries: chunk.filter((e) => poll.acked.has(e.p.ackId)), upTo: this.clock });
        // A Splunk that failed one chunk would most likely fail the next: asking again waits for the next
        // round instead of stacking one time limit per 1,000 ackIds.
        if (poll.error !== null) break;
      }
      const now = monotonicNow();
      const timeoutS = Math.round(this.opts.timeoutMs / 1000);
      for (const e of [...this.pending.values()]) {
        if (e.p.deadline > now) continue;
        const why = this.lastPollError ? ` (last poll: ${this.lastPollError})` : '';
        this.resolve(e, false, ACK_TIMEOUT_ERROR(timeoutS, why));
      }
      if (this.stopped) return;
      await this.settleResolved();
      // One renewal at a time: the heartbeat's may still be writing the same leases.
      await renewal.running;
      await this.extendLeases();
    } catch (err) {
      this.deps.logger.warn({ destination_id: this.target.id, err: (err as Error).message }, 'Splunk acknowledgement round failed; will try again');
    } finally {
      clearInterval(heartbeat);
      if (this.heartbeat === heartbeat) this.heartbeat = null;
      await renewal.running;
      this.running = false;
      if (this.pending.size > 0 || this.resolved.size > 0 || this.failedRounds.size > 0) this.schedule();
    }
  }

  /** Renews the lease of every claim with requests still waiting, when due (leaseRenewalDue). */
  private async extendLeases(): Promise<void> {
    const now = monotonicNow();
    const waiting = new Set<string>();
    // Only the due claims' job ids are gathered: most rounds renew none of thousands waiting.
    const due = new Map<string, number[]>();
    for (const { p } of this.pending.values()) {
      waiting.add(p.claimId);
      if (!leaseRenewalDue(now, this.extendedAt.get(p.claimId), this.opts.leaseMs)) continue;
      let ids = due.get(p.claimId);
      if (!ids) due.set(p.claimId, (ids = []));
      for (const id of p.jobIds) ids.push(id);
    }
    for (const claimId of [...this.extendedAt.keys()]) if (!waiting.has(claimId)) this.extendedAt.delete(claimId);
    for (const [claimId, ids] of due) {
      await extendLease(this.deps.db, { claimId, ids, leaseMs: this.opts.leaseMs });
      this.extendedAt.set(claimId, now);
    }
  }

  /**
   * Settles answered requests, one statement per claim; on a database error they wait for the next
   * round. A round whose settle failed is sent again alone, first, as a retry: it may have committed
   * with its answer lost, and settleClaim then logs its requests only if it settles something. Merged
   * with requests answered since, it would settle those and log its own a second time.
   */
  private async settleResolved(): Promise<void> {
    if (this.resolved.size === 0 && this.failedRounds.size === 0) return;
    for (const [claimId, rounds] of [...this.failedRounds]) {
      this.failedRounds.delete(claimId);
      for (let i = 0; i < rounds.length; i++) {
        try {
          await this.settleRound(claimId, rounds[i]!, true);
        } catch (err) {
          // This round is back in failedRounds (settleRound); the ones after it go back with it.
          for (const rs of rounds.slice(i + 1)) this.keepFailed(claimId, rs);
          throw err;
        }
      }
    }
    for (const [claimId, rs] of [...this.resolved]) {
      // Taken out while it settles (a reused ackId may resolve another request of the claim meanwhile).
      this.resolved.delete(claimId);
      await this.settleRound(claimId, rs, false);
    }
    this.deps.wake();
  }

  private keepFailed(claimId: string, rs: Resolved[]): void {
    const rounds = this.failedRounds.get(claimId);
    if (rounds) rounds.push(rs);
    else this.failedRounds.set(claimId, [rs]);
  }

  /** One claim's answered requests in one settle statement; on a database error kept in failedRounds and thrown. */
  private async settleRound(claimId: string, rs: Resolved[], retry: boolean): Promise<void> {
    const { db, metrics, logger } = this.deps;
    const t = this.target;
    const decided: ClaimedDecision[] = [];
    const attempts: AttemptRecord[] = [];
    let lastError: string | null = null;
    let anyAcked = false;
    for (const { p, acked, error } of rs) {
      // Not confirmed in time: a failed attempt of the request's items, sent again on the schedule.
      const decision = decideItem(acked ? { ok: true } : { ok: false, stage: 'item', reason: error!, statusCode: null, permanent: false });
      p.jobIds.forEach((id, i) => decided.push({ id, attempts: p.jobAttempts[i]!, decision }));
      attempts.push({ ...p.attempt, deliveredCount: acked ? p.jobIds.length : 0, failedCount: acked ? 0 : p.jobIds.length, error: acked ? null : error });
      if (acked) anyAcked = true;
      else lastError = error;
    }
    const outcomes = scheduleJobs(decided, this.opts.retryDelaysS);
    const settled = await settleClaim(db, {
      orgId: t.orgId,
      claimId,
      outcomes,
      report: { destinationId: t.id, attempts, last: { ok: lastError === null, error: lastError }, delivered: anyAcked },
      retry,
    }).catch((err: unknown) => {
      // The destination was deleted meanwhile: its jobs went with it.
      if ((err as { code?: string }).code === '23503') return null;
      this.keepFailed(claimId, rs);
      throw err;
    });
    if (!settled) return;
    // Every job fenced: the lease ran out and another worker holds them (or a retried settle had
    // committed before, judged then): nothing here for the breaker or the alerter, as in deliverClaim.
    const fenced = allFenced(settled, outcomes.length);
    if (!fenced || retry) {
      if (lastError !== null && !fenced) await noteRequestFailure(db, t.orgId, t.id).catch(() => null);
      this.deps.alerts?.noteSettle(t.orgId, t.id, lastError !== null || settled.deadLettered > 0);
    }
    const labels = metrics.destinationLabels(t.id, t.siem);
    if (settled.done) metrics.delivered.inc(labels, settled.done);
    if (settled.retried) metrics.retried.inc(labels, settled.retried);
    if (settled.deadLettered) metrics.deadLettered.inc(labels, settled.deadLettered);
    if (settled.fenced && !retry)
      logger.warn(
        { destination_id: t.id, fenced: settled.fenced },
        'lease expired while waiting for Splunk acknowledgements; another worker owns these jobs now',
      );
    const now = Date.now();
    for (const { p, acked } of rs) if (acked) for (const c of p.jobCreatedAt) metrics.deliveryLatency.observe({ siem: t.siem }, (now - c) / 1000);
    if (lastError !== null)
      warnForDestination(logger, 'ack-timeout', t.id, { error: lastError }, 'Splunk did not acknowledge a request in time; its events are sent again');
  }
}
