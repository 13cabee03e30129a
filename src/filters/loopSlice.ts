// How long filter checks hold the API's thread before other requests get a turn. A filter at its
// limits (4 KiB of $in lists) costs tens of microseconds an event: one organization's 25 such filters
// on a batch of 1,000 events (routing), or one on its last 1,000 events (a preview), held the thread
// for a fifth of a second to most of a second, every other organization waiting.
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** How long one slice of checks may hold the thread. */
const SLICE_MS = 4;
/** Checks between two reads of the clock: one read costs about as much as a cheap filter. */
export const CHECKS_PER_CLOCK_READ = 64;

/** Counts checks and says when the current slice has held the thread long enough to give it back. */
export class LoopSlice {
  private start: number;
  private checks = 0;

  /** `now`: the clock, in ms (a test's own, to spend slices without timing anything). */
  constructor(private readonly now: () => number = () => performance.now()) {
    this.start = now();
  }

  /**
   * After one check (or work worth `weight` checks: compiling a filter is worth a clock read at once):
   * whether the slice is spent (the caller then awaits giveTurn()).
   */
  spent(weight = 1): boolean {
    this.checks += weight;
    if (this.checks < CHECKS_PER_CLOCK_READ) return false;
    this.checks = 0;
    return this.now() - this.start > SLICE_MS;
  }

  /** Hands the thread back for one turn of the event loop (a setImmediate), then starts a new slice. */
  async giveTurn(): Promise<void> {
    await nextTurn();
    this.start = this.now();
  }
}

/**
 * Which of `items` pass `test`, in order, checked in slices: a range replay's batch (up to 50,000
 * events) against a filter at its limits, checked in one go, held the event loop, every tenant's
 * requests with it, a third of a second and more (a filters review).
 */
export async function selectInSlices<T>(items: readonly T[], test: (item: T) => boolean): Promise<boolean[]> {
  const kept: boolean[] = [];
  const slice = new LoopSlice();
  for (const item of items) {
    kept.push(test(item));
    if (slice.spent()) await slice.giveTurn();
  }
  return kept;
}

/** A predicate over one item made a selection over many, checked in slices (selectInSlices). */
export const sliced =
  <T>(test: (item: T) => boolean) =>
  (items: readonly T[]): Promise<boolean[]> =>
    selectInSlices(items, test);
