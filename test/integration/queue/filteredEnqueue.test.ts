import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../../src/db/types.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import { FilterRouter } from '../../../src/filters/router.js';
import { lockDestinationRow, lockOrgDestinationCounts } from '../../../src/destinations/writes.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { jobs, newDestination, newOrg } from './support.js';

// recordEvents with destination filters: the statement queues jobs only for matching events, and a
// filter changed after the router read it is never applied in its old form. Every test has its own
// organization and destinations, so the database is shared without a reset between tests.
describe.each(DB_KINDS)('queue: recordEvents with filters (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  const ev = (orgId: string, id: string, decision: string) => ({ orgId, id, occurredAt: new Date(), payload: { event: { id }, aegis: { decision } } });
  const setFilter = (id: string, filter: unknown) =>
    tdb.db.query('UPDATE destinations SET filter = $2, updated_at = now() WHERE id = $1', [id, filter === null ? null : JSON.stringify(filter)]);
  const eventIds = async (d: string) => (await jobs(tdb.db, d)).map((j) => j.event_id).sort();
  /** How many backends wait for a lock the backend `pid` holds (PostgreSQL). */
  const waitingFor = async (pid: number) =>
    (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid])).rows[0]!.n;

  /** The same database, counting the statements sent (to see the retry a stale routing causes). */
  function counting(db: Queryable): { db: Queryable; texts: string[] } {
    const texts: string[] = [];
    return {
      texts,
      db: {
        query: (text, values) => {
          texts.push(text.includes('INSERT INTO audit_events') ? 'record' : text.includes('md5(filter::text) AS version') ? 'read filters' : 'other');
          return db.query(text, values);
        },
        exec: (script) => db.exec(script),
      },
    };
  }

  it('an organization without filters records in one statement, with or without a router', async () => {
    const org = await newOrg(tdb.db);
    const d = await newDestination(tdb.db, org);
    const c = counting(tdb.db);
    await recordEvents(c.db, [ev(org, 'n1', 'BLOCKED')]);
    await recordEvents(c.db, [ev(org, 'n2', 'ALLOWED')], new FilterRouter());
    expect(c.texts).toEqual(['record', 'record']);
    expect(await eventIds(d)).toEqual(['n1', 'n2']);
  });

  it('queues a filtered destination only the events its filter matches, an unfiltered one all', async () => {
    const org = await newOrg(tdb.db);
    const all = await newDestination(tdb.db, org);
    const blocked = await newDestination(tdb.db, org);
    await setFilter(blocked, { 'aegis.decision': 'BLOCKED' });
    const r = await recordEvents(tdb.db, [ev(org, 'e1', 'BLOCKED'), ev(org, 'e2', 'ALLOWED'), ev(org, 'e3', 'BLOCKED')]);
    expect(r).toEqual({ inserted: ['e1', 'e2', 'e3'], jobs: 5 });
    expect(await eventIds(all)).toEqual(['e1', 'e2', 'e3']);
    expect(await eventIds(blocked)).toEqual(['e1', 'e3']);
    // Idempotent as before: recording them again queues nothing.
    expect(await recordEvents(tdb.db, [ev(org, 'e1', 'BLOCKED')])).toEqual({ inserted: [], jobs: 0 });
  });

  it('a filter changed after the router read it: nothing is recorded by the old one; the new one applies', async () => {
    const org = await newOrg(tdb.db);
    const d = await newDestination(tdb.db, org);
    await setFilter(d, { 'aegis.decision': 'BLOCKED' });
    const router = new FilterRouter();
    const c = counting(tdb.db);
    await recordEvents(c.db, [ev(org, 'a1', 'BLOCKED'), ev(org, 'a2', 'ALLOWED')], router);
    // A router guesses an organization it has not seen has no filters; the statement refutes it.
    expect(c.texts).toEqual(['record', 'read filters', 'record']);
    expect(await eventIds(d)).toEqual(['a1']);
    // The cached routing is used as is while the filter stays: one statement per call.
    c.texts.length = 0;
    await recordEvents(c.db, [ev(org, 'a3', 'BLOCKED')], router);
    expect(c.texts).toEqual(['record']);

    await setFilter(d, { 'aegis.decision': 'ALLOWED' }); // as a PATCH from another process would
    c.texts.length = 0;
    const r = await recordEvents(c.db, [ev(org, 'b1', 'BLOCKED'), ev(org, 'b2', 'ALLOWED')], router);
    // The first statement found the routing stale and recorded nothing; the retry used the new filter.
    expect(c.texts).toEqual(['record', 'read filters', 'record']);
    expect(r).toEqual({ inserted: ['b1', 'b2'], jobs: 1 });
    expect(await eventIds(d)).toEqual(['a1', 'a3', 'b2']);

    // Cleared in the database: the destination takes every event, even by a router that still
    // holds its old filter (destinations without a filter are joined in SQL).
    await setFilter(d, null);
    await recordEvents(tdb.db, [ev(org, 'c1', 'BLOCKED')], router);
    expect(await eventIds(d)).toContain('c1');
  });

  it('a filtered destination added or enabled after the router read the organization is applied at once', async () => {
    const org = await newOrg(tdb.db);
    const router = new FilterRouter();
    await recordEvents(tdb.db, [ev(org, 'x0', 'BLOCKED')], router);
    const added = await newDestination(tdb.db, org);
    await setFilter(added, { 'aegis.decision': 'ALLOWED' });
    const off = await newDestination(tdb.db, org, { enabled: false });
    await setFilter(off, { 'aegis.decision': 'BLOCKED' });
    await recordEvents(tdb.db, [ev(org, 'x1', 'BLOCKED'), ev(org, 'x2', 'ALLOWED')], router);
    expect(await eventIds(added)).toEqual(['x2']);
    expect(await eventIds(off)).toEqual([]);
    await tdb.db.query('UPDATE destinations SET enabled = true WHERE id = $1', [off]);
    await recordEvents(tdb.db, [ev(org, 'x3', 'BLOCKED'), ev(org, 'x4', 'ALLOWED')], router);
    expect(await eventIds(off)).toEqual(['x3']);
    expect(await eventIds(added)).toEqual(['x2', 'x4']);
  });

  // A filters review: the compiled filter of a destination deleted (or disabled, or unfiltered) stayed
  // until 10,000 newer ones pushed it out, and creating and deleting destinations with filters at
  // their limits filled the API's heap (about 215 KB each) until the process died.
  it('forgets the compiled filter of a deleted destination once the organization is read again', async () => {
    const org = await newOrg(tdb.db);
    const router = new FilterRouter();
    for (let i = 0; i < 20; i++) {
      const d = await newDestination(tdb.db, org);
      await setFilter(d, { 'aegis.decision': { $in: ['BLOCKED', `x${i}`] } });
      await recordEvents(tdb.db, [ev(org, `gone-${i}`, 'BLOCKED')], router);
      expect(router.compiledFilters.entries).toBe(1);
      await tdb.db.query('DELETE FROM destinations WHERE id = $1', [d]);
    }
    const kept = await newDestination(tdb.db, org);
    await setFilter(kept, { 'aegis.decision': 'ALLOWED' });
    await recordEvents(tdb.db, [ev(org, 'kept-1', 'ALLOWED'), ev(org, 'kept-2', 'BLOCKED')], router);
    expect(router.compiledFilters).toEqual({ entries: 1, chars: JSON.stringify({ 'aegis.decision': 'ALLOWED' }).length });
    expect(await eventIds(kept)).toEqual(['kept-1']);
  });

  it("one organization's filters never route another's events", async () => {
    const a = await newOrg(tdb.db);
    const b = await newOrg(tdb.db);
    const da = await newDestination(tdb.db, a);
    const db = await newDestination(tdb.db, b);
    await setFilter(da, { 'aegis.decision': 'BLOCKED' });
    await setFilter(db, { 'aegis.decision': 'ALLOWED' });
    await recordEvents(tdb.db, [ev(a, 'a1', 'BLOCKED'), ev(a, 'a2', 'ALLOWED'), ev(b, 'b1', 'BLOCKED'), ev(b, 'b2', 'ALLOWED')]);
    expect(await eventIds(da)).toEqual(['a1']);
    expect(await eventIds(db)).toEqual(['b2']);
  });

  // One organization's filters at their limits (4 KiB of $in lists each, on every enabled destination)
  // cost tens of microseconds an event each: checked in one go, a batch of 1,000 events held the API's
  // thread for most of a second, every other organization's requests waiting behind it. Routing now
  // hands the thread back every few milliseconds: another request's turn comes before the batch's end.
  it("gives other requests turns while it checks one organization's heavy filters", async () => {
    const org = await newOrg(tdb.db);
    const values = Array.from({ length: 87 }, (_, i) => String(i));
    const heavy = { $or: Array.from({ length: 9 }, () => ({ 'aegis.actor_id': { $in: values } })) };
    for (let i = 0; i < 5; i++) await setFilter(await newDestination(tdb.db, org), heavy);
    const router = new FilterRouter();
    await router.refresh(tdb.db, [org]);
    const events = Array.from({ length: 1000 }, (_, i) => ev(org, `h${i}`, 'BLOCKED'));
    const order: string[] = [];
    const routed = Promise.resolve(router.route(events)).then((r) => {
      order.push('routed');
      return r;
    });
    setImmediate(() => order.push('another request'));
    expect((await routed).pairs).toEqual([]);
    expect(order).toEqual(['another request', 'routed']);
  });

  // A batch recorded while a PATCH gave an unfiltered destination a filter waited for the PATCH's row
  // lock; PostgreSQL then judged the destination by its new row (filtered, matched by nothing the
  // router knew) while the freshness check judged it by the snapshot (unfiltered): no job at all, not
  // even for the events the new filter matches, in neither order. Now the locked rows are the ones
  // checked: the routing is stale, read again, and the new filter applied.
  it.runIf(kind === 'postgres')('a filter added while the batch waits for the lock is applied, not dropped', async () => {
    const org = await newOrg(tdb.db);
    const d = await newDestination(tdb.db, org);
    const router = new FilterRouter();
    await router.refresh(tdb.db, [org]);
    const holder = new pg.Client({ connectionString: tdb.url! });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await holder.query('SELECT 1 FROM destinations WHERE id = $1 FOR UPDATE', [d]);
      await holder.query('UPDATE destinations SET filter = $2, updated_at = now() WHERE id = $1', [d, JSON.stringify({ 'aegis.decision': 'BLOCKED' })]);
      const recorded = recordEvents(tdb.db, [ev(org, 'w1', 'BLOCKED'), ev(org, 'w2', 'ALLOWED')], router);
      await expect.poll(() => waitingFor(pid), { timeout: 60_000 }).toBe(1);
      await holder.query('COMMIT');
      expect((await recorded).inserted).toEqual(['w1', 'w2']);
      expect(await eventIds(d)).toEqual(['w1']);
    } finally {
      await holder.end();
    }
  });

  // A destination change holds its row locked while it records its trail event (the same transaction),
  // and recording locks the destinations given jobs (FOR KEY SHARE). Changes of two destinations of one
  // organization at once (an IaC tool applying in parallel) each waited for the other's row: one was
  // ended as a deadlock (a 500). The change's lock is one a share lock never waits for.
  it.runIf(kind === 'postgres')('two destinations changed at once, each recording its trail event, do not deadlock', async () => {
    const org = await newOrg(tdb.db);
    const x = await newDestination(tdb.db, org);
    const y = await newDestination(tdb.db, org);
    await setFilter(y, { 'aegis.decision': 'BLOCKED' });
    let bothLocked!: () => void;
    const locked = new Promise<void>((r) => (bothLocked = r));
    let lockedCount = 0;
    const change = (id: string, eventId: string) =>
      tdb.db.transaction(async (tx) => {
        expect(await lockDestinationRow(tx, org, id)).not.toBeNull();
        await tx.query('UPDATE destinations SET name = $2 WHERE id = $1', [id, `renamed ${eventId}`]);
        if (++lockedCount === 2) bothLocked();
        await locked;
        const router = new FilterRouter();
        await router.refresh(tx, [org]);
        return recordEvents(tx, [ev(org, eventId, 'BLOCKED')], router);
      });
    const results = await Promise.allSettled([change(x, 'c1'), change(y, 'c2')]);
    expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as Error).message)))).toEqual(['ok', 'ok']);
    expect(await eventIds(x)).toEqual(['c1', 'c2']);
    expect(await eventIds(y)).toEqual(['c1', 'c2']);
  });

  // Enabling a destination locks the organization, then the row. Recording must take the two in the
  // same order: locking the destinations first, a batch waiting for the organization held the row the
  // PATCH then asked for (a deadlock, whenever the PATCH sent enabled: true).
  it.runIf(kind === 'postgres')('a batch recorded while a PATCH enables a destination waits for it, no deadlock', async () => {
    const org = await newOrg(tdb.db);
    const x = await newDestination(tdb.db, org);
    let recorded: Promise<unknown> = Promise.resolve();
    await tdb.db.transaction(async (tx) => {
      await lockOrgDestinationCounts(tx, org);
      const pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      recorded = recordEvents(tdb.db, [ev(org, 'e-during', 'BLOCKED')]);
      await expect.poll(() => waitingFor(pid), { timeout: 60_000 }).toBe(1);
      expect(await lockDestinationRow(tx, org, x)).not.toBeNull();
      await recordEvents(tx, [ev(org, 'e-trail', 'ALLOWED')]);
    });
    await recorded;
    expect(await eventIds(x)).toEqual(['e-during', 'e-trail']);
  });
});
