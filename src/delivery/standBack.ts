// Destinations this worker leaves alone for a while: it cannot serve them (a credential sealed under
// a key its AEGIS_ENCRYPTION_KEY lacks) and another process can, or their run just failed on an
// error that is no outage and would fail the same way at once (worker.ts). Left out of this
// worker's scans until the time given, as a Retry-After's wait is (worker.ts), so a runner that
// ends at once is not started again at once, and again, for as long as the work waits.
import { monotonicNow } from '../monotonicClock.js';

export class StandBack {
  private readonly until = new Map<string, number>();

  constructor(private readonly clock: () => number = monotonicNow) {}

  /** Leaves the destination out of this worker's scans for `ms`. */
  hold(destinationId: string, ms: number): void {
    this.until.set(destinationId, this.clock() + ms);
  }

  /** The destinations held now, and when each hold ends (on the monotonic clock); ended ones are forgotten. */
  held(now = this.clock()): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, until] of this.until) {
      if (until > now) out.set(id, until);
      else this.until.delete(id);
    }
    return out;
  }
}
