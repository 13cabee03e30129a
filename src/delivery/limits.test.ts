import { describe, expect, it, vi } from 'vitest';
import { configuredLimits, DEFAULT_LIMITS } from './configuredLimits.js';
import { DestinationLimiter, LIMITER_IDLE_FORGET_MS, LimiterRegistry, THROTTLE_BACKOFF_MAX_MS } from './limits.js';

// The limiter's rules on an injected clock: no waiting, no timing assertions.
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('configuredLimits', () => {
  it('takes the options where set and in bounds, else the SIEM default', () => {
    expect(configuredLimits('datadog', {})).toEqual(DEFAULT_LIMITS.datadog);
    expect(configuredLimits('custom', { max_events_per_second: 5, max_concurrent_requests: 2 })).toEqual({ eventsPerSecond: 5, concurrentRequests: 2 });
    // Stored values outside the bounds (written around the API) fall back to the default.
    expect(configuredLimits('splunk_hec', { max_events_per_second: 0, max_concurrent_requests: 1000 })).toEqual(DEFAULT_LIMITS.splunk_hec);
    expect(configuredLimits('splunk_hec', { max_events_per_second: 1.5 })).toEqual(DEFAULT_LIMITS.splunk_hec);
  });
});

describe('DestinationLimiter', () => {
  it('never grants more requests than the concurrency limit until one is released', () => {
    const c = clock();
    const l = new DestinationLimiter({ eventsPerSecond: 1000, concurrentRequests: 2 }, c.now);
    expect(l.tryTake({ requests: 16, events: 10 })).toEqual({ requests: 2, events: 10 });
    expect(l.tryTake({ requests: 1, events: 1 })).toBeNull();
    expect(l.waitMs()).toBeNull(); // only a release frees a slot
    l.release(1);
    expect(l.tryTake({ requests: 4, events: 1 })).toEqual({ requests: 1, events: 1 });
  });

  it('paces events with a bucket of one second at the configured rate', () => {
    const c = clock();
    const l = new DestinationLimiter({ eventsPerSecond: 10, concurrentRequests: 8 }, c.now);
    expect(l.tryTake({ requests: 1, events: 1000 })).toEqual({ requests: 1, events: 10 });
    l.release(1);
    expect(l.tryTake({ requests: 1, events: 1 })).toBeNull();
    expect(l.waitMs()).toBe(100);
    c.advance(500);
    expect(l.tryTake({ requests: 1, events: 1000 })).toEqual({ requests: 1, events: 5 });
    l.release(1);
    // Unclaimed events come back.
    l.refund(5);
    expect(l.tryTake({ requests: 1, events: 1000 })).toEqual({ requests: 1, events: 5 });
  });

  it('on a 429: halves what was really sent, waits Retry-After, then climbs back step by step', () => {
    const c = clock();
    const l = new DestinationLimiter({ eventsPerSecond: 1000, concurrentRequests: 8 }, c.now);
    const p = l.tryTake({ requests: 4, events: 400 })!;
    const until = l.throttle(2000, 4);
    expect(until).toBe(c.now() + 2000);
    expect(l.effective).toEqual({ eventsPerSecond: 200, concurrentRequests: 2 });
    // Concurrent 429s of the same burst halve once.
    l.throttle(2000, 3);
    expect(l.effective).toEqual({ eventsPerSecond: 200, concurrentRequests: 2 });
    l.release(p.requests);
    expect(l.tryTake({ requests: 1, events: 1 })).toBeNull();
    expect(l.waitMs()).toBe(2000);
    c.advance(1999);
    expect(l.tryTake({ requests: 1, events: 1 })).toBeNull();
    c.advance(1);
    expect(l.tryTake({ requests: 8, events: 1000 })).toEqual({ requests: 2, events: 200 });
    l.release(2);
    expect(l.throttled()).toBe(true);
    const seen: number[] = [];
    for (let i = 0; i < 20 && l.throttled(); i++) {
      l.succeeded();
      seen.push(l.effective.eventsPerSecond);
    }
    expect(l.effective).toEqual({ eventsPerSecond: 1000, concurrentRequests: 8 });
    expect(seen.length).toBeGreaterThan(3); // several steps, not one jump
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('without Retry-After backs off 1 s doubling per throttle in a row, bounded', () => {
    const c = clock();
    const l = new DestinationLimiter({ eventsPerSecond: 100, concurrentRequests: 1 }, c.now);
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const until = l.throttle(undefined, 1);
      waits.push(until - c.now());
      c.advance(until - c.now());
    }
    expect(waits.slice(0, 4)).toEqual([1000, 2000, 4000, 8000]);
    expect(Math.max(...waits)).toBe(THROTTLE_BACKOFF_MAX_MS);
    expect(l.effective.eventsPerSecond).toBe(1);
    expect(l.effective.concurrentRequests).toBe(1);
  });

  it('a lower configured limit (a PATCH) applies at once; acquire gives up when cancelled', async () => {
    const l = new DestinationLimiter({ eventsPerSecond: 100, concurrentRequests: 4 });
    l.configure({ eventsPerSecond: 100, concurrentRequests: 1 });
    expect(l.tryTake({ requests: 4, events: 1 })!.requests).toBe(1);
    l.release(1);
    // Raised while at the limit: follows at once. Raised while throttled: stays below and climbs.
    l.configure({ eventsPerSecond: 200, concurrentRequests: 3 });
    expect(l.effective).toEqual({ eventsPerSecond: 200, concurrentRequests: 3 });
    l.throttle(1000, 2); // one event was sent this second: half of it, at least 1
    l.configure({ eventsPerSecond: 400, concurrentRequests: 6 });
    expect(l.effective).toEqual({ eventsPerSecond: 1, concurrentRequests: 1 });
    let stop = false;
    const waiting = l.acquire({ requests: 1, events: 1 }, () => stop);
    stop = true;
    l.kick();
    await expect(waiting).resolves.toBeNull();
  });
});

// A review's: on Date.now(), a wall clock set back an hour (NTP, an operator) left a destination
// whose bucket was empty without a token, and stretched a 1 s Retry-After, for the hour. The default
// clock is monotonicNow; only Date is faked here.
describe('DestinationLimiter on its own clock, the wall clock set back an hour', () => {
  it('refills its bucket and ends a Retry-After as time passes, not as the wall clock says', async () => {
    // Faked before the limiter is made, so a limiter reading Date.now would read the faked one.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    try {
      const l = new DestinationLimiter({ eventsPerSecond: 10, concurrentRequests: 8 });
      expect(l.tryTake({ requests: 1, events: 1000 })).toEqual({ requests: 1, events: 10 });
      l.release(1);
      l.throttle(1000, 0);
      vi.setSystemTime(Date.now() - 3_600_000);
      expect(l.waitMs()).toBeLessThanOrEqual(1000);
      await expect
        .poll(
          () => {
            const p = l.tryTake({ requests: 1, events: 1 });
            if (p) l.release(p.requests);
            return p;
          },
          { timeout: 30_000, interval: 50 },
        )
        .toEqual({ requests: 1, events: 1 });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('LimiterRegistry', () => {
  it('forgets only limiters with nothing to remember', () => {
    const c = clock();
    const reg = new LimiterRegistry(c.now);
    const a = reg.get('a', 'custom', { eventsPerSecond: 10, concurrentRequests: 1 });
    reg.get('b', 'custom', { eventsPerSecond: 10, concurrentRequests: 1 });
    a.throttle(5000, 1);
    reg.forgetIfPristine('a');
    reg.forgetIfPristine('b');
    expect(reg.snapshot().map((s) => [s.destinationId, s.throttled])).toEqual([['a', true]]);
    expect(reg.get('a', 'custom', { eventsPerSecond: 10, concurrentRequests: 1 })).toBe(a);
    expect([...reg.blocked()]).toEqual([['a', c.now() + 5000]]);
    // Past the Retry-After and accepted again, still lowered: kept while recently used, forgotten
    // once idle for long.
    c.advance(5000);
    expect(reg.blocked().size).toBe(0);
    a.succeeded();
    expect(a.throttled()).toBe(true);
    reg.forgetIfPristine('a');
    expect(reg.snapshot()).toHaveLength(1);
    c.advance(LIMITER_IDLE_FORGET_MS);
    reg.forgetIfPristine('a');
    expect(reg.snapshot()).toHaveLength(0);
  });

  // A SIEM answering 429 to every request with a Retry-After longer than the idle time: the limiter
  // must survive the waits, or "throttled for how long without accepting one" restarts at every 429
  // and the 429-forever protection (AEGIS_RATE_LIMITED_FAILING_AFTER_S) never fires.
  it('keeps a throttled limiter across Retry-Afters longer than the idle time, until the SIEM accepts one', () => {
    const c = clock();
    const reg = new LimiterRegistry(c.now);
    const limits = { eventsPerSecond: 100, concurrentRequests: 4 };
    const retryAfter = LIMITER_IDLE_FORGET_MS + 60_000;
    const first = reg.get('slow', 'custom', limits);
    for (let i = 0; i < 3; i++) {
      // The worker's runner: take, send, 429, give back, forget if nothing to remember.
      const l = reg.get('slow', 'custom', limits);
      expect(l).toBe(first);
      expect(l.tryTake({ requests: 1, events: 10 })).not.toBeNull();
      l.throttle(retryAfter, 1);
      l.release(1);
      reg.forgetIfPristine('slow');
      expect(l.throttledForMs()).toBe(i * retryAfter);
      // No runner during the wait; other destinations' runners end meanwhile (each sweeps now and then).
      c.advance(retryAfter);
      for (let n = 0; n < 100; n++) reg.forgetIfPristine('other');
    }
    expect(reg.get('slow', 'custom', limits).throttledForMs()).toBe(3 * retryAfter);
    // Accepted at last: the clock stops, and an idle lowered limiter is forgotten as usual.
    first.succeeded();
    expect(first.throttledForMs()).toBe(0);
    c.advance(LIMITER_IDLE_FORGET_MS);
    reg.forgetIfPristine('slow');
    expect(reg.snapshot()).toHaveLength(0);
  });

  it('keeps a throttled limiter already at its lowest limits (nothing lowered to remember but the clock)', () => {
    const c = clock();
    const reg = new LimiterRegistry(c.now);
    const limits = { eventsPerSecond: 1, concurrentRequests: 1 };
    const l = reg.get('tiny', 'custom', limits);
    expect(l.tryTake({ requests: 1, events: 1 })).not.toBeNull();
    l.throttle(5_000, 1);
    l.release(1);
    c.advance(5_000);
    reg.forgetIfPristine('tiny');
    expect(reg.get('tiny', 'custom', limits)).toBe(l);
    expect(l.throttledForMs()).toBe(5_000);
    // A destination deleted or disabled while throttled: no next request, so its limiter goes once
    // idle as long as any other, and a 429 after it is enabled again starts a fresh clock (a week
    // later, it used to count the week: failing at once).
    c.advance(LIMITER_IDLE_FORGET_MS);
    reg.forgetIfPristine('tiny');
    expect(reg.snapshot()).toHaveLength(0);
    const again = reg.get('tiny', 'custom', limits);
    expect(again).not.toBe(l);
    expect(again.tryTake({ requests: 1, events: 1 })).not.toBeNull();
    again.throttle(5_000, 1);
    again.release(1);
    expect(again.throttledForMs()).toBe(0);
  });
});
