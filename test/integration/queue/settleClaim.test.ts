import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { settleClaim } from '../../../src/queue/settleJobs.js';
import type { ClaimedJob, JobOutcome } from '../../../src/queue/types.js';
import { scheduleJobs, type JobDecision } from '../../../src/delivery/outcome.js';
import { destinationStatus } from '../../../src/destinations/status.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, attemptRows, claim, destState, job, jobs, makeDue, ms, newDestination, newOrg, report } from './support.js';

// settleClaim with the retry schedule (outcome.ts schedule(), from the claimed attempt count, ±10 %
// jitter, at least Retry-After, dead letter past the last delay) applied on the database's clock, the
// delivery log and the destination's status, all written by one statement. Times are compared with the statement's own now(), which it also
// writes into delivery_attempts.attempted_at.
describe.each(DB_KINDS)('queue: settleClaim (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  beforeEach(async () => {
    await tdb.reset();
  });
  afterAll(async () => {
    await tdb?.close();
  });

  async function setup(events = 1) {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, events);
    return { org, dest };
  }

  /** Each claimed job's decision through the schedule, as the worker does it. */
  const scheduled = (claimed: ClaimedJob[], delays: number[], decision: (id: number) => JobDecision): JobOutcome[] =>
    scheduleJobs(
      claimed.map((j) => ({ id: j.id, attempts: j.attempts, decision: decision(j.id) })),
      delays,
    );

  /** Claims every due job and settles each with `outcome`, as one request answered `status`. */
  async function round(org: string, dest: string, delays: number[], outcome: (id: number) => JobDecision, status = 503) {
    await makeDue(tdb.db, dest);
    const { claimId, claimed, ids } = await claim(tdb.db, org, dest);
    const outcomes = scheduled(claimed, delays, outcome);
    const ok = outcomes.every((o) => o.outcome === 'done');
    const res = await settleClaim(tdb.db, {
      orgId: org,
      claimId,
      outcomes,
      report: report(org, dest, { n: ids.length, ok, status, error: ok ? null : `HTTP ${status}` }),
    });
    const log = await attemptRows(tdb.db, dest);
    return { res, ids, at: log[log.length - 1]!.attempted_at };
  }

  const retry =
    (extra: Partial<Extract<JobDecision, { outcome: 'retry' }>> = {}) =>
    (_id: number): JobDecision => ({
      outcome: 'retry',
      error: 'HTTP 503',
      statusCode: 503,
      ...extra,
    });

  /** The jittered delay must lie within ±10 % of `delayS` (1 ms for the timestamps' rounding). */
  function expectJittered(offsetMs: number, delayS: number) {
    expect(offsetMs).toBeGreaterThanOrEqual(delayS * 900 - 1);
    expect(offsetMs).toBeLessThanOrEqual(delayS * 1100 + 1);
  }

  it('retries on the schedule, one attempt counted per settle, then dead-letters after the last delay', async () => {
    const { org, dest } = await setup();
    const delays = [10, 20, 40];
    for (const [k, d] of delays.entries()) {
      const { res, ids, at } = await round(org, dest, delays, retry());
      expect(res).toEqual({ done: 0, retried: 1, deadLettered: 0, fenced: 0 });
      const j = await job(tdb.db, ids[0]!);
      expect(j).toMatchObject({ status: 'pending', attempts: k + 1, claim_id: null, settled_at: null, last_error: 'HTTP 503', last_status_code: 503 });
      expectJittered(ms(j.next_attempt_at, at), d);
    }
    const before = (await jobs(tdb.db, dest))[0]!;
    const { res, ids, at } = await round(org, dest, delays, retry());
    expect(res).toEqual({ done: 0, retried: 0, deadLettered: 1, fenced: 0 });
    const j = await job(tdb.db, ids[0]!);
    // Four tries for three delays; the dead letter is stamped by the same statement as the log row.
    // Out of attempts: the error says so, on the job and on the destination (no retry is promised).
    const deadLettered = 'HTTP 503. Dead-lettered after 4 attempts: fix the destination, then replay its failed events.';
    expect(j).toMatchObject({ status: 'failed', attempts: 4, claim_id: null, last_error: deadLettered, last_status_code: 503 });
    expect(j.settled_at).toEqual(at);
    expect(ms(j.next_attempt_at, before.next_attempt_at)).toBeGreaterThan(0); // the claim's lease, not a retry time
    const s = await destState(tdb.db, dest);
    expect(s).toMatchObject({ last_attempt_ok: false, last_error: deadLettered, last_delivery_at: null });
    expect(s.last_attempt_at).toEqual(at);
    expect(s.last_error_at).toEqual(at);
    expect(s.last_dead_letter_at).toEqual(at);
    expect(await attemptRows(tdb.db, dest)).toHaveLength(4);
  });

  it('spreads retries over ±10 % of the delay', async () => {
    const { org, dest } = await setup(200);
    const { res, at } = await round(org, dest, [100], retry());
    expect(res.retried).toBe(200);
    const offsets = (await jobs(tdb.db, dest)).map((j) => ms(j.next_attempt_at, at));
    for (const o of offsets) expectJittered(o, 100);
    // Jittered, not all the same: with 200 draws both halves of the band are hit (else random() is not used).
    expect(Math.min(...offsets)).toBeLessThan(95_000);
    expect(Math.max(...offsets)).toBeGreaterThan(105_000);
  });

  it('waits for Retry-After when it is longer than the scheduled delay, and on schedule when shorter', async () => {
    const { org, dest } = await setup(2);
    const [long, short] = (await jobs(tdb.db, dest)).map((j) => j.id);
    const { res, at } = await round(org, dest, [10, 10], (id) => retry({ retryAfterMs: id === long ? 60_000 : 2_000, statusCode: 429 })(id), 429);
    expect(res).toEqual({ done: 0, retried: 2, deadLettered: 0, fenced: 0 });
    expect(ms((await job(tdb.db, long!)).next_attempt_at, at)).toBeGreaterThanOrEqual(60_000 - 1);
    expect(ms((await job(tdb.db, long!)).next_attempt_at, at)).toBeLessThanOrEqual(60_000 + 1);
    expectJittered(ms((await job(tdb.db, short!)).next_attempt_at, at), 10);
  });

  it('Retry-After does not extend the schedule: past the last delay the job is dead-lettered', async () => {
    const { org, dest } = await setup();
    await round(org, dest, [10], retry({ retryAfterMs: 5_000, statusCode: 429, error: 'HTTP 429' }), 429);
    const { res, ids } = await round(org, dest, [10], retry({ retryAfterMs: 5_000, statusCode: 429, error: 'HTTP 429' }), 429);
    expect(res).toEqual({ done: 0, retried: 0, deadLettered: 1, fenced: 0 });
    expect(await job(tdb.db, ids[0]!)).toMatchObject({ status: 'failed', attempts: 2, last_status_code: 429 });
  });

  it('a permanent failure is dead-lettered at once, whatever remains of the schedule', async () => {
    const { org, dest } = await setup();
    const { res, ids, at } = await round(org, dest, [10, 20, 40], () => ({ outcome: 'failed', error: 'HTTP 400 bad request', statusCode: 400 }), 400);
    expect(res).toEqual({ done: 0, retried: 0, deadLettered: 1, fenced: 0 });
    const j = await job(tdb.db, ids[0]!);
    expect(j).toMatchObject({ status: 'failed', attempts: 1, claim_id: null, last_error: 'HTTP 400 bad request', last_status_code: 400 });
    expect(j.settled_at).toEqual(at);
    expect((await destState(tdb.db, dest)).last_dead_letter_at).toEqual(at);
  });

  it('settles a mixed claim in one statement: delivered, retried and dead-lettered, with exact counts', async () => {
    const { org, dest } = await setup(4);
    const [a, b, c, d] = (await jobs(tdb.db, dest)).map((j) => j.id);
    // A job that failed before: delivering it now clears its status code.
    await tdb.db.query(`UPDATE forwarding_jobs SET attempts = 1, last_status_code = 503, last_error = 'HTTP 503' WHERE id = $1`, [a]);
    await tdb.db.query(`UPDATE destinations SET consecutive_failures = 3, last_error = 'old', last_error_at = now() WHERE id = $1`, [dest]);
    const plan: Record<number, JobDecision['outcome']> = { [a!]: 'done', [b!]: 'done', [c!]: 'retry', [d!]: 'failed' };
    const { res, at } = await round(
      org,
      dest,
      [10],
      (id) => (plan[id] === 'done' ? { outcome: 'done' } : { outcome: plan[id] as 'retry' | 'failed', error: 'item rejected', statusCode: 200 }),
      200,
    );
    expect(res).toEqual({ done: 2, retried: 1, deadLettered: 1, fenced: 0 });
    // Delivered jobs are deleted (nothing reads them; the delivery log keeps what was sent), whatever
    // their earlier attempts; the others stay with what the schedule made of them.
    expect((await jobs(tdb.db, dest)).map((j) => j.id)).toEqual([c, d]);
    expect(await job(tdb.db, c!)).toMatchObject({ status: 'pending', attempts: 1, settled_at: null, last_error: 'item rejected' });
    expect(await job(tdb.db, d!)).toMatchObject({ status: 'failed', attempts: 1, settled_at: at, last_error: 'item rejected' });
  });

  it('writes the delivery log rows and the destination’s last attempt with the settle', async () => {
    const { org, dest } = await setup(3);
    await makeDue(tdb.db, dest);
    const { claimId, claimed } = await claim(tdb.db, org, dest);
    const r = report(org, dest, { n: 3, ok: false, status: 502, error: 'HTTP 502 bad gateway', snippet: 'x'.repeat(600) });
    r.attempts.push({ ...r.attempts[0]!, eventCount: 0, failedCount: 0, statusCode: null, durationMs: 0.4, error: 'timeout', responseSnippet: null });
    r.last = { ok: false, error: 'timeout' };
    await settleClaim(tdb.db, { orgId: org, claimId, outcomes: scheduled(claimed, [10], retry()), report: r });

    const log = await attemptRows(tdb.db, dest);
    expect(log.map(({ attempted_at: _, ...x }) => x)).toEqual([
      {
        event_count: 3,
        delivered_count: 0,
        failed_count: 3,
        status_code: 502,
        duration_ms: 12,
        error: 'HTTP 502 bad gateway',
        response_snippet: 'x'.repeat(512),
      },
      { event_count: 0, delivered_count: 0, failed_count: 0, status_code: null, duration_ms: 0, error: 'timeout', response_snippet: null },
    ]);
    const at = log[0]!.attempted_at;
    expect(log[1]!.attempted_at).toEqual(at);
    const s = await destState(tdb.db, dest);
    expect(s).toMatchObject({ last_attempt_ok: false, last_error: 'timeout', last_delivery_at: null, last_dead_letter_at: null });
    expect(s.last_attempt_at).toEqual(at);
    expect(s.last_error_at).toEqual(at);
  });

  it('a delivery closes the breaker and clears the last error; a claim with no request leaves the destination alone', async () => {
    const { org, dest } = await setup(2);
    await tdb.db.query(
      `UPDATE destinations SET consecutive_failures = 7, paused_until = now() - interval '1 second', last_error = 'HTTP 503', last_error_at = now() WHERE id = $1`,
      [dest],
    );
    const { at } = await round(org, dest, [10], () => ({ outcome: 'done' }), 200);
    const s = await destState(tdb.db, dest);
    expect(s).toMatchObject({ consecutive_failures: 0, paused_until: null, last_attempt_ok: true, last_error: null, last_error_at: null });
    expect(s.last_delivery_at).toEqual(at);

    // No request made (report.last null, no attempts): jobs settle, the destination and the log stay as they were.
    await addEvents(tdb.db, org, 1);
    await tdb.db.query(`UPDATE destinations SET consecutive_failures = 2 WHERE id = $1`, [dest]);
    const before = await destState(tdb.db, dest);
    const { claimId, ids } = await claim(tdb.db, org, dest);
    const res = await settleClaim(tdb.db, {
      orgId: org,
      claimId,
      outcomes: ids.map((id) => ({ id, outcome: 'failed', error: 'refused before sending', statusCode: null })),
      report: { destinationId: dest, attempts: [], last: null, delivered: false },
    });
    expect(res).toEqual({ done: 0, retried: 0, deadLettered: 1, fenced: 0 });
    expect(await destState(tdb.db, dest)).toEqual(before);
    expect(await attemptRows(tdb.db, dest)).toHaveLength(1);
  });

  // A claim whose first request delivered and whose last one failed: the destination is failing (its
  // last attempt failed) and says why; the delivery ended the old streak, the failure starts a new one.
  it('a claim that delivered, then failed last: failing, with the last request’s error and a streak from now', async () => {
    const { org, dest } = await setup(2);
    await tdb.db.query(`UPDATE destinations SET failing_since = now() - interval '1 hour', last_error = 'old', last_error_at = now() WHERE id = $1`, [dest]);
    const { claimId, ids } = await claim(tdb.db, org, dest);
    const err = 'HTTP 503: busy; Aegis will retry.';
    const one = { orgId: org, destinationId: dest, eventCount: 1, durationMs: 1, responseSnippet: null };
    await settleClaim(tdb.db, {
      orgId: org,
      claimId,
      outcomes: [
        { id: ids[0]!, outcome: 'done' },
        { id: ids[1]!, outcome: 'retry', error: err, statusCode: 503, delayMs: 10_000 },
      ],
      report: {
        destinationId: dest,
        attempts: [
          { ...one, deliveredCount: 1, failedCount: 0, statusCode: 200, error: null },
          { ...one, deliveredCount: 0, failedCount: 1, statusCode: 503, error: err },
        ],
        last: { ok: false, error: err },
        delivered: true,
      },
    });
    const s = await destState(tdb.db, dest);
    expect(s).toMatchObject({ last_attempt_ok: false, last_error: err, consecutive_failures: 0, paused_until: null });
    expect(s.last_error_at).toEqual(s.last_attempt_at);
    expect(s.last_delivery_at).toEqual(s.last_attempt_at);
    const { rows } = await tdb.db.query<{ failing_since: Date | null }>(`SELECT failing_since FROM destinations WHERE id = $1`, [dest]);
    expect(rows[0]!.failing_since).toEqual(s.last_attempt_at);
    expect(destinationStatus({ ...s, enabled: true })).toBe('failing');
  });

  it('a destination deleted while its claim was in flight: nothing to settle, nothing logged, no error', async () => {
    const { org, dest } = await setup(2);
    const { claimId, claimed } = await claim(tdb.db, org, dest);
    await tdb.db.query(`DELETE FROM destinations WHERE id = $1`, [dest]);
    const res = await settleClaim(tdb.db, {
      orgId: org,
      claimId,
      outcomes: scheduled(claimed, [10], retry()),
      report: report(org, dest, { n: 2, ok: false, status: 503, error: 'HTTP 503' }),
    });
    expect(res).toEqual({ done: 0, retried: 0, deadLettered: 0, fenced: 2 });
    const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM delivery_attempts`);
    expect(rows[0]!.n).toBe(0);
  });
});
