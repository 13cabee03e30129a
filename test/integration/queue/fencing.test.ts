import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { extendLease } from '../../../src/queue/claimJobs.js';
import { releaseJobs, settleClaim } from '../../../src/queue/settleJobs.js';
import type { JobOutcome } from '../../../src/queue/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, attemptRows, claim, jobs, newDestination, newOrg, report } from './support.js';

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
