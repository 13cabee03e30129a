// Per-destination delivery limits: how many requests may be in flight to one SIEM and how many events
// per second may be sent to it, as configured (configuredLimits.ts: the destination's options, else
// its SIEM's default) and adapted at run time: halved when the SIEM says "too many" (429, or 503 with
// Retry-After), raised back step by step on successes.
//
// State lives in the worker's memory (one DestinationLimiter per destination it serves). With several
// worker processes each one paces itself: the configured limits apply per worker process (said in
// docs/configuration.md).
import type { DeliveryLimits } from './configuredLimits.js';
import { monotonicNow } from '../monotonicClock.js';

/**
 * A limiter unused this long is forgotten, lowered or not. Idle time starts when it was last used or,
 * when a Retry-After runs past that, when the Retry-After ends: a SIEM asking to wait longer than
 * this keeps its limiter, and so its "throttled since" clock (a SIEM that answers 429 for ever counts
 * as failing after AEGIS_RATE_LIMITED_FAILING_AFTER_S). A destination disabled or deleted meanwhile
 * gets no next request: its limiter goes this long after its last wait, and a later 429 starts a
 * fresh clock.
 */
export const LIMITER_IDLE_FORGET_MS = 600_000;

/** Wait after a 429 without Retry-After: 1 s, doubling per throttle in a row, at most this. */
export const THROTTLE_BACKOFF_MAX_MS = 60_000;

/** What a caller may do now: send up to `requests` requests carrying up to `events` events in all. */
export interface Permit {
  requests: number;
  events: number;
}

type Clock = () => number;

/**
 * One destination's limiter: a concurrency cap, a token bucket of events (refilled at the effective
 * rate, holding at most one second's worth), and a "not before" instant set by the SIEM's Retry-After.
 * Everything is computed from an injected clock, so the rules are unit-tested without waiting.
 */
export class DestinationLimiter {
  private configured: DeliveryLimits;
  private rate: number;
  private concurrency: number;
  private tokens: number;
  private refilledAt: number;
  private inFlight = 0;
  private blockedUntil = 0;
  private throttlesInARow = 0;
  /** When the SIEM started answering only "too many" (the first throttle since a success), or null. */
  private throttledSince: number | null = null;
  /** How much one success raises the rate after a throttle (a fifth of the rate it was cut to). */
  private rateStep = 1;
  /** Events granted in the current and the previous one-second window: the rate really sent. */
  private windowStart: number;
  private windowEvents = 0;
  private prevWindowEvents = 0;
  private readonly wakers = new Set<() => void>();
  private lastActive: number;

  constructor(
    limits: DeliveryLimits,
    private readonly clock: Clock = monotonicNow,
  ) {
    this.configured = { ...limits };
    this.rate = limits.eventsPerSecond;
    this.concurrency = limits.concurrentRequests;
    this.tokens = this.capacity();
    this.refilledAt = clock();
    this.windowStart = this.refilledAt;
    this.lastActive = this.refilledAt;
  }

  /** Applies new configured limits (a PATCH); the effective ones never exceed them. */
  configure(limits: DeliveryLimits): void {
    // At its old limit: follow the new one (up or down). Held below it by the SIEM: stay there, and
    // climb back towards the new one.
    this.rate = this.rate >= this.configured.eventsPerSecond ? limits.eventsPerSecond : Math.min(this.rate, limits.eventsPerSecond);
    this.concurrency =
      this.concurrency >= this.configured.concurrentRequests ? limits.concurrentRequests : Math.min(this.concurrency, limits.concurrentRequests);
    this.configured = { ...limits };
    this.refill(this.clock());
    this.tokens = Math.min(this.tokens, this.capacity());
    this.kick();
  }

  get effective(): DeliveryLimits {
    return { eventsPerSecond: this.rate, concurrentRequests: this.concurrency };
  }

  get limits(): DeliveryLimits {
    return { ...this.configured };
  }

  /** True while the effective limits are below the configured ones, or a Retry-After is running. */
  throttled(now = this.clock()): boolean {
    return this.rate < this.configured.eventsPerSecond || this.concurrency < this.configured.concurrentRequests || now < this.blockedUntil;
  }

