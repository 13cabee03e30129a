import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimFarewellJobs, claimJobs } from '../../../src/queue/claimJobs.js';
import { ROW_VERSION, scanQueue } from '../../../src/queue/dueDestinations.js';
import { queueFarewell } from '../../../src/queue/farewell.js';
import { clearDeletedDestinationJobs, purgeDeletedDestination, purgeDeletedDestinations, tombstoneDestination } from '../../../src/destinations/deletion.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, newDestination, newOrg } from './support.js';

// A disabled or deleted destination's farewell (docs/trail.md): the one job claimed for it, after
// whatever is in flight to it; and the deleted row kept until the farewell is settled.
describe.each(DB_KINDS)('queue: farewells (%s)', (kind) => {
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

  const claimArgs = (orgId: string, destinationId: string) => ({ orgId, destinationId, limit: 10, leaseMs: 60_000, claimId: randomUUID() });

  /** An organization with one enabled destination holding `held` pending jobs, then disabled with a farewell. */
  async function disabledWithFarewell(held = 2) {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const [notice, ...rest] = await addEvents(tdb.db, org, held + 1);
    await tdb.db.query(`DELETE FROM forwarding_jobs WHERE event_id = $1`, [notice]);
    await tdb.db.query(`UPDATE destinations SET enabled = false WHERE id = $1`, [dest]);
    await queueFarewell(tdb.db, { orgId: org, destinationId: dest, eventId: notice! });
    return { org, dest, notice: notice!, held: rest };
  }

  it('a disabled destination is due for its farewell only, and only the farewell is claimed', async () => {
    const { org, dest, notice } = await disabledWithFarewell();
    const scanned = await scanQueue(tdb.db);
    expect(scanned.due.map((d) => d.id)).toEqual([dest]);
    // Due now: nothing later for the timer.
    expect(scanned.nextAt).toBeNull();
    expect(await claimJobs(tdb.db, claimArgs(org, dest))).toEqual([]);
    const claimed = await claimFarewellJobs(tdb.db, claimArgs(org, dest));
    expect(claimed.map((j) => j.eventId)).toEqual([notice]);
    // Claimed (leased): nothing left due; the lease's end is the next time.
    const after = await scanQueue(tdb.db);
    expect(after.due).toEqual([]);
    expect(after.nextAt?.getTime()).toBeGreaterThan(Date.now());
  });

  it('claims say which jobs are farewells: a re-enabled destination claims its pending one with its events', async () => {
    const { org, dest, notice, held } = await disabledWithFarewell();
    const farewell = await claimFarewellJobs(tdb.db, claimArgs(org, dest));
    expect(farewell.map((j) => [j.eventId, j.farewell])).toEqual([[notice, true]]);
    await tdb.db.query(`UPDATE forwarding_jobs SET claim_id = NULL, next_attempt_at = now() - interval '1 second' WHERE event_id = $1`, [notice]);
    await tdb.db.query(`UPDATE destinations SET enabled = true WHERE id = $1`, [dest]);
    const claimed = await claimJobs(tdb.db, claimArgs(org, dest));
    const flags = new Map(claimed.map((j) => [j.eventId, j.farewell]));
    expect(flags).toEqual(new Map([[notice, true], ...held.map((e) => [e, false] as const)]));
  });

  it('waits while a request to the destination is in flight, and not past its lease', async () => {
    const { org, dest, held } = await disabledWithFarewell();
    // A job claimed before the disable, still under its lease: a request in flight.
    await tdb.db.query(`UPDATE forwarding_jobs SET claim_id = $2::uuid, next_attempt_at = now() + interval '1 minute' WHERE event_id = $1`, [
      held[0],
      randomUUID(),
    ]);
    const scanned = await scanQueue(tdb.db);
    expect(scanned.due).toEqual([]);
    expect(await claimFarewellJobs(tdb.db, claimArgs(org, dest))).toEqual([]);
    expect(scanned.nextAt?.getTime()).toBeGreaterThan(Date.now() + 30_000);
    // The lease ran out (its worker died): the farewell goes.
    await tdb.db.query(`UPDATE forwarding_jobs SET next_attempt_at = now() - interval '1 second' WHERE event_id = $1`, [held[0]]);
    expect((await claimFarewellJobs(tdb.db, claimArgs(org, dest))).length).toBe(1);
  });

  it('honours the circuit breaker', async () => {
    const { org, dest } = await disabledWithFarewell(0);
    await tdb.db.query(`UPDATE destinations SET paused_until = now() + interval '1 minute' WHERE id = $1`, [dest]);
    expect((await scanQueue(tdb.db)).due).toEqual([]);
    expect(await claimFarewellJobs(tdb.db, claimArgs(org, dest))).toEqual([]);
  });

  it('a tombstoned destination keeps its farewell and jobs in flight, clears the rest, and is purged once the farewell settles', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const [notice, inFlight, pending] = await addEvents(tdb.db, org, 3);
    await tdb.db.query(`DELETE FROM forwarding_jobs WHERE event_id = $1`, [notice]);
    await tdb.db.query(`UPDATE forwarding_jobs SET claim_id = $2::uuid, next_attempt_at = now() + interval '1 minute' WHERE event_id = $1`, [
      inFlight,
      randomUUID(),
    ]);
    // Both are dropped (the one in flight is not retried after this); the clear deletes the other.
    expect(await tombstoneDestination(tdb.db, org, dest)).toBe(2);
    expect(await clearDeletedDestinationJobs(tdb.db, org, dest)).toBe(1);
    await queueFarewell(tdb.db, { orgId: org, destinationId: dest, eventId: notice! });
    const left = await tdb.db.query<{ event_id: string }>(`SELECT event_id FROM forwarding_jobs WHERE destination_id = $1 ORDER BY id`, [dest]);
    expect(left.rows.map((r) => r.event_id).sort()).toEqual([inFlight, notice].sort());
    expect(left.rows.map((r) => r.event_id)).not.toContain(pending);
    expect(await purgeDeletedDestination(tdb.db, org, dest)).toBe(false);
    expect(await purgeDeletedDestinations(tdb.db)).toBe(0);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'done', settled_at = now() WHERE event_id = $1`, [notice]);
    expect(await purgeDeletedDestination(tdb.db, org, dest)).toBe(true);
    expect((await tdb.db.query(`SELECT 1 FROM forwarding_jobs WHERE destination_id = $1`, [dest])).rowCount).toBe(0);
  });

  it('the hourly sweep gives up on a farewell after a day', async () => {
    const { org, dest } = await disabledWithFarewell(0);
    await tombstoneDestination(tdb.db, org, dest);
    await tdb.db.query(`UPDATE destinations SET deleted_at = now() - interval '25 hours' WHERE id = $1`, [dest]);
    expect(await purgeDeletedDestinations(tdb.db)).toBe(1);
  });

  // The version is the row's updated_at to the microsecond (ROW_VERSION): every write moves it by at
  // least that much (BUMP_ROW_VERSION), so two PATCHes in one millisecond are two versions. Compared
  // to the millisecond, a runner holding the first one's row went on claiming after the second (a
  // credential rotated twice in quick succession, sent with the first).
  it('claimJobs under a configuration version: a destination changed since, even by a microsecond, yields nothing', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 2);
    const version = async () => (await tdb.db.query<{ v: string }>(`SELECT ${ROW_VERSION} AS v FROM destinations d WHERE id = $1`, [dest])).rows[0]!.v;
    const read = await version();
    await tdb.db.query(`UPDATE destinations SET updated_at = updated_at + interval '5 milliseconds' WHERE id = $1`, [dest]);
    expect(await claimJobs(tdb.db, { ...claimArgs(org, dest), configVersion: read })).toEqual([]);
    const next = await version();
    // What BUMP_ROW_VERSION gives a second write in the first one's millisecond.
    await tdb.db.query(`UPDATE destinations SET updated_at = updated_at + interval '1 microsecond' WHERE id = $1`, [dest]);
    expect(await claimJobs(tdb.db, { ...claimArgs(org, dest), configVersion: next })).toEqual([]);
    expect((await claimJobs(tdb.db, { ...claimArgs(org, dest), configVersion: await version() })).length).toBe(2);
  });
});
