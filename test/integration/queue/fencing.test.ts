import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { extendLease } from '../../../src/queue/claimJobs.js';
import { noteRequestFailure, noteRequestSuccess } from '../../../src/queue/deliveryState.js';
import { releaseJobs, settleClaim } from '../../../src/queue/settleJobs.js';
import type { JobOutcome } from '../../../src/queue/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, attemptRows, claim, destState, jobs, newDestination, newOrg, report } from './support.js';

// Claim fencing: once a lease ran out and another worker claimed the jobs, the first worker's claim id
// is stale, and nothing it does with it may change those jobs.
describe.each(DB_KINDS)('queue: claim fencing (%s)', (kind) => {
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

  /** Worker A claims with a lease that is already over; worker B claims the same jobs again. */
  async function stolen(events = 3) {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, events);
    const a = await claim(tdb.db, org, dest, { leaseMs: 0 });
    const b = await claim(tdb.db, org, dest, { leaseMs: 60_000 });
    expect(b.ids).toEqual(a.ids);
    return { org, dest, a, b, held: await jobs(tdb.db, dest) };
  }

  const outcomesOf = (ids: number[]): JobOutcome[] =>
    ids.map((id, n) =>
      n === 0
        ? { id, outcome: 'done' }
        : n === 1
          ? { id, outcome: 'retry', error: 'HTTP 503', statusCode: 503, delayMs: 10_000 }
          : { id, outcome: 'failed', error: 'HTTP 400', statusCode: 400 },
    );

  it('a settle with a stale claim id changes none of the jobs and counts them all as fenced', async () => {
    const { org, dest, a, b, held } = await stolen();
    expect(held.map((j) => j.claim_id)).toEqual([b.claimId, b.claimId, b.claimId]);
    const res = await settleClaim(tdb.db, {
      orgId: org,
      claimId: a.claimId,
      outcomes: outcomesOf(a.ids),
      report: report(org, dest, { n: 3, ok: false, status: 503, error: 'HTTP 503' }),
    });
    expect(res).toEqual({ done: 0, retried: 0, deadLettered: 0, fenced: 3 });
    expect(await jobs(tdb.db, dest)).toEqual(held);
    // The request A made did happen: it stays in the delivery log.
    expect(await attemptRows(tdb.db, dest)).toHaveLength(1);

    // The current holder still settles normally.
    const mine = await settleClaim(tdb.db, {
      orgId: org,
      claimId: b.claimId,
      outcomes: outcomesOf(b.ids),
      report: report(org, dest, { n: 3, ok: false, status: 503, error: 'HTTP 503' }),
    });
    expect(mine).toEqual({ done: 1, retried: 1, deadLettered: 1, fenced: 0 });
  });

  const failingSince = async (dest: string) =>
    (await tdb.db.query<{ failing_since: Date | null }>(`SELECT failing_since FROM destinations WHERE id = $1`, [dest])).rows[0]!.failing_since;

  // A worker whose lease ran out answers late, after the new holder delivered the events: its request
  // stays in the delivery log, but it says nothing about the destination (status, error, failing
  // streak, breaker): those events were delivered, nothing was dead-lettered.
  it('a stale claim’s late failure leaves the destination’s state and its breaker as the holder left them', async () => {
    const { org, dest, a, b } = await stolen();
    // The holder's own requests do count on the breaker, fenced by its claim.
    await noteRequestFailure(tdb.db, org, dest, { claimId: b.claimId, ids: b.ids });
    expect((await destState(tdb.db, dest)).consecutive_failures).toBe(1);
    await noteRequestSuccess(tdb.db, org, dest, { claimId: b.claimId, ids: b.ids });
    expect((await destState(tdb.db, dest)).consecutive_failures).toBe(0);
    await settleClaim(tdb.db, {
      orgId: org,
      claimId: b.claimId,
      outcomes: b.ids.map((id) => ({ id, outcome: 'done' })),
      report: report(org, dest, { n: 3, ok: true, status: 200, error: null }),
    });
    const delivered = await destState(tdb.db, dest);
    expect(delivered).toMatchObject({ last_attempt_ok: true, last_error: null, consecutive_failures: 0 });

    // A's request failed, the jobs' last attempt: the breaker first (as deliverClaim does), then the settle.
    expect(await noteRequestFailure(tdb.db, org, dest, { claimId: a.claimId, ids: a.ids })).toBeNull();
    const deadLetter = 'HTTP 503: busy. Dead-lettered after 4 attempts: fix the destination, then replay its failed events.';
    const res = await settleClaim(tdb.db, {
      orgId: org,
      claimId: a.claimId,
      outcomes: a.ids.map((id) => ({ id, outcome: 'failed', error: deadLetter, statusCode: 503, outOfRetries: true })),
      report: report(org, dest, { n: 3, ok: false, status: 503, error: 'HTTP 503: busy' }),
    });
    expect(res).toEqual({ done: 0, retried: 0, deadLettered: 0, fenced: 3 });
    expect(await destState(tdb.db, dest)).toEqual(delivered);
    expect(await failingSince(dest)).toBeNull();
    expect(await attemptRows(tdb.db, dest)).toHaveLength(2);

    // Nor does a stale success close a breaker the destination's own failures opened.
    await tdb.db.query(`UPDATE destinations SET consecutive_failures = 3 WHERE id = $1`, [dest]);
    await noteRequestSuccess(tdb.db, org, dest, { claimId: a.claimId, ids: a.ids });
    expect((await destState(tdb.db, dest)).consecutive_failures).toBe(3);
  });

  it('the dead-letter text speaks for the destination only when this settle dead-lettered the job', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 2);
    const a = await claim(tdb.db, org, dest, { leaseMs: 0 });
    const b = await claim(tdb.db, org, dest, { leaseMs: 60_000, limit: 1 });
    expect(b.ids).toEqual([a.ids[0]]);
    const res = await settleClaim(tdb.db, {
      orgId: org,
      claimId: a.claimId,
      outcomes: [
        { id: a.ids[0]!, outcome: 'failed', error: 'HTTP 503. Dead-lettered after 4 attempts', statusCode: 503, outOfRetries: true },
        { id: a.ids[1]!, outcome: 'retry', error: 'HTTP 503', statusCode: 503, delayMs: 10_000 },
      ],
      report: report(org, dest, { n: 2, ok: false, status: 503, error: 'HTTP 503' }),
    });
    expect(res).toEqual({ done: 0, retried: 1, deadLettered: 0, fenced: 1 });
    expect(await destState(tdb.db, dest)).toMatchObject({ last_attempt_ok: false, last_error: 'HTTP 503', last_dead_letter_at: null });
  });

  // The settle committed but its answer was lost (the connection dropped after COMMIT): the worker
  // sends it again (whileDatabaseAway), marked as a retry. Every job is then fenced, and the requests
  // it reports are already in the delivery log: logged again they would count the events twice.
  it('a settle sent again after a lost answer logs its requests once and leaves the destination as the first try wrote it', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 2);
    const c = await claim(tdb.db, org, dest);
    const args = (retry: boolean) => ({
      orgId: org,
      claimId: c.claimId,
      outcomes: c.ids.map((id): JobOutcome => ({ id, outcome: 'failed', error: 'HTTP 400', statusCode: 400 })),
      report: report(org, dest, { n: 2, ok: false, status: 400, error: 'HTTP 400' }),
      retry,
    });
    expect(await settleClaim(tdb.db, args(false))).toEqual({ done: 0, retried: 0, deadLettered: 2, fenced: 0 });
    const first = { log: await attemptRows(tdb.db, dest), dest: await destState(tdb.db, dest), jobs: await jobs(tdb.db, dest) };
    expect(first.log).toHaveLength(1);
    expect(await settleClaim(tdb.db, args(true))).toEqual({ done: 0, retried: 0, deadLettered: 0, fenced: 2 });
    expect({ log: await attemptRows(tdb.db, dest), dest: await destState(tdb.db, dest), jobs: await jobs(tdb.db, dest) }).toEqual(first);

    // A retry whose first try did not commit settles (and logs) as the first try would have.
    await addEvents(tdb.db, org, 1);
    const d = await claim(tdb.db, org, dest);
    const res = await settleClaim(tdb.db, {
      orgId: org,
      claimId: d.claimId,
      outcomes: d.ids.map((id) => ({ id, outcome: 'done' })),
      report: report(org, dest, { n: 1, ok: true, status: 200, error: null }),
      retry: true,
    });
    expect(res).toEqual({ done: 1, retried: 0, deadLettered: 0, fenced: 0 });
    expect(await attemptRows(tdb.db, dest)).toHaveLength(2);
    expect(await destState(tdb.db, dest)).toMatchObject({ last_attempt_ok: true, last_error: null });
  });

  it('extendLease and releaseJobs with a stale claim id touch nothing', async () => {
    const { dest, a, held } = await stolen();
    expect(await extendLease(tdb.db, { claimId: a.claimId, ids: a.ids, leaseMs: 600_000 })).toBe(0);
    expect(await releaseJobs(tdb.db, { claimId: a.claimId, ids: a.ids })).toBe(0);
    expect(await releaseJobs(tdb.db, { claimId: randomUUID(), ids: a.ids, at: new Date(0) })).toBe(0);
    expect(await jobs(tdb.db, dest)).toEqual(held);
  });

  it('a claim settles once: settling it again, or after releasing it, changes nothing', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 4);
    const c = await claim(tdb.db, org, dest, { limit: 2 });
    const settle = (ids: number[]) =>
      settleClaim(tdb.db, {
        orgId: org,
        claimId: c.claimId,
        outcomes: ids.map((id) => ({ id, outcome: 'retry', error: 'HTTP 503', statusCode: 503, delayMs: 10_000 })),
        report: report(org, dest, { n: ids.length, ok: false, status: 503, error: 'HTTP 503' }),
      });
    expect(await settle(c.ids)).toEqual({ done: 0, retried: 2, deadLettered: 0, fenced: 0 });
    const after = await jobs(tdb.db, dest);
    expect(await settle(c.ids)).toEqual({ done: 0, retried: 0, deadLettered: 0, fenced: 2 });
    expect(await jobs(tdb.db, dest)).toEqual(after);
    expect(after.slice(0, 2).map((j) => j.attempts)).toEqual([1, 1]);

    const d = await claim(tdb.db, org, dest);
    expect(await releaseJobs(tdb.db, { claimId: d.claimId, ids: d.ids })).toBe(2);
    const released = await jobs(tdb.db, dest);
    const late = await settleClaim(tdb.db, {
      orgId: org,
      claimId: d.claimId,
      outcomes: d.ids.map((id) => ({ id, outcome: 'done' })),
      report: report(org, dest, { n: 2, ok: true, status: 200, error: null }),
    });
    expect(late).toEqual({ done: 0, retried: 0, deadLettered: 0, fenced: 2 });
    expect(await jobs(tdb.db, dest)).toEqual(released);
  });

  // The claim is right; the organization or the destination the settle names is not its own.
  it.each([
    ['another organization', 'org'],
    ['another destination of the organization', 'destination'],
  ] as const)('a claim id never settles its jobs for %s', async (_, wrong) => {
    const { org, dest, b, held } = await stolen(2);
    const res = await settleClaim(tdb.db, {
      orgId: wrong === 'org' ? await newOrg(tdb.db) : org,
      claimId: b.claimId,
      outcomes: b.ids.map((id) => ({ id, outcome: 'done' })),
      report: { destinationId: wrong === 'destination' ? await newDestination(tdb.db, org) : dest, attempts: [], last: null, delivered: false },
    });
    expect(res.fenced).toBe(2);
    expect(await jobs(tdb.db, dest)).toEqual(held);
  });
});
