import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../../src/db/types.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import { pruneOnce } from '../../../src/queue/prune.js';
import { QUEUE_REPLAYED_SQL, queueReplayBatch } from '../../../src/queue/replayRange.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { POLL } from '../../support/waitFor.js';
import { addEvents, jobs, newDestination, newOrg } from './support.js';

// Jobs and events keep no foreign keys to their parents (migration 0017): each writer share-locks the
// parents once, and deletes cascade by trigger. What the constraints promised must still hold: no job
// outlives its event or destination, no event its organization, whatever runs at the same time.

const count = async (db: Queryable, sql: string, params: unknown[]) => (await db.query<{ n: number }>(sql, params)).rows[0]!.n;
const jobsOfOrg = (db: Queryable, org: string) => count(db, 'SELECT count(*)::int AS n FROM forwarding_jobs WHERE org_id = $1', [org]);
const eventsOfOrg = (db: Queryable, org: string) => count(db, 'SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1', [org]);

describe.each(DB_KINDS)('queue: deletes cascade to events and jobs (%s)', (kind) => {
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

  it('deleting a destination deletes its jobs, and only its own', async () => {
    const org = await newOrg(tdb.db);
    const gone = await newDestination(tdb.db, org);
    const kept = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 3);

    await tdb.db.query('DELETE FROM destinations WHERE org_id = $1 AND id = $2', [org, gone]);

    expect(await jobs(tdb.db, gone)).toEqual([]);
    expect((await jobs(tdb.db, kept)).length).toBe(3);
    expect(await eventsOfOrg(tdb.db, org)).toBe(3);
  });

  it('deleting an event deletes its jobs, and only its own', async () => {
    const org = await newOrg(tdb.db);
    const d = await newDestination(tdb.db, org);
    const [first, second] = await addEvents(tdb.db, org, 2);

    await tdb.db.query('DELETE FROM audit_events WHERE org_id = $1 AND id = $2', [org, first]);

    expect((await jobs(tdb.db, d)).map((j) => j.event_id)).toEqual([second]);
  });

  it('deleting an organization deletes its events and their jobs; another organization keeps its own', async () => {
    const org = await newOrg(tdb.db);
    const other = await newOrg(tdb.db);
    await newDestination(tdb.db, org);
    await newDestination(tdb.db, other);
    await addEvents(tdb.db, org, 2);
    await addEvents(tdb.db, other, 2);

    await tdb.db.query('DELETE FROM orgs WHERE id = $1', [org]);

    expect([await eventsOfOrg(tdb.db, org), await jobsOfOrg(tdb.db, org)]).toEqual([0, 0]);
    expect([await eventsOfOrg(tdb.db, other), await jobsOfOrg(tdb.db, other)]).toEqual([2, 2]);
  });

  it('emptying organizations, events or destinations with TRUNCATE leaves no event or job behind', async () => {
    for (const table of ['audit_events', 'destinations', 'orgs']) {
      const org = await newOrg(tdb.db);
      await newDestination(tdb.db, org);
      await addEvents(tdb.db, org, 2);
      expect(await jobsOfOrg(tdb.db, org)).toBe(2);

      await tdb.db.exec(`TRUNCATE ${table} CASCADE`);

      expect([table, await jobsOfOrg(tdb.db, org)]).toEqual([table, 0]);
      if (table === 'orgs') expect(await eventsOfOrg(tdb.db, org)).toBe(0);
    }
  });

  it('records nothing for an organization that does not exist', async () => {
    const r = await recordEvents(tdb.db, [{ orgId: 'org_nowhere', id: 'evt_1', occurredAt: new Date(), payload: {} }]);

    expect(r).toEqual({ inserted: [], jobs: 0 });
    expect(await eventsOfOrg(tdb.db, 'org_nowhere')).toBe(0);
  });

  it('a replay queues nothing for a destination that no longer exists, nor for an event that no longer exists', async () => {
    const org = await newOrg(tdb.db);
    const d = await newDestination(tdb.db, org);
    const [kept, gone] = await addEvents(tdb.db, org, 2, new Date('2030-01-01T00:00:00Z'));
    await tdb.db.query('DELETE FROM forwarding_jobs WHERE org_id = $1', [org]);
    await tdb.db.query('DELETE FROM audit_events WHERE org_id = $1 AND id = $2', [org, gone]);
    const window = { from: new Date('2029-12-31T00:00:00Z'), to: new Date('2030-01-02T00:00:00Z'), after: null, batch: 10 };

    const r = await queueReplayBatch(tdb.db, { orgId: org, destinationId: d, ...window });
    expect(r).toMatchObject({ scanned: 1, queued: 1 });
    expect((await jobs(tdb.db, d)).map((j) => j.event_id)).toEqual([kept]);

    await tdb.db.query('DELETE FROM forwarding_jobs WHERE org_id = $1', [org]);
    const ghost = await queueReplayBatch(tdb.db, { orgId: org, destinationId: 'dst_nowhere', ...window });
    expect(ghost.queued).toBe(0);
    expect(await jobsOfOrg(tdb.db, org)).toBe(0);
  });
});