  /** Whether the SIEM has throttled every request since the last it accepted (a spell under way). */
  get throttling(): boolean {
    return this.throttledSince !== null;
  }

  /** How long the SIEM has throttled every request without accepting one (0: it is not). */
  throttledForMs(now = this.clock()): number {
    return this.throttledSince === null ? 0 : now - this.throttledSince;
  }

  /** When the SIEM's Retry-After ends (0 when none is running). */
  notBefore(now = this.clock()): number {
    return now < this.blockedUntil ? this.blockedUntil : 0;
  }

  /** Nothing to remember: at the configured limits, nothing in flight, no wait, a full bucket. */
  pristine(now = this.clock()): boolean {
    this.refill(now);
    return !this.throttled(now) && this.inFlight === 0 && this.tokens >= this.capacity();
  }

  /**
   * Worth keeping: busy, or not idle (see LIMITER_IDLE_FORGET_MS) and either throttled with nothing
   * accepted since or not pristine.
   */
  worthKeeping(now = this.clock()): boolean {
    if (this.inFlight > 0) return true;
    if (now - Math.max(this.lastActive, this.blockedUntil) >= LIMITER_IDLE_FORGET_MS) return false;
    // Checked before pristine(): at its lowest limits a throttled limiter has nothing lowered to
    // remember once the Retry-After ends, but its clock still counts.
    return this.throttledSince !== null || !this.pristine(now);
  }

  private capacity(): number {
    return Math.max(1, this.rate);
  }

  private refill(now: number): void {
    if (now > this.refilledAt) {
      this.tokens = Math.min(this.capacity(), this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
      this.refilledAt = now;
    }
    if (now - this.windowStart >= 1000) {
      this.prevWindowEvents = now - this.windowStart >= 2000 ? 0 : this.windowEvents;
      this.windowEvents = 0;
      this.windowStart = now;
    }
  }

  /**
   * Milliseconds until a permit could be granted (0: now). Waits for the Retry-After to end, a free
   * request slot (null: only a release can free one) and one whole token.
   */
  waitMs(now = this.clock()): number | null {
    this.refill(now);
    if (now < this.blockedUntil) return this.blockedUntil - now;
    if (this.inFlight >= this.concurrency) return null;
    if (this.tokens >= 1) return 0;
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000));
  }

  /** Takes what is free now (at least one request and one event), or null when waitMs() is not 0. */
  tryTake(want: Permit, now = this.clock()): Permit | null {
    if (this.waitMs(now) !== 0) return null;
    const requests = Math.max(1, Math.min(Math.floor(want.requests), this.concurrency - this.inFlight));
    const events = Math.max(1, Math.min(Math.floor(want.events), Math.floor(this.tokens)));
    this.inFlight += requests;
    this.tokens -= events;
    this.lastActive = now;
    this.windowEvents += events;
    return { requests, events };
  }

  /**
   * Waits (without holding anything shared) until a permit is granted, or resolves null once
   * `cancelled()` is true (the worker stopping). A release or cancel() wakes waiters early.
   */
  async acquire(want: Permit, cancelled: () => boolean): Promise<Permit | null> {
    for (;;) {
      if (cancelled()) return null;
      const now = this.clock();
      const permit = this.tryTake(want, now);
      if (permit) return permit;
      const wait = this.waitMs(now);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.wakers.delete(wake);
          if (timer) clearTimeout(timer);
          resolve();
        };
        const timer = wait === null ? null : setTimeout(wake, wait);
        this.wakers.add(wake);
      });
    }
  }

  /** Gives back events granted but not sent (the claim found fewer jobs). */
  refund(events: number): void {
    if (events <= 0) return;
    this.refill(this.clock());
    this.tokens = Math.min(this.capacity(), this.tokens + events);
    this.windowEvents = Math.max(0, this.windowEvents - events);
    this.kick();
  }

  /** Ends `requests` request slots taken with a permit. */
  release(requests: number): void {
    this.inFlight = Math.max(0, this.inFlight - requests);
    this.kick();
  }

  /** Wakes every waiter so it checks again (a release, a PATCH, the worker stopping). */
  kick(): void {
    for (const wake of [...this.wakers]) wake();
  }

  /**
   * The SIEM said "too many" (429, or 503 with Retry-After). Multiplicative decrease: the rate drops to
   * half of what was really being sent (or of the effective rate, if lower), the concurrency to half of
   * what was in flight; once per Retry-After window, so a burst of concurrent 429s halves once. No
   * request starts before `retryAfterMs` (when absent: 1 s doubling per throttle in a row, at most 60 s).
   * Returns the instant the destination may be tried again.
   */
  throttle(retryAfterMs: number | undefined, inFlightNow: number, now = this.clock()): number {
    this.refill(now);
    this.lastActive = now;
    this.throttledSince ??= now;
    const wait = retryAfterMs ?? Math.min(THROTTLE_BACKOFF_MAX_MS, 1000 * 2 ** Math.min(this.throttlesInARow, 16));
    if (now >= this.blockedUntil) {
      const sent = Math.max(this.windowEvents, this.prevWindowEvents);
      const base = sent > 0 ? Math.min(this.rate, sent) : this.rate;
      this.rate = Math.max(1, Math.floor(base / 2));
      this.rateStep = Math.max(1, Math.ceil(this.rate / 5));
      this.concurrency = Math.max(1, Math.floor(Math.min(this.concurrency, Math.max(1, inFlightNow)) / 2));
      this.tokens = Math.min(this.tokens, this.capacity());
      this.throttlesInARow++;
    }
    this.blockedUntil = Math.max(this.blockedUntil, now + wait);
    return this.blockedUntil;
  }

  /** A request was accepted: additive increase, one step per success, up to the configured limits. */
  succeeded(): void {
    this.throttlesInARow = 0;
    this.throttledSince = null;
    if (this.rate < this.configured.eventsPerSecond) this.rate = Math.min(this.configured.eventsPerSecond, this.rate + this.rateStep);
    if (this.concurrency < this.configured.concurrentRequests) this.concurrency++;
    this.kick();
  }
}

