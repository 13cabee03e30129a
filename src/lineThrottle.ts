import { monotonicNow } from './monotonicClock.js';

/**
 * At most one log line per kind of event per period: what the API writes for the requests it refuses
 * (the database's refusals, an organization over its concurrency, a flood of unknown credentials).
 * A full disk refuses every request until it is mended, and a busy API answers thousands a second; a
 * line per request would bury the first one and every other line of the outage (and fill the very
 * disk that ran out). The first refusal is written at once, then one line a period at most, with how
 * many it stands for. Kinds may come from clients (an organization id): at most `maxKinds` are
 * remembered, those whose period is over forgotten first.
 */
export class LineThrottle {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly periodMs: number,
    private readonly now: () => number = monotonicNow,
    private readonly maxKinds = 10_000,
  ) {}

  /**
   * Whether to write the line for `kind` now: null when held back, else how many lines of its kind
   * were held back since the last one written (0 for the first).
   */
  take(kind: string): number | null {
    const now = this.now();
    const seen = this.last.get(kind);
    if (seen && now - seen.at < this.periodMs) {
      seen.held++;
      return null;
    }
    if (!seen && this.last.size >= this.maxKinds) {
      for (const [k, v] of this.last) if (now - v.at >= this.periodMs) this.last.delete(k);
      // Every kind still within its period (a flood of kinds): the one written longest ago goes, so
      // the map never holds more than maxKinds.
      if (this.last.size >= this.maxKinds) this.last.delete(this.last.keys().next().value!);
    }
    // Moved to the end: the map stays in the order lines were written.
    this.last.delete(kind);
    this.last.set(kind, { at: now, held: 0 });
    return seen?.held ?? 0;
  }
}
