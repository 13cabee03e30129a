import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertAttempts } from '../../../src/queue/attempts.js';
import { PRUNE_STATEMENTS, prune, pruneOnce } from '../../../src/queue/prune.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, attemptRows, jobs, newDestination, newOrg } from './support.js';
import { explain, inRolledBackTransaction, scans } from '../../support/plans.js';
import { QUEUE_REPLAYED_SQL } from '../../../src/queue/replayRange.js';
import { waitFor } from '../../support/waitFor.js';
import { openPg } from '../../../src/db/pg.js';

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

  it('prune has no cap on passes: a backlog of many batches goes in one call; shouldStop ends it between passes', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 150);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'done', settled_at = ${OLD}`);
    await tdb.db.query(`UPDATE audit_events SET recorded_at = ${OLD}`);
    // Batches of one: 150 passes, past the 100 the hourly prune used to stop at.
    expect(await prune(tdb.db, 7, { batch: 1 })).toEqual({ jobs: 150, attempts: 0, events: 150 });
    expect(await jobs(tdb.db, dest)).toEqual([]);
    await addEvents(tdb.db, org, 5);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'done', settled_at = ${OLD}`);
    let passes = 0;
    expect(await prune(tdb.db, 7, { batch: 1, shouldStop: () => passes++ >= 2 })).toEqual({ jobs: 2, attempts: 0, events: 0 });
  });

  // Dead letters keep their old events, at the head of the events' time range. A run reads past them
  // once and then starts each pass where the last one stopped; every deletable event still goes.
  it('deletes every old event behind old ones that stay, across many passes', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const kept = await addEvents(tdb.db, org, 12);
    const gone = await addEvents(tdb.db, org, 10);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = ${OLD} WHERE event_id = ANY($1)`, [kept]);
    // Their jobs settled in the order the events were recorded, as a live queue settles them.
    await tdb.db.query(
      `UPDATE forwarding_jobs j SET status = 'done', settled_at = now() - interval '10 days' + o.n * interval '1 second'
         FROM unnest($1::text[]) WITH ORDINALITY AS o(id, n) WHERE j.event_id = o.id`,
      [gone],
    );
    // Distinct times, the kept ones oldest: twenty-two seconds apart from 20 days ago.
    await tdb.db.query(
      `UPDATE audit_events a SET recorded_at = now() - interval '20 days' + o.n * interval '1 second'
         FROM unnest($1::text[]) WITH ORDINALITY AS o(id, n) WHERE a.id = o.id`,
      [[...kept, ...gone]],
    );
    expect(await prune(tdb.db, 7, { batch: 3 })).toEqual({ jobs: 10, attempts: 0, events: 10 });
    const { rows } = await tdb.db.query<{ id: string }>(`SELECT id FROM audit_events ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual([...kept].sort());
    expect((await jobs(tdb.db, dest)).map((j) => j.status)).toEqual(kept.map(() => 'failed'));
  });

  // Retention's cost per batch must not grow with the tables (issue 12: 100,000,000 events). On a
  // few rows the planner rightly reads whole tables, so sequential scans and the joins that read
  // both sides whole (hash, merge) are priced out, as a large table prices them. Then every table
  // each statement reads must be reached by TID or through an index range: a condition on the
  // index's leading column and no filter left over (a scan that filters walks a range that grows
  // with the table, e.g. all of an organization's jobs). The last statement is what deleting events
  // runs on forwarding_jobs (a trigger's, migration 0017, over the batch's rows; hash and merge joins off
  // as there; cascades.test.ts counts its real scans). The plans at 2,000,000 events are in
  // docs/BENCHMARKS.md (retention).
  it('reaches every row it deletes or checks through an index range', async () => {
    await setup();
    const statements = {
      ...PRUNE_STATEMENTS,
      cascade: `DELETE FROM forwarding_jobs j USING (VALUES ($1::text, $2::text)) AS g(org_id, id) WHERE j.org_id = g.org_id AND j.event_id = g.id`,
    };
    const unbounded: string[] = [];
    await inRolledBackTransaction(tdb.db, async (tx) => {
      for (const k of ['enable_seqscan', 'enable_hashjoin', 'enable_mergejoin']) await tx.query(`SET LOCAL ${k} = off`);
      const { rows: idx } = await tx.query<{ name: string; lead: string; pred: string | null }>(
        `SELECT c.relname AS name, a.attname AS lead, pg_get_expr(i.indpred, i.indrelid) AS pred FROM pg_index i
           JOIN pg_class c ON c.oid = i.indexrelid
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
          WHERE c.relnamespace = current_schema()::regnamespace`,
      );
      const lead = new Map(idx.map((r) => [r.name, r.lead]));
      // A row-locking read (FOR UPDATE) re-checks a partial index's own predicate on each row it
      // returns: that filter is true of every entry in the range, so it does not widen it.
      const predicate = new Map(idx.map((r) => [r.name, r.pred]));
      // The events statement's NOT EXISTS is a probe of forwarding_jobs_event per candidate behind an
      // OFFSET 0 fence (PRUNE_STATEMENTS), run as a filter: it drops the events a job still holds,
      // as the anti join it was before did, and its own index scan is a node of the plan checked here
      // like any other. Any other condition in a filter still counts as widening the range.
      const probeOnly = /^\(NOT (EXISTS)?\(SubPlan \d+\)\)$/;
      const filters = (f: string | undefined) => f !== undefined && !probeOnly.test(f);
      for (const [name, sql] of Object.entries(statements)) {
        // The events' lock with and without its starting point (a later pass, the first one).
        const paramSets =
          name === 'cascade'
            ? [['org', 'evt']]
            : name === 'eventsLock'
              ? [
                  [7, 5000, null],
                  [7, 5000, '2026-01-01T00:00:00.123456Z'],
                ]
              : name === 'eventsDelete'
                ? [[['(0,1)', '(0,2)']]]
                : [[7, 5000]];
        for (const params of paramSets) {
          const read = scans(await explain(tx, sql, params));
          // Every statement reads something: an empty list would pass the checks below for nothing.
          expect(read.length, `${name}: tables read`).toBeGreaterThan(0);
          for (const n of read) {
            const what = `${name}: ${n['Node Type']} on ${n['Index Name'] ?? n['Relation Name']}`;
            if (n['Node Type'] === 'Tid Scan') continue;
            // A bitmap's range is its index scan's (checked as a node of its own); a filter on the heap is not.
            if (n['Node Type'] === 'Bitmap Heap Scan') {
              if (filters(n.Filter)) unbounded.push(`${what} (filters ${n.Filter})`);
            } else if (!n['Index Name']) unbounded.push(what);
            else if (!new RegExp(`\\b${lead.get(n['Index Name'])}\\b`).test(n['Index Cond'] ?? '')) unbounded.push(`${what} (no range on its leading column)`);
            else if (filters(n.Filter) && n.Filter !== predicate.get(n['Index Name'])) unbounded.push(`${what} (filters ${n.Filter})`);
          }
        }
      }
    });
    expect(unbounded).toEqual([]);
  });

  // The delete is handed a full batch of ctids as one parameter. As `ctid = ANY($1)` the planner
  // priced a TID scan at the batch's 5,000 elements and chose to read the whole table below about
  // 20,000 pages (a review: a sequential scan per batch at 100,000 events, on PGlite at every size);
  // behind ARRAY(SELECT unnest(...)) it plans for a few and reads exactly the rows it is given.
  it('deletes a full batch of locked events by TID, on a table of 100,000 events', async () => {
    await setup();
    const ctids = Array.from({ length: 5000 }, (_, i) => `(${Math.floor(i / 50)},${(i % 50) + 1})`);
    await inRolledBackTransaction(tdb.db, async (tx) => {
      // The size of a table of 100,000 events (about 6,400 pages), as its statistics would say.
      await tx.query(`UPDATE pg_class SET reltuples = 100000, relpages = 6400 WHERE oid = 'audit_events'::regclass`);
      const read = scans(await explain(tx, PRUNE_STATEMENTS.eventsDelete, [ctids])).filter((n) => n['Relation Name'] === 'audit_events');
      expect(read.map((n) => n['Node Type'])).toEqual(['Tid Scan']);
    });
  });

  it('keeps everything younger than the retention period', async () => {
    const { dest } = await setup();
    expect(await prune(tdb.db, 30)).toEqual({ jobs: 0, attempts: 0, events: 0 });
    expect(await jobs(tdb.db, dest)).toHaveLength(6);
  });
});

