import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertAttempts } from '../../../src/queue/attempts.js';
import { prune, pruneOnce } from '../../../src/queue/prune.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, attemptRows, jobs, newDestination, newOrg } from './support.js';

// Retention: old delivered jobs, old log rows and old events nothing refers to go, in bounded batches;
// pending and dead-lettered jobs (and their events) stay however old they are.
describe.each(DB_KINDS)('queue: prune (%s)', (kind) => {
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

  const OLD = `now() - interval '10 days'`;

  async function setup() {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 8);
    const [d0, d1, d2, recentDone, pending, failed, orphanOld, orphanNew] = (await jobs(tdb.db, dest)).map((j) => j.id);
    const set = (sql: string, ids: number[]) => tdb.db.query(`UPDATE forwarding_jobs SET ${sql} WHERE id = ANY($1::bigint[])`, [ids]);
    await set(`status = 'done', settled_at = ${OLD}`, [d0!, d1!, d2!]);
    await set(`status = 'done', settled_at = now()`, [recentDone!]);
    await set(`created_at = ${OLD}, next_attempt_at = ${OLD}`, [pending!]);
    await set(`status = 'failed', settled_at = ${OLD}`, [failed!]);
    // Every event was recorded long ago except orphanNew's; two events have no job left at all.
    const eventOf = async (id: number) => (await jobs(tdb.db, dest)).find((j) => j.id === id)!.event_id;
    const orphanNewEvent = await eventOf(orphanNew!);
    await tdb.db.query(`DELETE FROM forwarding_jobs WHERE id = ANY($1::bigint[])`, [[orphanOld, orphanNew]]);
    await tdb.db.query(`UPDATE audit_events SET recorded_at = ${OLD} WHERE id <> $1`, [orphanNewEvent]);

    const rec = {
      orgId: org,
      destinationId: dest,
      eventCount: 1,
      deliveredCount: 1,
      failedCount: 0,
      statusCode: 200,
      durationMs: 5,
      error: null,
      responseSnippet: null,
    };
    await insertAttempts(tdb.db, [rec, rec, rec]);
    await tdb.db.query(`UPDATE delivery_attempts SET attempted_at = ${OLD}`);
    await insertAttempts(tdb.db, [{ ...rec, statusCode: 202 }]);
    return { dest, keptJobs: [recentDone, pending, failed] };
  }

  async function expectKept(dest: string, keptJobs: (number | undefined)[]) {
    const rows = await jobs(tdb.db, dest);
    expect(rows.map((j) => [j.id, j.status])).toEqual([
      [keptJobs[0], 'done'],
      [keptJobs[1], 'pending'],
      [keptJobs[2], 'failed'],
    ]);
    // Their events stay (however old), and so does the recent event without jobs.
    const { rows: ev } = await tdb.db.query<{ id: string }>(`SELECT id FROM audit_events ORDER BY id`);
    expect(ev).toHaveLength(4);
    for (const j of rows) expect(ev.map((e) => e.id)).toContain(j.event_id);
    expect((await attemptRows(tdb.db, dest)).map((a) => a.status_code)).toEqual([202]);
  }

  it('pruneOnce deletes at most `batch` rows of each kind per pass', async () => {
    const { dest, keptJobs } = await setup();
    expect(await pruneOnce(tdb.db, 7, 2)).toEqual({ jobs: 2, attempts: 2, events: 2 });
    expect(await pruneOnce(tdb.db, 7, 2)).toEqual({ jobs: 1, attempts: 1, events: 2 });
    expect(await pruneOnce(tdb.db, 7, 2)).toEqual({ jobs: 0, attempts: 0, events: 0 });
    await expectKept(dest, keptJobs);
  });

  it('prune repeats passes until nothing is left to delete', async () => {
    const { dest, keptJobs } = await setup();
    expect(await prune(tdb.db, 7)).toEqual({ jobs: 3, attempts: 3, events: 4 });
    expect(await prune(tdb.db, 7)).toEqual({ jobs: 0, attempts: 0, events: 0 });
    await expectKept(dest, keptJobs);
  });

  it('keeps everything younger than the retention period', async () => {
    const { dest } = await setup();
    expect(await prune(tdb.db, 30)).toEqual({ jobs: 0, attempts: 0, events: 0 });
    expect(await jobs(tdb.db, dest)).toHaveLength(6);
  });
});
