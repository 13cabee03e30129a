// /metrics must never report an empty queue it could not read. A scrape whose queue read fails (the
// database away, or the jobs table locked by a session outside the service) leaves the queue series
// out and says so in aegis_queue_read_ok 0, with and without AEGIS_METRICS_TOKEN; and on PostgreSQL
// the read gives up on its own short deadline (QUEUE_READ_TIMEOUT_MS), well before the API pool's
// 30 s statement limit and Prometheus' 10 s scrape timeout, so the scrape still answers.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics.js';
import { openPg } from '../../../src/db/pg.js';
import type { Db } from '../../../src/db/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { metricSum } from '../../support/metrics.js';
import { addEvents, newDestination, newOrg } from '../queue/support.js';

const QUEUE_SERIES = ['aegis_queue_depth', 'aegis_queue_oldest_due_age_seconds', 'aegis_queue_org_depth', 'aegis_queue_org_oldest_due_age_seconds'];

async function scrape(db: Db, perDestination: boolean): Promise<string> {
  return createMetrics(db, { perDestination }).registry.metrics();
}

function expectNoQueueSeries(text: string) {
  for (const name of QUEUE_SERIES) expect(text, name).not.toMatch(new RegExp(`^${name}[ {]`, 'm'));
}

describe.each(DB_KINDS)('queue series on /metrics (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
    await tdb.reset();
    const org = await newOrg(tdb.db);
    await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 3);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  it.each([false, true])('are read and flagged aegis_queue_read_ok 1 when the read works (token: %s)', async (perDestination) => {
    const text = await scrape(tdb.db, perDestination);
    expect(metricSum(text, 'aegis_queue_read_ok')).toBe(1);
    expect(metricSum(text, 'aegis_queue_depth')).toBe(3);
    expect(text).toMatch(/^aegis_queue_oldest_due_age_seconds[ {]/m);
  });

  it.each([false, true])('are absent, never 0, and aegis_queue_read_ok is 0 when the database is away (token: %s)', async (perDestination) => {
    // A real outage: a closed embedded database, or a server that refuses connections.
    let gone: Db;
    if (kind === 'pglite') {
      const other = await openTestDb('pglite');
      await other.close();
      gone = other.db;
    } else {
      gone = openPg({ connectionString: 'postgres://postgres@127.0.0.1:1/none', max: 1 });
    }
    try {
      const text = await scrape(gone, perDestination);
      expect(metricSum(text, 'aegis_queue_read_ok')).toBe(0);
      expectNoQueueSeries(text);
      // The process series are still there.
      expect(text).toMatch(/^aegis_worker_events_held /m);
    } finally {
      if (kind === 'postgres') await gone.close();
    }
  });
});

describe('a queue read behind a lock held outside the service (postgres)', () => {
  let tdb: TestDb;
  let api: Db;
  let locker: pg.Client | null = null;
  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    const org = await newOrg(tdb.db);
    await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 2);
    // As the API's pool: 30 s statement limit (AEGIS_DB_API_STATEMENT_TIMEOUT_MS's default).
    api = openPg({ connectionString: tdb.url!, max: 2, statementTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await locker?.end().catch(() => undefined);
    await api?.close();
    await tdb?.close();
  });

  // The vitest ceiling (20 s) is below the pool's 30 s: a read with no deadline of its own fails it.
  it.each([false, true])(
    'gives up on its own deadline: no queue series, aegis_queue_read_ok 0, and the server no longer waits (token: %s)',
    async (perDestination) => {
      // The pool's connection is open before the lock: the read's 5 s deadline counts from the scrape,
      // and a connection made on a loaded machine must not eat into the server's 3 s statement limit.
      await api.query('SELECT 1');
      locker = new pg.Client({ connectionString: tdb.url! });
      locker.on('error', () => undefined);
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE forwarding_jobs IN ACCESS EXCLUSIVE MODE');
      try {
        const text = await scrape(api, perDestination);
        expect(metricSum(text, 'aegis_queue_read_ok')).toBe(0);
        expectNoQueueSeries(text);
        // Ended on the server, not just abandoned by the client: nothing waits for the lock any more
        // (polled: should the client have given up first, the server's statement limit ends it soon).
        const waiting = async () =>
          (await locker!.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'forwarding_jobs'::regclass`)).rows[0]!
            .n;
        await expect.poll(waiting, { timeout: 10_000, interval: 100 }).toBe(0);
      } finally {
        await locker.end().catch(() => undefined);
        locker = null;
      }
      // The lock gone, the next scrape reads the queue again.
      const after = await scrape(api, perDestination);
      expect(metricSum(after, 'aegis_queue_read_ok')).toBe(1);
      expect(metricSum(after, 'aegis_queue_depth')).toBe(2);
    },
    20_000,
  );
});

describe('a queue read behind other work on the embedded database (pglite)', () => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb('pglite');
    const org = await newOrg(tdb.db);
    await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 4);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  // PGlite is one connection and has no statement_timeout: a transaction in progress holds every other
  // statement, the scrape's too. The scrape answers at its own deadline all the same.
  it('answers without the queue series while the read waits, and reads it once the way is free', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const inTx = new Promise<void>((r) => (started = r));
    const tx = tdb.db.transaction(async (t) => {
      await t.query('SELECT 1');
      started();
      await held;
    });
    await inTx;
    const m = createMetrics(tdb.db, { perDestination: false });
    try {
      const text = await m.registry.metrics();
      expect(metricSum(text, 'aegis_queue_read_ok')).toBe(0);
      expectNoQueueSeries(text);
    } finally {
      release();
      await tx;
    }
    const after = await m.registry.metrics();
    expect(metricSum(after, 'aegis_queue_read_ok')).toBe(1);
    expect(metricSum(after, 'aegis_queue_depth')).toBe(4);
  }, 20_000);
});