// Races need two connections: PostgreSQL only (PGlite has one).
describe('queue: a delete racing a writer leaves nothing behind (postgres)', () => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb('postgres');
  });
  beforeEach(async () => {
    await tdb.reset();
  });
  afterAll(async () => {
    await tdb?.close();
  });

  /** Runs `work` in a transaction that stays open until `commit()`; `pid` is its backend. */
  async function openWriter(db: Db, work: (tx: Queryable) => Promise<unknown>) {
    let commit: () => void = () => undefined;
    const committing = new Promise<void>((r) => (commit = r));
    let started: (pid: number) => void = () => undefined;
    const pidOf = new Promise<number>((r) => (started = r));
    const done = db.transaction(async (tx) => {
      await work(tx);
      started((await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
      await committing;
    });
    const pid = await Promise.race([pidOf, done.then(() => Promise.reject(new Error('the writer ended before it held')))]);
    return {
      pid,
      async commit() {
        commit();
        await done;
      },
    };
  }

  const waitingOn = (pid: number) => count(tdb.db, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]);

  it('a destination deleted while events are recorded for it waits for them, then takes their jobs along', async () => {
    const org = await newOrg(tdb.db);
    const d = await newDestination(tdb.db, org);
    const writer = await openWriter(tdb.db, (tx) =>
      recordEvents(tx, [{ orgId: org, id: 'evt_racing', occurredAt: new Date(), payload: { event: { id: 'evt_racing' } } }]),
    );

    const deleting = tdb.db.query('DELETE FROM destinations WHERE org_id = $1 AND id = $2', [org, d]);
    try {
      await expect.poll(() => waitingOn(writer.pid), POLL).toBe(1);
    } finally {
      await writer.commit();
    }
    expect((await deleting).rowCount).toBe(1);

    expect(await jobs(tdb.db, d)).toEqual([]);
    expect(await eventsOfOrg(tdb.db, org)).toBe(1);
  });

  it('an organization deleted while its events are recorded waits for them, then takes them along', async () => {
    const org = await newOrg(tdb.db);
    await newDestination(tdb.db, org);
    const writer = await openWriter(tdb.db, (tx) =>
      recordEvents(tx, [{ orgId: org, id: 'evt_racing', occurredAt: new Date(), payload: { event: { id: 'evt_racing' } } }]),
    );

    const deleting = tdb.db.query('DELETE FROM orgs WHERE id = $1', [org]);
    try {
      await expect.poll(() => waitingOn(writer.pid), POLL).toBe(1);
    } finally {
      await writer.commit();
    }
    await deleting;

    expect([await eventsOfOrg(tdb.db, org), await jobsOfOrg(tdb.db, org)]).toEqual([0, 0]);
  });

  // Retention deletes events by the thousand: the cascade must probe each one's jobs by index, not
  // read every job (a hash join over the whole table, which the planner prefers below about a million
  // jobs). Counted by this transaction's own table statistics.
  it('an event deleted with many jobs queued finds its own jobs by index, never by reading every job', async () => {
    const org = await newOrg(tdb.db);
    const d = await newDestination(tdb.db, org);
    await tdb.db.query(
      `INSERT INTO audit_events (org_id, id, occurred_at, payload) SELECT $1, 'evt_many_' || g, now(), '{}' FROM generate_series(1, 20000) g`,
      [org],
    );
    await tdb.db.query(`INSERT INTO forwarding_jobs (org_id, destination_id, event_id) SELECT $1, $2, 'evt_many_' || g FROM generate_series(1, 20000) g`, [
      org,
      d,
    ]);
    await tdb.db.query('ANALYZE forwarding_jobs');
    const scans = await tdb.db.transaction(async (tx) => {
      const read = async () =>
        (
          await tx.query<{ seq: number; idx: number }>(
            `SELECT seq_scan::int AS seq, coalesce(idx_scan, 0)::int AS idx FROM pg_stat_xact_user_tables WHERE relid = 'forwarding_jobs'::regclass`,
          )
        ).rows[0]!;
      const before = await read();
      await tx.query(`DELETE FROM audit_events WHERE org_id = $1 AND id IN (SELECT 'evt_many_' || g FROM generate_series(1, 2000) g)`, [org]);
      const after = await read();
      return { seq: after.seq - before.seq, idx: after.idx - before.idx };
    });

    expect(scans.seq).toBe(0);
    expect(scans.idx).toBeGreaterThan(0);
    expect((await jobs(tdb.db, d)).length).toBe(18000);
  });

  it('retention leaves alone an event a replay is queuing, and the replayed job finds its event', async () => {
    const org = await newOrg(tdb.db);
    const d = await newDestination(tdb.db, org, { enabled: false });
    const [old] = await addEvents(tdb.db, org, 1, new Date('2030-01-01T00:00:00Z'));
    // Recorded long ago and delivered to nothing (the destination is disabled): retention's to delete.
    await tdb.db.query(`UPDATE audit_events SET recorded_at = now() - interval '30 days' WHERE org_id = $1`, [org]);
    // The batch's insert, as queueReplayBatch runs it, in a transaction held open.
    const writer = await openWriter(tdb.db, (tx) => tx.query(QUEUE_REPLAYED_SQL, [org, d, [old]]));

    try {
      expect((await pruneOnce(tdb.db, 7)).events).toBe(0);
    } finally {
      await writer.commit();
    }

    expect((await jobs(tdb.db, d)).map((j) => j.event_id)).toEqual([old]);
    expect(await eventsOfOrg(tdb.db, org)).toBe(1);
  });
});
