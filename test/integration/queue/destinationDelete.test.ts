import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../../src/db/types.js';
import { clearDeletedDestinationJobs, purgeDeletedDestination, purgeDeletedDestinations, tombstoneDestination } from '../../../src/destinations/deletion.js';
import { BacklogLane } from '../../../src/destinations/backlogLane.js';
import type { DestinationDeps } from '../../../src/destinations/deps.js';
import { removeDestination } from '../../../src/destinations/service.js';
import { pullEvents } from '../../../src/events/pull.js';
import { queueFarewell } from '../../../src/queue/farewell.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { logStatements } from '../../support/statementLog.js';
import { addEvents, newDestination, newOrg } from './support.js';

const actor = { type: 'api_key' as const, id: 'key_0123456789abcdef' };

/** What removeDestination reads of the process: the database, and nothing the delete uses besides. */
const depsOf = (db: Db): DestinationDeps => ({
  db,
  keyRing: undefined as never,
  allowPrivate: false,
  limits: { maxDestinationsPerOrg: 100, maxEnabledDestinationsPerOrg: 100 } as never,
  signingOverlapHours: 0,
});

const count = async (db: Queryable, sql: string, values: unknown[]) => Number((await db.query<{ n: string }>(sql, values)).rows[0]!.n);

// A destination's delete removes its backlog, which a tenant can make as large as its SIEM was down
// long: a million jobs take minutes. Done in one transaction, that transaction's id held back
// pg_snapshot_xmin for the whole cluster that long, and with it every other organization's pull feed
// (events/pull.ts reads below it) and the removal of every dead row (VACUUM's horizon).
describe.each(DB_KINDS)('a destination delete in batches (%s)', (kind) => {
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

  /** A custom webhook destination with `n` pending jobs, disabled already: no farewell keeps it once deleted. */
  async function disabledWithBacklog(org: string, n: number): Promise<string> {
    const dest = await newDestination(tdb.db, org);
    await tdb.db.query(`UPDATE destinations SET siem = 'custom' WHERE id = $1`, [dest]);
    await addEvents(tdb.db, org, n);
    await tdb.db.query(`UPDATE destinations SET enabled = false WHERE id = $1`, [dest]);
    return dest;
  }

  /**
   * One of the destination's jobs locked, as a worker's settle holds it, until `release()`; `holder`
   * settles once the transaction is over. Resolves once the lock is held.
   */
  async function holdJobLock(dest: string): Promise<{ release: () => void; holder: Promise<void> }> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = tdb.db.transaction(async (tx) => {
      await tx.query(`SELECT id FROM forwarding_jobs WHERE destination_id = $1 ORDER BY id LIMIT 1 FOR UPDATE`, [dest]);
      locked();
      await released;
    });
    await isLocked;
    return { release, holder };
  }

  /** A lane busy with another destination's backlog until `release()`; `busy` settles after it. */
  function busyLane(other: string): { lane: BacklogLane; release: () => void; busy: Promise<void> } {
    const lane = new BacklogLane();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    return { lane, release, busy: lane.run(other, () => held) };
  }

  it.skipIf(kind === 'pglite')("another organization's new events reach its pull feed while the backlog is cleared", async () => {
    const a = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, a);
    // A SIEM the trail's summary can name (the fixture's 'webhook' is none).
    await tdb.db.query(`UPDATE destinations SET siem = 'custom' WHERE id = $1`, [dest]);
    await addEvents(tdb.db, a, 20);
    const b = await newOrg(tdb.db);
    let recorded: string | null = null;
    let pulled: string[] | null = null;
    // Once the delete has removed some of the backlog, organization B records an event and reads its feed.
    const log = logStatements(tdb.db, { inTransactions: true });
    log.after = async ({ text }) => {
      if (recorded !== null || !/DELETE FROM forwarding_jobs/.test(text)) return;
      recorded = (await addEvents(tdb.db, b, 1))[0]!;
      // Polled: other tests' transactions on the same server hold the horizon back a moment too. The
      // delete's own, were it still open, would hold it until this hook returned: never.
      const feed = async () => (await pullEvents(tdb.db, b, { after: null, since: null, until: null, limit: 10 })).events;
      await expect.poll(async () => (await feed()).length, { timeout: 30_000, interval: 200 }).toBeGreaterThan(0);
      pulled = (await feed()).map((e) => (JSON.parse(e) as { event: { id: string } }).event.id);
    };
    const res = await removeDestination(depsOf(log.db), a, dest, actor);
    expect(res).toEqual({ deleted: true, cleared_events: 20 });
    expect(recorded).not.toBeNull();
    expect(pulled).toEqual([recorded]);
    // Enabled, it keeps its farewell (the destination_deleted event) and its row until that is settled.
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1 AND NOT farewell`, [dest])).toBe(0);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1 AND farewell`, [dest])).toBe(1);
  });

  it('clears the pending backlog batch by batch, but for the farewell and the jobs in flight', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const [notice, inFlight, ...pending] = await addEvents(tdb.db, org, 12);
    await tdb.db.query(`DELETE FROM forwarding_jobs WHERE event_id = $1`, [notice]);
    await tdb.db.query(`UPDATE forwarding_jobs SET claim_id = $2::uuid, next_attempt_at = now() + interval '1 minute' WHERE event_id = $1`, [
      inFlight,
      randomUUID(),
    ]);
    // Two dead letters and a delivery log row: kept until the row goes.
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = now() WHERE event_id = ANY($1)`, [pending.slice(0, 2)]);
    await tdb.db.query(
      `INSERT INTO delivery_attempts (org_id, destination_id, event_count, delivered_count, failed_count, status_code, duration_ms) VALUES ($1, $2, 1, 1, 0, 200, 1)`,
      [org, dest],
    );
    // 9 pending jobs dropped: 8 to clear, and the one in flight (not retried after this).
    expect(await tombstoneDestination(tdb.db, org, dest)).toBe(9);
    await queueFarewell(tdb.db, { orgId: org, destinationId: dest, eventId: notice! });
    // 3 a batch: three statements, the last one short, and one that finds nothing left.
    const log = logStatements(tdb.db);
    expect(await clearDeletedDestinationJobs(log.db, org, dest, 3)).toBe(8);
    expect(log.count(/DELETE FROM forwarding_jobs/)).toBe(4);
    const left = await tdb.db.query<{ event_id: string; status: string }>(`SELECT event_id, status FROM forwarding_jobs WHERE destination_id = $1`, [dest]);
    expect(new Set(left.rows.map((r) => r.event_id))).toEqual(new Set([notice, inFlight, ...pending.slice(0, 2)]));
    // The farewell is pending: the row stays, with its dead letters and log.
    expect(await purgeDeletedDestination(tdb.db, org, dest, 3)).toBe(false);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM delivery_attempts WHERE destination_id = $1`, [dest])).toBe(1);
    // Settled: everything of it goes, a batch at a time, then the row.
    await tdb.db.query(`DELETE FROM forwarding_jobs WHERE event_id = $1 AND destination_id = $2`, [notice, dest]);
    expect(await purgeDeletedDestination(tdb.db, org, dest, 1)).toBe(true);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(0);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM delivery_attempts WHERE destination_id = $1`, [dest])).toBe(0);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM destinations WHERE id = $1`, [dest])).toBe(0);
  });

  it.skipIf(kind === 'pglite')('a batch cut short by another deleter is no end: the clear goes on until nothing is left', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 40);
    await tombstoneDestination(tdb.db, org, dest);
    // After the first batch, another deleter (the worker's purge, when the farewell went out at once)
    // deletes half of what is left and holds those rows until the next batch waits for them: that
    // batch then skips them and comes back short while other jobs remain.
    let other: Promise<void> | null = null;
    const log = logStatements(tdb.db);
    log.after = async ({ text }) => {
      if (other !== null || !/DELETE FROM forwarding_jobs/.test(text)) return;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let took!: () => void;
      const taken = new Promise<void>((resolve) => (took = resolve));
      other = tdb.db.transaction(async (tx) => {
        await tx.query(
          `DELETE FROM forwarding_jobs WHERE id IN (SELECT id FROM forwarding_jobs WHERE destination_id = $1 AND status = 'pending' AND id % 2 = 0)`,
          [dest],
        );
        took();
        await held;
      });
      await taken;
      // Committed once the clear's next statement waits for one of those rows (in this test's
      // database: other files' statements wait on their own locks).
      void (async () => {
        try {
          await expect
            .poll(
              async () =>
                Number(
                  (
                    await tdb.db.query<{ n: string }>(
                      `SELECT count(*) AS n FROM pg_stat_activity
                      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM forwarding_jobs WHERE id IN%'`,
                    )
                  ).rows[0]!.n,
                ),
              { timeout: 30_000, interval: 50 },
            )
            .toBeGreaterThan(0);
        } finally {
          release();
        }
      })();
    };
    await clearDeletedDestinationJobs(log.db, org, dest, 10);
    await (other as Promise<void> | null);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(0);
  });

  it('a batch that fails after the change committed still answers deleted, and leaves the rest to the worker', async () => {
    const org = await newOrg(tdb.db);
    const dest = await disabledWithBacklog(org, 3);
    // A statement limit, the database gone a moment: an error would have the client retry into a 404.
    const log = logStatements(tdb.db, { inTransactions: true });
    log.after = ({ text }) => {
      if (/DELETE FROM forwarding_jobs/.test(text)) throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    };
    const warned: unknown[] = [];
    const deps = { ...depsOf(log.db), logger: { warn: (...args: unknown[]) => void warned.push(args) } } as DestinationDeps;
    expect(await removeDestination(deps, org, dest, actor)).toEqual({ deleted: true, cleared_events: 3 });
    expect(warned).toHaveLength(1);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM destinations WHERE id = $1 AND deleted_at IS NOT NULL`, [dest])).toBe(1);
    // The hourly sweep finishes it.
    expect(await purgeDeletedDestinations(tdb.db)).toBe(1);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(0);
  });

  it('answers without waiting for what it hands to the lane, and the lane clears it after', async () => {
    const org = await newOrg(tdb.db);
    const dest = await disabledWithBacklog(org, 7);
    // Its time to clear spent (0 here; 5 s in the API, minutes for millions of jobs): the rest goes to
    // the lane, busy with another destination's backlog, and the answer does not wait for it.
    const { lane, release } = busyLane('dst_other');
    const deps = { ...depsOf(tdb.db), backlog: lane, deleteAnswerWithinMs: 0 };
    expect(await removeDestination(deps, org, dest, actor)).toEqual({ deleted: true, cleared_events: 7 });
    // Answered deleted: invisible to every reader, its jobs claimable by nobody, though still there.
    expect(await count(tdb.db, `SELECT count(*) AS n FROM destinations WHERE id = $1 AND deleted_at IS NOT NULL AND NOT enabled`, [dest])).toBe(1);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(7);
    release();
    // In order: once later work has run, this delete's has.
    await lane.run('dst_later', () => Promise.resolve());
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(0);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM destinations WHERE id = $1`, [dest])).toBe(0);
  });

  it("clears its own backlog while the lane is busy with another organization's", async () => {
    const other = await newOrg(tdb.db);
    const org = await newOrg(tdb.db);
    const dest = await disabledWithBacklog(org, 4);
    const { lane, release, busy } = busyLane(`${other}-backlog`);
    expect(await removeDestination({ ...depsOf(tdb.db), backlog: lane }, org, dest, actor)).toEqual({ deleted: true, cleared_events: 4 });
    // Answered with its backlog and row gone, the lane still busy.
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(0);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM destinations WHERE id = $1`, [dest])).toBe(0);
    release();
    await busy;
  });

  it.skipIf(kind === 'pglite')('answers in its time even while a batch waits on a row lock, and the rest is cleared once it is released', async () => {
    const org = await newOrg(tdb.db);
    const dest = await disabledWithBacklog(org, 6);
    const { release, holder } = await holdJobLock(dest);
    const lane = new BacklogLane();
    try {
      expect(await removeDestination({ ...depsOf(tdb.db), backlog: lane, deleteAnswerWithinMs: 200 }, org, dest, actor)).toEqual({
        deleted: true,
        cleared_events: 6,
      });
      // Answered while the lock is still held: the jobs are all still there.
      expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(6);
    } finally {
      release();
      await holder;
    }
    await expect.poll(() => count(tdb.db, `SELECT count(*) AS n FROM destinations WHERE id = $1`, [dest]), { timeout: 30_000, interval: 100 }).toBe(0);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(0);
  });

  it.skipIf(kind === 'pglite')("a process stopping waits for a delete's clearing still running after its answer", async () => {
    const org = await newOrg(tdb.db);
    const dest = await disabledWithBacklog(org, 3);
    const { release, holder } = await holdJobLock(dest);
    const lane = new BacklogLane();
    expect(await removeDestination({ ...depsOf(tdb.db), backlog: lane, deleteAnswerWithinMs: 100 }, org, dest, actor)).toEqual({
      deleted: true,
      cleared_events: 3,
    });
    // The clearing's batch waits on the lock: stopping waits for it (the database must not close under it).
    const stopping = lane.stop();
    const first = await Promise.race([stopping.then(() => 'stopped'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    expect(first).toBe('waiting');
    release();
    await holder;
    await stopping;
    // Its batch done, nothing more started: the row waits for the worker's sweep.
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(0);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM destinations WHERE id = $1`, [dest])).toBe(1);
    expect(await purgeDeletedDestinations(tdb.db)).toBe(1);
  });

  it('a process stopping leaves what its lane had not cleared to the hourly sweep', async () => {
    const org = await newOrg(tdb.db);
    const dest = await disabledWithBacklog(org, 5);
    const { lane, release } = busyLane('dst_other');
    expect(await removeDestination({ ...depsOf(tdb.db), backlog: lane, deleteAnswerWithinMs: 0 }, org, dest, actor)).toEqual({
      deleted: true,
      cleared_events: 5,
    });
    const stopped = lane.stop();
    release();
    await stopped;
    // Nothing started after the stop: the row and its jobs wait for the worker.
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(5);
    expect(await purgeDeletedDestinations(tdb.db)).toBe(1);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(0);
  });

  it('a removal stopped between batches keeps the row, so its trigger never deletes the rest in one statement', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 9);
    await tdb.db.query(`UPDATE destinations SET enabled = false WHERE id = $1`, [dest]);
    await tombstoneDestination(tdb.db, org, dest);
    let batches = 0;
    const log = logStatements(tdb.db);
    log.after = ({ text }) => {
      if (/DELETE FROM forwarding_jobs/.test(text)) batches++;
    };
    expect(await purgeDeletedDestination(log.db, org, dest, 3, () => batches >= 1)).toBe(false);
    expect(batches).toBe(1);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(6);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM destinations WHERE id = $1`, [dest])).toBe(1);
  });

  it('never removes a destination that is not deleted, nor another organization’s', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 3);
    const other = await newOrg(tdb.db);
    expect(await clearDeletedDestinationJobs(tdb.db, org, dest, 2)).toBe(0);
    expect(await purgeDeletedDestination(tdb.db, org, dest, 2)).toBe(false);
    await tombstoneDestination(tdb.db, org, dest);
    expect(await clearDeletedDestinationJobs(tdb.db, other, dest, 2)).toBe(0);
    expect(await purgeDeletedDestination(tdb.db, other, dest, 2)).toBe(false);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(3);
  });

  it('the hourly sweep removes, in batches, one whose farewell it gave up on after a day', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const [notice, ...rest] = await addEvents(tdb.db, org, 6);
    await tdb.db.query(`DELETE FROM forwarding_jobs WHERE event_id = $1`, [notice]);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = now() WHERE event_id = ANY($1)`, [rest]);
    await tombstoneDestination(tdb.db, org, dest);
    await queueFarewell(tdb.db, { orgId: org, destinationId: dest, eventId: notice! });
    expect(await purgeDeletedDestinations(tdb.db, 2)).toBe(0);
    await tdb.db.query(`UPDATE destinations SET deleted_at = now() - interval '25 hours' WHERE id = $1`, [dest]);
    const log = logStatements(tdb.db);
    expect(await purgeDeletedDestinations(log.db, 2)).toBe(1);
    // Six jobs (the farewell among them), two a batch.
    expect(log.count(/DELETE FROM forwarding_jobs/)).toBeGreaterThanOrEqual(3);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM forwarding_jobs WHERE destination_id = $1`, [dest])).toBe(0);
    expect(await count(tdb.db, `SELECT count(*) AS n FROM destinations WHERE id = $1`, [dest])).toBe(0);
  });
});
