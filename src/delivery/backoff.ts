// When to try a failed job again: the configured delay for this attempt with ±10 % jitter
// (so a burst of failures does not retry in lockstep), never sooner than the SIEM's Retry-After.

export const JITTER_FRACTION = 0.1;

export interface NextAttemptInput {
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  /** Delays between attempts in seconds (AEGIS_RETRY_DELAYS_S), e.g. [60, 120, 240]. */
  delaysS: readonly number[];
  /** Retry-After from the SIEM, already clamped by parseRetryAfter. */
  retryAfterMs?: number;
  /** Source of randomness in [0, 1); Math.random by default. */
  random?: () => number;
}

/** Milliseconds until the next attempt, or null when the attempts are exhausted (dead letter). */
export function nextAttemptDelayMs({ attempt, delaysS, retryAfterMs, random = Math.random }: NextAttemptInput): number | null {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > delaysS.length) return null;
  const baseS = delaysS[attempt - 1];
  if (baseS === undefined || !Number.isFinite(baseS) || baseS < 0) return null;
  const r = Math.min(1, Math.max(0, random()));
  const factor = 1 + (r * 2 - 1) * JITTER_FRACTION;
  let delay = Math.round(baseS * 1000 * factor);
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > delay) {
    delay = Math.round(retryAfterMs);
  }
  return Math.max(0, delay);
}
