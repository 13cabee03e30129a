import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BREAKER_THRESHOLD, noteRequestFailure, noteRequestSuccess, pauseSeconds } from '../../../src/queue/deliveryState.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { dbNow, destState, ms, newDestination, newOrg } from './support.js';

describe('queue: pauseSeconds', () => {
  it('is 0 below the threshold, then 30 s doubling per failed probe, capped at 10 min', () => {
    expect(BREAKER_THRESHOLD).toBe(5);
    expect([0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 50].map(pauseSeconds)).toEqual([0, 0, 0, 30, 60, 120, 240, 480, 600, 600, 600]);
  });
});

// The circuit breaker's state on the destination row: the failure count and the pause end.
describe.each(DB_KINDS)('queue: circuit breaker (%s)', (kind) => {
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

  async function setup() {
    const org = await newOrg(tdb.db);
    return { org, dest: await newDestination(tdb.db, org) };
  }

  /** Records one failure; checks the pause it set is `seconds` after the statement's now(). */
  async function failAndExpectPause(org: string, dest: string, seconds: number): Promise<Date> {
    const t0 = await dbNow(tdb.db);
    const until = await noteRequestFailure(tdb.db, org, dest);
    const t1 = await dbNow(tdb.db);
    expect(until).not.toBeNull();
    expect(ms(until!, t0)).toBeGreaterThanOrEqual(seconds * 1000);
    expect(ms(until!, t1)).toBeLessThanOrEqual(seconds * 1000);
    expect((await destState(tdb.db, dest)).paused_until).toEqual(until);
    return until!;
  }

  /** The pause is over (time passing, without waiting for it). */
  const endPause = (dest: string) => tdb.db.query(`UPDATE destinations SET paused_until = now() - interval '1 second' WHERE id = $1`, [dest]);

  it('opens after the threshold of failures in a row, for 30 s', async () => {
    const { org, dest } = await setup();
    for (let i = 1; i < BREAKER_THRESHOLD; i++) {
      expect(await noteRequestFailure(tdb.db, org, dest)).toBeNull();
      expect(await destState(tdb.db, dest)).toMatchObject({ consecutive_failures: i, paused_until: null });
    }
    await failAndExpectPause(org, dest, 30);
    expect((await destState(tdb.db, dest)).consecutive_failures).toBe(5);
  });

  it('failures of requests in flight while paused are not counted again and keep the pause end', async () => {
    const { org, dest } = await setup();
    for (let i = 1; i < BREAKER_THRESHOLD; i++) await noteRequestFailure(tdb.db, org, dest);
    const until = await failAndExpectPause(org, dest, 30);
    for (let i = 0; i < 16; i++) expect(await noteRequestFailure(tdb.db, org, dest)).toEqual(until);
    expect(await destState(tdb.db, dest)).toMatchObject({ consecutive_failures: 5, paused_until: until });
  });

  it('each failed probe after a pause doubles it, up to 10 minutes', async () => {
    const { org, dest } = await setup();
    for (let i = 1; i < BREAKER_THRESHOLD; i++) await noteRequestFailure(tdb.db, org, dest);
    await failAndExpectPause(org, dest, 30);
    for (const [failures, seconds] of [
      [6, 60],
      [7, 120],
      [8, 240],
      [9, 480],
      [10, 600],
      [11, 600],
    ] as const) {
      await endPause(dest);
      await failAndExpectPause(org, dest, seconds);
      expect((await destState(tdb.db, dest)).consecutive_failures).toBe(failures);
    }
  });

  it('a success closes it: count and pause cleared, and the next failure starts from one', async () => {
    const { org, dest } = await setup();
    for (let i = 0; i < 7; i++) await noteRequestFailure(tdb.db, org, dest);
    await noteRequestSuccess(tdb.db, org, dest);
    expect(await destState(tdb.db, dest)).toMatchObject({ consecutive_failures: 0, paused_until: null });
    expect(await noteRequestFailure(tdb.db, org, dest)).toBeNull();
    expect((await destState(tdb.db, dest)).consecutive_failures).toBe(1);
  });

  it('touches only the named destination of the named organization', async () => {
    const { org, dest } = await setup();
    const other = await newDestination(tdb.db, org);
    const stranger = await newOrg(tdb.db);
    expect(await noteRequestFailure(tdb.db, stranger, dest)).toBeNull();
    expect(await noteRequestFailure(tdb.db, org, 'dst_missing')).toBeNull();
    await noteRequestFailure(tdb.db, org, other);
    expect((await destState(tdb.db, dest)).consecutive_failures).toBe(0);
    await tdb.db.query(`UPDATE destinations SET consecutive_failures = 3 WHERE id = $1`, [dest]);
    await noteRequestSuccess(tdb.db, stranger, dest);
    expect((await destState(tdb.db, dest)).consecutive_failures).toBe(3);
  });
});