/** The limiters of one worker process, by destination id. */
export class LimiterRegistry {
  private readonly byId = new Map<string, { siem: string; limiter: DestinationLimiter }>();
  private calls = 0;

  constructor(private readonly clock: Clock = monotonicNow) {}

  /** The destination's limiter, created at its configured limits or updated to them. */
  get(destinationId: string, siem: string, limits: DeliveryLimits): DestinationLimiter {
    const found = this.byId.get(destinationId);
    if (found) {
      found.limiter.configure(limits);
      return found.limiter;
    }
    const limiter = new DestinationLimiter(limits, this.clock);
    this.byId.set(destinationId, { siem, limiter });
    return limiter;
  }

  /**
   * Forgets a limiter with nothing to remember (memory stays bounded by the destinations that are
   * throttled or busy, not by every destination ever served).
   */
  forgetIfPristine(destinationId: string): void {
    const found = this.byId.get(destinationId);
    if (found && !found.limiter.worthKeeping()) this.byId.delete(destinationId);
    // Lowered limiters of destinations that went quiet are dropped too (checked now and then, not per call).
    if (this.byId.size > 0 && ++this.calls % 100 === 0) {
      for (const [id, { limiter }] of this.byId) if (!limiter.worthKeeping()) this.byId.delete(id);
    }
  }

  /** The destinations this worker holds a limiter for. */
  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** Forgets the limiter of a destination that is gone, throttled or not (its gauges went on showing it). */
  forget(destinationId: string): void {
    this.byId.delete(destinationId);
  }

  /**
   * Destinations waiting out a Retry-After, and when each wait ends: the worker starts no runner for
   * them meanwhile (a runner would only wait, holding one of the worker's runner slots).
   */
  blocked(now = this.clock()): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, { limiter }] of this.byId) {
      const until = limiter.notBefore(now);
      if (until > 0) out.set(id, until);
    }
    return out;
  }

  /** Wakes every waiter (the worker is stopping). */
  kickAll(): void {
    for (const { limiter } of this.byId.values()) limiter.kick();
  }

  /** For metrics: every limiter this worker holds. */
  snapshot(): Array<{ destinationId: string; siem: string; effective: DeliveryLimits; throttled: boolean }> {
    const now = this.clock();
    return [...this.byId].map(([destinationId, { siem, limiter }]) => ({
      destinationId,
      siem,
      effective: limiter.effective,
      throttled: limiter.throttled(now),
    }));
  }
}
