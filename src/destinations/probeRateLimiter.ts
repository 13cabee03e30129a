import { AppError } from '../errors.js';
import { monotonicNow } from '../monotonicClock.js';

/**
 * Limit for the synchronous test probe: a small sliding window per key in this process. The API
 * keeps one per destination and one per organization: each test is also a test_sent trail event
 * forwarded to every enabled destination of the organization, so without the second an organization
 * with N destinations could queue 5 x N x N jobs a minute.
 */
export class ProbeRateLimiter {
  private readonly hits = new Map<string, number[]>();
  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
    private readonly per: 'destination' | 'organization' = 'destination',
  ) {}
  take(key: string, now = monotonicNow()): void {
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) {
      const retryAfterS = Math.ceil((recent[0]! + this.windowMs - now) / 1000);
      this.hits.set(key, recent);
      throw new AppError('rate_limited', `At most ${this.limit} test probes per minute per ${this.per}; try again in ${retryAfterS} s.`, {
        retryAfterS,
      });
    }
    recent.push(now);
    this.hits.set(key, recent);
    if (this.hits.size > 10_000) this.hits.delete(this.hits.keys().next().value!);
  }
}