// Retention against a replay that queues the same old event (PostgreSQL: two sessions at once). The
// events are locked in one statement and judged in the next, under a snapshot taken after the locks:
// judged on the locking statement's own snapshot, a job committed between that snapshot and the lock
// was not seen, and the delete's cascade took it (the replay had counted it queued).
describe('queue: prune against a replay of the same events (postgres)', () => {
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

  /** One old event with no job left: what retention deletes. */
  async function oldEventWithoutJob() {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const [event] = await addEvents(tdb.db, org, 1);
    await tdb.db.query(`DELETE FROM forwarding_jobs`);
    await tdb.db.query(`UPDATE audit_events SET recorded_at = now() - interval '10 days'`);
    return { org, dest, event: event! };
  }
  const eventIds = async () => (await tdb.db.query<{ id: string }>(`SELECT id FROM audit_events`)).rows.map((r) => r.id);

  it('keeps an event, and its job, when the job is committed after the event was picked', async () => {
    const { org, dest, event } = await oldEventWithoutJob();
    const r = await pruneOnce(tdb.db, 7, 10, {
      // Another session commits a job for the event while retention holds it: as a replay that
      // committed just before the lock would have.
      eventsLocked: async () => {
        await tdb.db.query(`INSERT INTO forwarding_jobs (org_id, destination_id, event_id) VALUES ($1, $2, $3)`, [org, dest, event]);
      },
    });
    expect(r.events).toBe(0);
    expect(await eventIds()).toEqual([event]);
    expect((await jobs(tdb.db, dest)).map((j) => [j.event_id, j.status])).toEqual([[event, 'pending']]);
  });

  it('keeps the event on a server whose default isolation is repeatable read: transactions say read committed', async () => {
    // The operator's setting, for every connection of this pool.
    const url = new URL(tdb.url!);
    url.searchParams.set('options', `${url.searchParams.get('options')} -c default_transaction_isolation=repeatable\\ read`);
    const rr = openPg({ connectionString: url.toString(), max: 2 });
    try {
      expect((await rr.query<{ i: string }>("SELECT current_setting('default_transaction_isolation') AS i")).rows[0]!.i).toBe('repeatable read');
      const { org, dest, event } = await oldEventWithoutJob();
      const r = await pruneOnce(rr, 7, 10, {
        eventsLocked: async () => {
          await tdb.db.query(`INSERT INTO forwarding_jobs (org_id, destination_id, event_id) VALUES ($1, $2, $3)`, [org, dest, event]);
        },
      });
      expect(r.events).toBe(0);
      expect(await eventIds()).toEqual([event]);
      expect((await jobs(tdb.db, dest)).map((j) => j.event_id)).toEqual([event]);
    } finally {
      await rr.close();
    }
  });

  it('a replay that comes while retention holds the event waits, then queues nothing: the event is gone', async () => {
    const { org, dest, event } = await oldEventWithoutJob();
    // The replay's own connection, so the wait below is for it and no other file's session.
    const replayDb = openPg({ connectionString: tdb.url!, max: 1 });
    try {
      const replayPid = (await replayDb.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      let replay: Promise<{ queued: number }> | undefined;
      const r = await pruneOnce(tdb.db, 7, 10, {
        eventsLocked: async () => {
          replay = replayDb.query<{ queued: number }>(QUEUE_REPLAYED_SQL, [org, dest, [event]]).then((q) => q.rows[0]!);
          // The replay's lock on the event waits for retention's transaction.
          await waitFor(
            'the replay waiting for the event',
            async () =>
              (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [replayPid]))
                .rows[0]!.n,
            (n) => n > 0,
          );
        },
      });
      expect(r.events).toBe(1);
      expect(await replay).toEqual(expect.objectContaining({ queued: 0 }));
      expect(await eventIds()).toEqual([]);
      expect(await jobs(tdb.db, dest)).toEqual([]);
    } finally {
      await replayDb.close();
    }
  });
});
