import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { scanQueue } from '../../../src/queue/dueDestinations.js';
import { getDestinationRow } from '../../../src/destinations/reads.js';
import { tombstoneDestination } from '../../../src/destinations/deletion.js';
import { updateDestination } from '../../../src/destinations/writes.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, newDestination, newOrg } from './support.js';

// What the worker's scan sees: destinations with due work now, and when the next job falls due.
describe.each(DB_KINDS)('queue: a scan, its due destinations and its next time (%s)', (kind) => {
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

  const setDue = (dest: string, at: string) =>
    tdb.db.query(`UPDATE forwarding_jobs SET next_attempt_at = $2::timestamptz WHERE destination_id = $1`, [dest, at]);
  const setDest = (dest: string, sql: string) => tdb.db.query(`UPDATE destinations SET ${sql} WHERE id = $1`, [dest]);
  const due = async (opts?: Parameters<typeof scanQueue>[1]) => (await scanQueue(tdb.db, opts)).due;
  const ids = async () => (await due()).map((d) => d.id).sort();
  const nextAt = async (exclude?: string[]) => (await scanQueue(tdb.db, { exclude })).nextAt?.toISOString() ?? null;

  it('lists enabled, unpaused destinations with a due pending job, and nothing else', async () => {
    const org = await newOrg(tdb.db);
    const other = await newOrg(tdb.db);
    const dueNow = await newDestination(tdb.db, org);
    const dueElsewhere = await newDestination(tdb.db, other);
    const notYet = await newDestination(tdb.db, org);
    const disabled = await newDestination(tdb.db, org);
    const paused = await newDestination(tdb.db, org);
    const pauseOver = await newDestination(tdb.db, org);
    const settled = await newDestination(tdb.db, org);
    const idle = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 2);
    await addEvents(tdb.db, other, 1);
    await tdb.db.query(`DELETE FROM forwarding_jobs WHERE destination_id = $1`, [idle]);
    await setDue(notYet, '2100-01-01T00:00:00Z');
    await setDest(disabled, 'enabled = false');
    await setDest(paused, `paused_until = now() + interval '1 minute'`);
    await setDest(pauseOver, `paused_until = now() - interval '1 second', consecutive_failures = 6`);
    await tdb.db.query(
      `UPDATE forwarding_jobs SET status = (CASE WHEN id % 2 = 0 THEN 'done' ELSE 'failed' END), settled_at = now() WHERE destination_id = $1`,
      [settled],
    );

    expect(await ids()).toEqual([dueNow, dueElsewhere, pauseOver].sort());
    const listed = await due();
    expect(listed.find((d) => d.id === pauseOver)).toEqual({ orgId: org, id: pauseOver, consecutiveFailures: 6, version: expect.any(String) as unknown });
    expect(listed.find((d) => d.id === dueElsewhere)).toEqual({
      orgId: other,
      id: dueElsewhere,
      consecutiveFailures: 0,
      version: expect.any(String) as unknown,
    });
    expect(await due({ limit: 2 })).toHaveLength(2);
    // Destinations the worker is draining (or holding back) are left out.
    expect((await due({ exclude: [dueNow, pauseOver] })).map((d) => d.id)).toEqual([dueElsewhere]);
  });

  it("each due destination carries its row's version: updated_at to the microsecond, as the row read gives it", async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 1);
    const version = async () => (await due()).find((d) => d.id === dest)?.version;
    await setDest(dest, `updated_at = '2026-01-02T03:04:05.123456Z'`);
    expect(await version()).toBe('2026-01-02T03:04:05.123456');
    expect((await getDestinationRow(tdb.db, org, dest))?.row_version).toBe('2026-01-02T03:04:05.123456');
    // A change within the same millisecond is another version (a JavaScript Date would not tell).
    await setDest(dest, `updated_at = '2026-01-02T03:04:05.123457Z'`);
    expect(await version()).toBe('2026-01-02T03:04:05.123457');
    // The farewell of a disabled destination carries it too.
    await setDest(dest, 'enabled = false');
    await tdb.db.query(`UPDATE forwarding_jobs SET farewell = true WHERE destination_id = $1`, [dest]);
    expect(await version()).toBe('2026-01-02T03:04:05.123457');
  });

  it('two writes in one instant leave two versions (now() is the same for both; PGlite counts milliseconds)', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    // One transaction: both writes see the same now(), as two writes starting in one instant would.
    const versions = await tdb.db.transaction(async (tx) => {
      const seen: string[] = [];
      for (const patch of [{ url: 'https://siem.example.com/a' }, { enabled: false }, { url: 'https://siem.example.com/b' }]) {
        expect(await updateDestination(tx, org, dest, patch)).toBe(true);
        seen.push((await getDestinationRow(tx, org, dest))!.row_version);
      }
      await tombstoneDestination(tx, org, dest);
      seen.push((await getDestinationRow(tx, org, dest))!.row_version);
      return seen;
    });
    expect(new Set(versions).size).toBe(4);
    expect([...versions].sort()).toEqual(versions);
  });

  it('the next time: null with nothing pending; else the earliest future due time of an enabled destination', async () => {
    const org = await newOrg(tdb.db);
    expect(await nextAt()).toBeNull();
    const a = await newDestination(tdb.db, org);
    const b = await newDestination(tdb.db, org);
    const off = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 2);
    await setDue(a, '2100-01-01T00:00:10Z');
    await setDue(b, '2100-01-01T00:00:05Z');
    await setDue(off, '2100-01-01T00:00:01Z');
    await setDest(off, 'enabled = false');
    expect(await nextAt()).toBe('2100-01-01T00:00:05.000Z');

    // A destination the caller is draining itself is left out.
    expect(await nextAt([b])).toBe('2100-01-01T00:00:10.000Z');
    expect(await nextAt([a, b])).toBeNull();

    // A paused destination is due when its pause ends, if that is later than its jobs.
    await setDest(b, `paused_until = '2100-01-01T00:00:30Z'`);
    expect(await nextAt()).toBe('2100-01-01T00:00:10.000Z');
    await setDest(b, `paused_until = '2100-01-01T00:00:07Z'`);
    expect(await nextAt()).toBe('2100-01-01T00:00:07.000Z');
    await setDest(b, `paused_until = '2099-01-01T00:00:00Z'`);
    expect(await nextAt()).toBe('2100-01-01T00:00:05.000Z');

    // Only pending jobs count.
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = now()`);
    expect(await nextAt()).toBeNull();
  });

  it('one statement answers both: what is due now is listed, and only what is not gives the next time', async () => {
    const org = await newOrg(tdb.db);
    const dueNow = await newDestination(tdb.db, org);
    const later = await newDestination(tdb.db, org);
    const paused = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 2);
    await setDue(later, '2100-01-01T00:00:10Z');
    // Due jobs behind a pause: not due, and due when the pause ends.
    await setDest(paused, `paused_until = '2100-01-01T00:00:20Z'`);

    const scanned = await scanQueue(tdb.db);
    expect(scanned.due.map((d) => d.id)).toEqual([dueNow]);
    expect(scanned.nextAt?.toISOString()).toBe('2100-01-01T00:00:10.000Z');
    // A destination due now never sets the timer (its runner's end wakes the worker): with the
    // later one left out, only the pause's end remains.
    expect(await nextAt([later])).toBe('2100-01-01T00:00:20.000Z');
    expect(await nextAt([later, paused])).toBeNull();
    // Nothing due at all still answers the next time.
    await tdb.db.query(`DELETE FROM forwarding_jobs WHERE destination_id = $1`, [dueNow]);
    expect(await scanQueue(tdb.db)).toEqual({ due: [], nextAt: new Date('2100-01-01T00:00:10Z') });
  });
});
