// The work the scrub thread does (scrubThread.ts, run by threads/fairThread.ts), as one function of a
// plain message: the same scrubber the event loop uses for a destination's secrets (scrubberCache.ts),
// so both give the same text.
import type { ThreadReply } from '../threads/fairThread.js';
import { scrubberFor } from './scrubberCache.js';
import type { AnswerText } from './outbound/credentialScrub.js';

export interface ScrubJob {
  /** The destination's organization: its share of the thread's scrubber cache (scrubberCache.ts). */
  orgId: string;
  destinationId: string;
  /** The destination's secrets (credentials, signing secrets, access tokens), as the delivery holds them. */
  secrets: Array<string | null>;
  /** The texts to scrub, each whole, or the start of a longer one (`cut`: a body cut at its cap, whose end may be the start of a secret). */
  texts: readonly AnswerText[];
}

export interface ScrubFailure {
  message: string;
}

/** Each text scrubbed, in order. */
export function runScrubJob(job: ScrubJob): string[] {
  const scrub = scrubberFor(job.destinationId, job.secrets, job.orgId);
  return job.texts.map((t) => scrub(t.text, t.cut));
}

/** runScrubJob's outcome as a message that crosses a thread. */
export function replyTo(job: ScrubJob): ThreadReply<ScrubFailure> {
  try {
    return { ok: true, result: runScrubJob(job) };
  } catch (err) {
    return { ok: false, message: String((err as Error)?.message) };
  }
}

/** The error a failed reply stands for (a bug of ours: scrubbing does not throw). */
export function replyError(reply: { ok: false } & ScrubFailure): Error {
  return new Error(`scrubbing an answer failed: ${reply.message}`);
}

/** Builds (and so compiles) one scrubber when the thread starts, not inside the first organization's job. */
export function warm(): void {
  runScrubJob({ orgId: '', destinationId: 'warm', secrets: ['warm-secret-0123456789'], texts: [{ text: 'warm', cut: false }] });
}
