import { describe, expect, it } from 'vitest';
import { nextAttemptDelayMs } from './backoff.js';

const delaysS = [60, 120, 240];
const mid = () => 0.5;

describe('nextAttemptDelayMs', () => {
  it('uses the configured delay for each failed attempt', () => {
    expect(nextAttemptDelayMs({ attempt: 1, delaysS, random: mid })).toBe(60_000);
    expect(nextAttemptDelayMs({ attempt: 2, delaysS, random: mid })).toBe(120_000);
    expect(nextAttemptDelayMs({ attempt: 3, delaysS, random: mid })).toBe(240_000);
  });

  it('returns null once the attempts are exhausted (four attempts with three delays)', () => {
    expect(nextAttemptDelayMs({ attempt: 4, delaysS, random: mid })).toBeNull();
    expect(nextAttemptDelayMs({ attempt: 1, delaysS: [], random: mid })).toBeNull();
  });

  it('refuses nonsense attempt numbers', () => {
    expect(nextAttemptDelayMs({ attempt: 0, delaysS })).toBeNull();
    expect(nextAttemptDelayMs({ attempt: -1, delaysS })).toBeNull();
    expect(nextAttemptDelayMs({ attempt: 1.5, delaysS })).toBeNull();
  });

  it('adds at most ±10 % jitter', () => {
    expect(nextAttemptDelayMs({ attempt: 1, delaysS, random: () => 0 })).toBe(54_000);
    expect(nextAttemptDelayMs({ attempt: 1, delaysS, random: () => 0.999999 })).toBeCloseTo(66_000, -1);
    for (let i = 0; i < 1000; i++) {
      const d = nextAttemptDelayMs({ attempt: 2, delaysS })!;
      expect(d).toBeGreaterThanOrEqual(108_000);
      expect(d).toBeLessThanOrEqual(132_000);
    }
  });

  it('is never sooner than Retry-After', () => {
    expect(nextAttemptDelayMs({ attempt: 1, delaysS, retryAfterMs: 600_000, random: mid })).toBe(600_000);
    expect(nextAttemptDelayMs({ attempt: 1, delaysS, retryAfterMs: 1_000, random: mid })).toBe(60_000);
    // Retry-After does not resurrect an exhausted job.
    expect(nextAttemptDelayMs({ attempt: 4, delaysS, retryAfterMs: 1_000 })).toBeNull();
  });

  it('works with sub-second test delays', () => {
    expect(nextAttemptDelayMs({ attempt: 1, delaysS: [0.1, 0.2], random: mid })).toBe(100);
    expect(nextAttemptDelayMs({ attempt: 1, delaysS: [0], random: mid })).toBe(0);
  });
});
