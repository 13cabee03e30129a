// What a SIEM answers is scrubbed of the destination's secrets (scrubSecrets.ts) before anyone reads
// it; large scrubs are done on a thread of their own. A scrub reads every spelling of every secret:
// linear, but up to 1.5 µs a character for some texts (0.2-0.7 s for a megabyte; 2-9 µs for a text cut
// at its cap, or a destination with many secrets: its URL's parameters), and an Elastic _bulk
// answer may be a megabyte on a 2xx (64 KiB plus 1 KiB an event, for its per-item verdicts). Done on
// the worker's one event loop, an organization whose SIEM answered every request with a megabyte of
// padding held every other organization's deliveries (another organization's p90 went from 26 ms to
// 2.6 s with three such destinations). Here a scrub of OFFLOAD_MIN_SCRUB_CHARS or more waits its
// organization's turn for the thread while the event loop goes on delivering, and so does every scrub
// of an organization whose answers took more than LOOP_BUDGET_MS of the loop in the last second (many
// answers just under the size, each slow to scrub) unless its texts scrub faster than a trip to the
// thread costs (THREAD_TRIP_MS); the rest are scrubbed where they are.
import { performance } from 'node:perf_hooks';
import { DEFAULT_MAX_ANSWER_BYTES } from '../siem/types.js';
import { FairThread, siblingModuleUrl } from '../threads/fairThread.js';
import { answerTexts, withTexts, type AnswerText } from './outbound/credentialScrub.js';
import type { OutboundResult } from './outbound/types.js';
import { replyError, runScrubJob, type ScrubFailure, type ScrubJob } from './scrubJobs.js';
import { RecencyMap } from './recencyMap.js';
import type { Scrubber } from './scrubSecrets.js';

/**
 * Scrubs of this many characters or more (UTF-16 code units, all texts of one scrub) go to the thread:
 * what a preset reads of an answer unless it says more, so in practice an Elastic answer or its
 * refused items' reasons. Tens of ms on the loop below it for the slowest texts (a cut one, many secrets).
 */
export const OFFLOAD_MIN_SCRUB_CHARS = DEFAULT_MAX_ANSWER_BYTES;

/** Organizations whose recent loop time is remembered (one charged longest ago has long decayed to nothing). */
export const LOOP_BUDGET_ORGS = 10_000;

/**
 * An organization's scrubs on the event loop may take this much of it (ms, decaying by half each
 * second) before its scrubs go to the thread: those expected to cost more than THREAD_TRIP_MS.
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

/** The process's scrub thread (started on the first large scrub). */
export const scrubThread = new FairThread<ScrubJob, ScrubFailure>({
  name: 'the scrub thread for large answers',
  moduleUrl: siblingModuleUrl(import.meta.url, 'scrubJobs'),
  runHere: runScrubJob,
  replyError,
});

/**
 * Each organization's recent scrubbing time on the event loop, and the characters scrubbed in it, both
 * decaying by half each second, for the LOOP_BUDGET_ORGS organizations that scrubbed last.
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

const processBudget = new LoopBudget();

/** Whose secrets a scrub removes, and whose turn it waits for. */
export interface ScrubOwner {
  orgId: string;
  destinationId: string;
  /** The secrets `scrub` removes (scrubberFor(destinationId, secrets)): the thread builds the same scrubber. */
  secrets: readonly (string | null)[];
}

/** Where scrubs run: the process's thread and budget, or a test's. */
export interface ScrubPlace {
  thread: FairThread<ScrubJob, ScrubFailure>;
  budget: LoopBudget;
}

const PROCESS_PLACE: ScrubPlace = { thread: scrubThread, budget: processBudget };

/** Texts up to this long given twice in one scrub are scrubbed once (an outcome's items mostly share one reason). */
const SHARED_MAX_CHARS = 1024;

/**
 * `texts` scrubbed, in order, each by `scrub`, which must be scrubberFor(owner.destinationId,
 * owner.secrets): the thread builds the same one, so the text is the same either way.
 */
export async function scrubTexts(texts: readonly AnswerText[], scrub: Scrubber, owner: ScrubOwner, place: ScrubPlace = PROCESS_PLACE): Promise<string[]> {
  // A few texts (an answer's body and headers, one request's outcome): scrubbed as they are, with no
  // bookkeeping, the common case on every request.
  if (texts.length <= FEW_TEXTS) return scrubList(texts, scrub, owner, place);
  // Which of the texts to scrub each one's answer is: a short text seen before is the earlier one's.
  const list: AnswerText[] = [];
  const slot: number[] = [];
  const seen = new Map<string, number>();
  for (const t of texts) {
    const key = t.text.length <= SHARED_MAX_CHARS ? `${t.cut ? 1 : 0}${t.text}` : null;
    const earlier = key === null ? undefined : seen.get(key);
    if (earlier !== undefined) {
      slot.push(earlier);
      continue;
    }
    if (key !== null) seen.set(key, list.length);
    slot.push(list.length);
    list.push(t);
  }
  const out = await scrubList(list, scrub, owner, place);
  return slot.map((i) => out[i]!);
}

/** Up to this many texts are scrubbed without looking for repeats. */
const FEW_TEXTS = 16;

/** `list` scrubbed on the thread (large, or its organization over its loop budget) or here. */
async function scrubList(list: readonly AnswerText[], scrub: Scrubber, owner: ScrubOwner, place: ScrubPlace): Promise<string[]> {
  // Nothing to scrub (a delivery with no refused item): no job, not even for an organization over its budget.
  if (list.length === 0) return [];
  let chars = 0;
  for (const t of list) chars += t.text.length;
  if (chars >= OFFLOAD_MIN_SCRUB_CHARS || place.budget.offloads(owner.orgId, chars)) {
    // The secrets copied: the caller may add a token to its list while the job waits (the texts are
    // never changed once listed).
    return (await place.thread.onThread(owner.orgId, { destinationId: owner.destinationId, secrets: [...owner.secrets], texts: list })) as string[];
  }
  return place.budget.charge(owner.orgId, chars, () => list.map((t) => scrub(t.text, t.cut)));
}

/** scrubResult (credentialScrub.ts): a network error's message, or an answer's body and header values, scrubbed by scrubTexts. */
export async function scrubAnswer(result: OutboundResult, scrub: Scrubber, owner: ScrubOwner, place: ScrubPlace = PROCESS_PLACE): Promise<OutboundResult> {
  return withTexts(result, await scrubTexts(answerTexts(result), scrub, owner, place));
}
