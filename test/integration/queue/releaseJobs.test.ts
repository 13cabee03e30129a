import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { releaseJobs } from '../../../src/queue/settleJobs.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, claim, dbNow, jobs, ms, newDestination, newOrg } from './support.js';

// releaseJobs: claimed jobs given back unsent (shutdown, breaker opened mid-claim) or rate limited (429),
// no attempt counted.
describe.each(DB_KINDS)('queue: releaseJobs (%s)', (kind) => {
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

  async function setup(events: number) {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, events);
    await tdb.db.query(`UPDATE forwarding_jobs SET attempts = 2 WHERE destination_id = $1`, [dest]);
    return { org, dest };
  }

  it('releases without counting an attempt; the jobs are due again at once and claimable', async () => {
    const { org, dest } = await setup(3);
    const c = await claim(tdb.db, org, dest, { limit: 2, leaseMs: 600_000 });
    const t0 = await dbNow(tdb.db);
    expect(await releaseJobs(tdb.db, { claimId: c.claimId, ids: c.ids })).toBe(2);
    const t1 = await dbNow(tdb.db);
    for (const j of (await jobs(tdb.db, dest)).filter((x) => c.ids.includes(x.id))) {
      expect(j).toMatchObject({ status: 'pending', attempts: 2, claim_id: null, settled_at: null });
      expect(ms(j.next_attempt_at, t0)).toBeGreaterThanOrEqual(0);
      expect(ms(j.next_attempt_at, t1)).toBeLessThanOrEqual(0);
    }
    const again = await claim(tdb.db, org, dest);
    expect(again.ids).toHaveLength(3);
    expect(again.claimed.map((j) => j.attempts)).toEqual([2, 2, 2]);
  });

  it('with `at`, the jobs fall due exactly then and not before', async () => {
    const { org, dest } = await setup(2);
    const c = await claim(tdb.db, org, dest);
    const at = new Date(Date.parse('2100-01-01T00:00:00.000Z'));
    expect(await releaseJobs(tdb.db, { claimId: c.claimId, ids: c.ids, at })).toBe(2);
    expect((await jobs(tdb.db, dest)).map((j) => [j.claim_id, new Date(j.next_attempt_at).toISOString(), j.attempts])).toEqual([
      [null, '2100-01-01T00:00:00.000Z', 2],
      [null, '2100-01-01T00:00:00.000Z', 2],
    ]);
    expect((await claim(tdb.db, org, dest)).ids).toEqual([]);
  });

  it('with `afterMs` (a SIEM rate limit), the jobs fall due that long after the database clock, no attempt counted', async () => {
    const { org, dest } = await setup(2);
    const c = await claim(tdb.db, org, dest);
    const t0 = await dbNow(tdb.db);
    expect(await releaseJobs(tdb.db, { claimId: c.claimId, ids: c.ids, afterMs: 90_000 })).toBe(2);
    const t1 = await dbNow(tdb.db);
    for (const j of await jobs(tdb.db, dest)) {
      expect(j).toMatchObject({ status: 'pending', attempts: 2, claim_id: null });
      expect(ms(j.next_attempt_at, t0)).toBeGreaterThanOrEqual(90_000);
      expect(ms(j.next_attempt_at, t1)).toBeLessThanOrEqual(90_000);
    }
    expect((await claim(tdb.db, org, dest)).ids).toEqual([]);
  });

  it('releases only the given ids of the claim; settled jobs and an empty list are left alone', async () => {
    const { org, dest } = await setup(3);
    const c = await claim(tdb.db, org, dest);
    const [a, b, settled] = c.ids;
    // Settled as a settle does it: the claim id goes with the status (forwarding_jobs_claimed_pending).
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'done', claim_id = NULL, settled_at = now() WHERE id = $1`, [settled]);
    expect(await releaseJobs(tdb.db, { claimId: c.claimId, ids: [] })).toBe(0);
    expect(await releaseJobs(tdb.db, { claimId: c.claimId, ids: [a!, settled!] })).toBe(1);
    const rows = await jobs(tdb.db, dest);
    expect(rows.map((j) => [j.id, j.status, j.claim_id])).toEqual([
      [a, 'pending', null],
      [b, 'pending', c.claimId],
      [settled, 'done', null],
    ]);
  });
});
