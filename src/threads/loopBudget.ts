// How much of the event loop an organization's text work may take before its work goes to a thread
// (threads/fairThread.ts): the worker's scrubs of SIEM answers (delivery/scrubThread.ts) and the API's
// scans of preflight inputs and agent batches (events/scanThread.ts). A size threshold alone let a
// tenant send work just under it, each piece slow to process (some texts cost 100 times others per
// character), and hold every other tenant's requests; this budget is charged what each piece really
// took. Figures below were measured for scrubs; scans cost alike per character.
import { performance } from 'node:perf_hooks';
import { RecencyMap } from '../delivery/recencyMap.js';

/** Organizations whose recent loop time is remembered (one charged longest ago has long decayed to nothing). */
export const LOOP_BUDGET_ORGS = 10_000;

/**
 * An organization's work on the event loop (a worker's scrubs, an API's scans) may take this much of it
 * (ms, decaying by half each second) before its work goes to the thread: that expected to cost more than
 * THREAD_TRIP_MS.
 */
export const LOOP_BUDGET_MS = 10;

/**
 * Past this much (ms, decaying alike), every scrub of the organization goes to the thread, however
 * cheap its recent ones were: the rate is a guess from past answers, and a SIEM can make it tiny with
 * thousands of cheap answers and then send slow ones sized just under what it lets stay (a review
 * measured 0.9 s of the loop held so, in 2-12 ms scrubs). Three shares: an ordinary drain's scrubs,
 * thousands of answers a second at 1-2 µs each, stay below it.
 */
export const LOOP_CEILING_MS = 3 * LOOP_BUDGET_MS;

/**
 * What a scrub's trip to the thread costs the process's CPU (the texts and secrets copied to it, the
 * answer's message back, the job's promise): 40-55 µs measured in one process for a short answer,
 * against under 1 µs to scrub it where it is. An organization over its share keeps on the loop each
 * scrub its recent cost per character says is cheaper than this, or the thread would cost more than
 * it saves: in a custom webhook drain of ordinary answers (a few thousand a second, each cheap but
 * together past the share) a third of the scrubs went to the thread, each costing 50 times its scrub.
 * Slow texts still go: at 2-9 µs a character, anything over 5-25 characters.
 */
export const THREAD_TRIP_MS = 0.05;

/**
 * A scrub's characters beyond this many do not lower its organization's cost per character (see
 * LoopBudget.charge). A SIEM that pads every other answer with long cheap text would otherwise keep its
 * slow ones on the loop: in scrubThread.test.ts's model of that (7,000 characters of padding beside
 * each slow answer), 0.29 ms of the loop an answer without this bound and 0.04 with it.
 */
const RATE_CHARS = 1024;

/**
 * Each organization's recent time on the event loop for text work (scrubbing answers, scanning inputs),
 * and the characters worked through in it, both decaying by half each second, for the LOOP_BUDGET_ORGS
 * organizations charged last. The scrub and scan threads' callers ask it where each job runs.
 */
export class LoopBudget {
  /** Least recently charged first: past LOOP_BUDGET_ORGS, the one charged longest ago is forgotten. */
  private readonly spent = new RecencyMap<string, { ms: number; chars: number; at: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** `orgId`'s time and characters as of `at`, each halved per second since its last charge. */
  private decayed(orgId: string, at: number): { ms: number; chars: number } {
    const e = this.spent.peek(orgId);
    if (!e) return { ms: 0, chars: 0 };
    const f = 2 ** (-(at - e.at) / 1000);
    return { ms: e.ms * f, chars: e.chars * f };
  }

  /** Whether `orgId` has used up its share of the loop. */
  over(orgId: string): boolean {
    return this.decayed(orgId, this.now()).ms > LOOP_BUDGET_MS;
  }

  /**
   * Whether a scrub of `chars` characters for `orgId` goes to the thread: the organization is past
   * LOOP_CEILING_MS, or has used up its share and the scrub is longer than RATE_CHARS or, at its recent
   * cost per character, would cost the loop more than the trip (THREAD_TRIP_MS). Both decay alike, so the rate is that of its
   * recent scrubs, kept while its scrubs are on the thread and measured again once they are back.
   */
  offloads(orgId: string, chars: number): boolean {
    const d = this.decayed(orgId, this.now());
    if (d.ms <= LOOP_BUDGET_MS) return false;
    // Longer than RATE_CHARS: the guess's error grows with the text, and a slow one would be ms.
    return d.ms > LOOP_CEILING_MS || chars > RATE_CHARS || d.chars === 0 || (chars * d.ms) / d.chars >= THREAD_TRIP_MS;
  }

  /** Runs `fn` (a scrub of `chars` characters on the loop) and charges its time to `orgId`. */
  charge<T>(orgId: string, chars: number, fn: () => T): T {
    const start = this.now();
    try {
      return fn();
    } finally {
      const at = this.now();
      const d = this.decayed(orgId, at);
      // A scrub counts RATE_CHARS at most toward the rate: an organization whose SIEM pads some answers
      // with long cheap text must not make its slow short ones look cheap (and stay on the loop).
      this.spent.set(orgId, { ms: d.ms + (at - start), chars: d.chars + Math.min(chars, RATE_CHARS), at });
      // One eviction at most per charge: the bound costs nothing however many organizations scrub.
      if (this.spent.size > LOOP_BUDGET_ORGS) this.spent.deleteOldest();
    }
  }
}
