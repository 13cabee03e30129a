import { describe, expect, it } from 'vitest';
import { settleClaimQuery, type SettleArgs } from './settleJobs.js';
import type { JobOutcome } from './types.js';

/**
 * The destination's last_error the settle statement writes: the error of the first job it names ($21)
 * that the settle did dead-letter, else the last request's error ($18).
 */
const lastErrorParams = (args: SettleArgs) => {
  const v = settleClaimQuery(args).values;
  return { deadLetters: v[20], last: v[17] };
};

const args = (outcomes: JobOutcome[], last: { ok: boolean; error: string | null } | null): SettleArgs => ({
  orgId: 'org_a',
  claimId: '00000000-0000-4000-8000-000000000000',
  outcomes,
  report: { destinationId: 'fwd_a', attempts: [], last, delivered: false },
});

describe("the destination's last_error after a settle", () => {
  const failing = { ok: false, error: 'HTTP 503: The SIEM had a server error; Aegis will retry.' };
  const outOfRetries: JobOutcome = {
    id: 1,
    outcome: 'failed',
    error: 'HTTP 503: The SIEM had a server error. Dead-lettered after 4 attempts: fix the destination, then replay its failed events.',
    statusCode: 503,
    outOfRetries: true,
  };
  const retried: JobOutcome = { id: 2, outcome: 'retry', error: failing.error, statusCode: 503, delayMs: 60_000 };

  it('names the job that ran out of attempts (its error, if the settle dead-letters it) when its last request failed', () => {
    expect(lastErrorParams(args([outOfRetries, retried], failing))).toEqual({ deadLetters: [1], last: failing.error });
  });

  it("keeps the last request's error beside an event refused for good (not the destination's trouble)", () => {
    const refused: JobOutcome = { id: 3, outcome: 'failed', error: 'Elasticsearch refused the event: mapper_parsing_exception', statusCode: 400 };
    expect(lastErrorParams(args([refused, retried], failing))).toEqual({ deadLetters: [], last: failing.error });
  });

  it('is left to the rules of a successful request when the last request succeeded', () => {
    expect(lastErrorParams(args([outOfRetries], { ok: true, error: null }))).toEqual({ deadLetters: [], last: null });
    expect(lastErrorParams(args([outOfRetries], null))).toEqual({ deadLetters: [], last: null });
  });
});
