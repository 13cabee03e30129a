import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db, Queryable, QueryResult } from '../../../src/db/types.js';
import { enforceHoldLimit } from '../../../src/queue/holdLimit.js';
import { RESET_DELIVERY_STATE } from '../../../src/queue/deliveryState.js';
import { replayFailed } from '../../../src/queue/deadLetters.js';
import { replayDeadLetters } from '../../../src/destinations/replay.js';
import { tombstoneDestination } from '../../../src/destinations/deletion.js';
import { requestRangeReplay } from '../../../src/replays/service.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, jobs, newDestination, newOrg } from './support.js';

/**
 * `db`, with `competitor` run (and committed) once, right after the first statement whose text
 * matches `after` returns: a race between that statement and the next one, forced at the same point
 * on both databases (no second connection needed, so on the embedded one too).
 */
function raceAfterStatement(db: Queryable, after: RegExp, competitor: () => Promise<unknown>): Queryable {
  let fired = false;
  return {
    exec: (script) => db.exec(script),
    async query<R>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await db.query<R>(text, values);
      if (!fired && after.test(text)) {
        fired = true;
        await competitor();
      }
      return result;
    },
  };
}

/** `db`, with `competitor` run (and committed) once, just before its first transaction begins. */
function raceBeforeTransaction(db: Db, competitor: () => Promise<unknown>): Db {
  let fired = false;
  return {
    kind: db.kind,
    query: (text, values) => db.query(text, values),
    exec: (script) => db.exec(script),
    listen: (channel, onNotify, onReconnect) => db.listen(channel, onNotify, onReconnect),
    close: () => db.close(),
    async transaction(fn, opts) {
      if (!fired) {
        fired = true;
        await competitor();
      }
      return db.transaction(fn, opts);
    },
  };
}

