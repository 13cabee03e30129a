import { describe, expect, it } from 'vitest';
import { compactAttempts, type AttemptRecord } from './attempts.js';

const req = (over: Partial<AttemptRecord>): AttemptRecord => ({
  orgId: 'org_a',
  destinationId: 'fwd_a',
  eventCount: 1,
  deliveredCount: 1,
  failedCount: 0,
  statusCode: 200,
  durationMs: 5,
  error: null,
  responseSnippet: null,
  ...over,
});

describe('compactAttempts', () => {
  it('logs the requests that delivered everything together, per status, and every failure alone', () => {
    const rows = compactAttempts([
      req({ durationMs: 4, responseSnippet: 'ok' }),
      req({ statusCode: 503, deliveredCount: 0, failedCount: 1, error: 'HTTP 503', durationMs: 30 }),
      req({ durationMs: 9, responseSnippet: 'later' }),
      req({ statusCode: 202, durationMs: 2 }),
      req({ statusCode: 503, deliveredCount: 0, failedCount: 1, error: 'HTTP 503', durationMs: 31 }),
      req({ eventCount: 3, deliveredCount: 2, failedCount: 1, error: 'item refused' }),
      req({ durationMs: 1 }),
    ]);
    expect(rows).toEqual([
      req({ eventCount: 3, deliveredCount: 3, durationMs: 9, responseSnippet: 'ok' }),
      req({ statusCode: 503, deliveredCount: 0, failedCount: 1, error: 'HTTP 503', durationMs: 30 }),
      req({ statusCode: 202, durationMs: 2 }),
      req({ statusCode: 503, deliveredCount: 0, failedCount: 1, error: 'HTTP 503', durationMs: 31 }),
      req({ eventCount: 3, deliveredCount: 2, failedCount: 1, error: 'item refused' }),
    ]);
  });

  it('leaves the records it was given unchanged', () => {
    const first = req({});
    compactAttempts([first, req({})]);
    expect(first.eventCount).toBe(1);
  });
});
