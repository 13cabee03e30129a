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
import { DEFAULT_MAX_ANSWER_BYTES } from '../siem/types.js';
import { FairThread, siblingModuleUrl } from '../threads/fairThread.js';
import { answerTexts, withTexts, type AnswerText } from './outbound/credentialScrub.js';
import type { OutboundResult } from './outbound/types.js';
import { replyError, runScrubJob, type ScrubFailure, type ScrubJob } from './scrubJobs.js';
import { LoopBudget } from '../threads/loopBudget.js';
import type { Scrubber } from './scrubSecrets.js';

/**
 * Scrubs of this many characters or more (UTF-16 code units, all texts of one scrub) go to the thread:
 * what a preset reads of an answer unless it says more, so in practice an Elastic answer or its
 * refused items' reasons. Tens of ms on the loop below it for the slowest texts (a cut one, many secrets).
 */
export const OFFLOAD_MIN_SCRUB_CHARS = DEFAULT_MAX_ANSWER_BYTES;

/** The process's scrub thread (started on the first large scrub). */
export const scrubThread = new FairThread<ScrubJob, ScrubFailure>({
  name: 'the scrub thread for large answers',
  moduleUrl: siblingModuleUrl(import.meta.url, 'scrubJobs'),
  runHere: runScrubJob,
  replyError,
});

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
    return (await place.thread.onThread(owner.orgId, {
      orgId: owner.orgId,
      destinationId: owner.destinationId,
      secrets: [...owner.secrets],
      texts: list,
    })) as string[];
  }
  return place.budget.charge(owner.orgId, chars, () => list.map((t) => scrub(t.text, t.cut)));
}

/** scrubResult (credentialScrub.ts): a network error's message, or an answer's body and header values, scrubbed by scrubTexts. */
export async function scrubAnswer(result: OutboundResult, scrub: Scrubber, owner: ScrubOwner, place: ScrubPlace = PROCESS_PLACE): Promise<OutboundResult> {
  return withTexts(result, await scrubTexts(answerTexts(result), scrub, owner, place));
}