// Races between a destination's replays (of dead letters, of a time range) and what else changes it
// (the hold limit, a delete, a PATCH), each forced at the statement where it was found.
describe.each(DB_KINDS)('queue: replay races (%s)', (kind) => {
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

  const holdState = async (id: string) =>
    (await tdb.db.query<{ hold_paused_at: Date | null; enabled: boolean }>('SELECT hold_paused_at, enabled FROM destinations WHERE id = $1', [id])).rows[0]!;
  const statuses = async (id: string) => (await jobs(tdb.db, id)).map((j) => j.status);
  /** The statement that lists the destinations whose pending jobs the round dead-letters. */
  const HELD_LIST = /d\.hold_paused_at IS NOT NULL AND d\.enabled/;

  /** A destination the hold limit paused with 5 dead letters, and 2 events recorded for it since (pending). */
  async function heldDestination() {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 5);
    await tdb.db.query(`UPDATE destinations SET failing_since = now() - make_interval(hours => 169) WHERE id = $1`, [dest]);
    const first = await enforceHoldLimit(tdb.db, 168);
    expect(first.deadLettered).toEqual([{ orgId: org, id: dest, siem: 'webhook', count: 5 }]);
    await addEvents(tdb.db, org, 2);
    return { org, dest };
  }

  it('A: a dead-letter replay committed between the round’s list and its batch wins: nothing it revived, nor later events, is dead-lettered', async () => {
    const { org, dest } = await heldDestination();
    let replayed: number | null = null;
    const racing = raceAfterStatement(tdb.db, HELD_LIST, async () => {
      replayed = (await replayDeadLetters(tdb.db, { orgId: org, id: dest, siem: 'custom' })).replayed;
      await addEvents(tdb.db, org, 2); // live again: recorded after the resume
    });
    const round = await enforceHoldLimit(racing, 168);
    expect(replayed).toBe(5);
    expect(round.deadLettered).toEqual([]);
    expect((await holdState(dest)).hold_paused_at).toBeNull();
    expect(await statuses(dest)).toEqual(Array(9).fill('pending'));
  });

  it('A: a disable then enable committed between the round’s list and its batch wins too', async () => {
    const { org, dest } = await heldDestination();
    const racing = raceAfterStatement(tdb.db, HELD_LIST, async () => {
      await tdb.db.query(`UPDATE destinations SET enabled = false WHERE id = $1`, [dest]);
      await tdb.db.query(`UPDATE destinations SET enabled = true, ${RESET_DELIVERY_STATE} WHERE id = $1`, [dest]);
      await addEvents(tdb.db, org, 2);
    });
    const round = await enforceHoldLimit(racing, 168);
    expect(round.deadLettered).toEqual([]);
    expect(await holdState(dest)).toEqual({ hold_paused_at: null, enabled: true });
    // The 5 dead letters stay as they were (re-enabling does not replay them); the 4 others flow.
    expect(await statuses(dest)).toEqual([...Array(5).fill('failed'), ...Array(4).fill('pending')]);
  });

  it('A: a destination disabled between the list and the batch keeps its pending jobs', async () => {
    const { dest } = await heldDestination();
    const racing = raceAfterStatement(tdb.db, HELD_LIST, () => tdb.db.query(`UPDATE destinations SET enabled = false WHERE id = $1`, [dest]));
    expect((await enforceHoldLimit(racing, 168)).deadLettered).toEqual([]);
    expect(await statuses(dest)).toEqual([...Array(5).fill('failed'), ...Array(2).fill('pending')]);
  });

  it('A: a destination still held when its batch runs is dead-lettered as before', async () => {
    const { org, dest } = await heldDestination();
    const racing = raceAfterStatement(tdb.db, HELD_LIST, () => addEvents(tdb.db, org, 1));
    expect((await enforceHoldLimit(racing, 168)).deadLettered).toEqual([{ orgId: org, id: dest, siem: 'webhook', count: 3 }]);
    expect(await statuses(dest)).toEqual(Array(8).fill('failed'));
  });

  /** A destination with 3 dead letters. */
  async function withDeadLetters() {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 3);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = now(), last_error = 'HTTP 503' WHERE destination_id = $1`, [dest]);
    return { org, dest };
  }

  it('B: a delete committed after the existence check and before the replay’s transaction: not found, nothing revived, nothing recorded', async () => {
    const { org, dest } = await withDeadLetters();
    const racing = raceBeforeTransaction(tdb.db, () => tdb.db.transaction((tx) => tombstoneDestination(tx, org, dest)));
    let recorded = false;
    const replay = replayDeadLetters(racing, { orgId: org, id: dest, siem: 'custom' }, { record: async () => (recorded = true) });
    await expect(replay).rejects.toMatchObject({ code: 'not_found', message: 'destination not found' });
    expect(recorded).toBe(false);
    expect(await statuses(dest)).toEqual(['failed', 'failed', 'failed']);
  });

  it('B: dead letters of a deleted destination are not replayable', async () => {
    const { org, dest } = await withDeadLetters();
    await tdb.db.transaction((tx) => tombstoneDestination(tx, org, dest));
    expect(await replayFailed(tdb.db, org, dest, null)).toEqual({ replayed: 0 });
    expect(await statuses(dest)).toEqual(['failed', 'failed', 'failed']);
  });

  it('C: a PATCH of the filter committed before the first batch’s transaction applies to that batch', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const ids = await addEvents(tdb.db, org, 3, new Date(Date.now() - 60_000));
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'done', settled_at = now() WHERE destination_id = $1`, [dest]);
    const racing = raceBeforeTransaction(tdb.db, () =>
      tdb.db.query(`UPDATE destinations SET filter = $2::jsonb, updated_at = now() WHERE id = $1`, [dest, JSON.stringify({ 'event.id': { $in: [ids[0]] } })]),
    );
    const answer = await requestRangeReplay(
      { db: racing, limits: { batch: 100, maxRunningPerOrg: 5, maxEvents: 1000 }, retentionDays: 30 },
      { orgId: org, id: dest, siem: 'custom' },
      { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) },
      'api_key',
    );
    expect(answer).toMatchObject({ replayed: 1, replay: null, message: expect.stringContaining("2 event(s) do not match this destination's filter") });
    const pending = (await jobs(tdb.db, dest)).filter((j) => j.status === 'pending').map((j) => j.event_id);
    expect(pending).toEqual([ids[0]]);
  });

  it('C: a destination deleted before the first batch’s transaction: not found, nothing queued, nothing recorded', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 3, new Date(Date.now() - 60_000));
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'done', settled_at = now() WHERE destination_id = $1`, [dest]);
    const racing = raceBeforeTransaction(tdb.db, () => tdb.db.transaction((tx) => tombstoneDestination(tx, org, dest)));
    let recorded = false;
    const replay = requestRangeReplay(
      { db: racing, limits: { batch: 100, maxRunningPerOrg: 5, maxEvents: 1000 }, retentionDays: 30 },
      { orgId: org, id: dest, siem: 'custom' },
      { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) },
      'api_key',
      async () => (recorded = true),
    );
    await expect(replay).rejects.toMatchObject({ code: 'not_found', message: 'destination not found' });
    expect(recorded).toBe(false);
    expect(await statuses(dest)).toEqual(['done', 'done', 'done']);
  });
});
