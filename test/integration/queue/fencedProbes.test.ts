// Statements whose cost per row must not depend on the planner's statistics: the dead-letter replay's
// too-old and too-far-ahead counts (countBeyond, src/queue/deadLetters.ts), the range replay's insert
// (QUEUE_REPLAYED_SQL, src/queue/replayRange.ts) and retention's events pass (PRUNE_STATEMENTS.eventsLock,
// src/queue/prune.ts). Each one is explained on statistics that misdescribe the tables the way
// production's did (taken before the rows they read, or while every old event still had a job), and
// every read of audit_events and forwarding_jobs must then be a probe by the outer row's key, never a
// range, a whole table or a side hashed whole. The plans they had at 1,500,000 events, and what they
// cost, are in the comments on those statements.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTooFarAhead, countTooOld } from '../../../src/queue/deadLetters.js';
import { QUEUE_REPLAYED_SQL } from '../../../src/queue/replayRange.js';
import { PRUNE_STATEMENTS } from '../../../src/queue/prune.js';
import type { Queryable } from '../../../src/db/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { explain, inRolledBackTransaction, indexesOf, planNodes, type PlanNode } from '../../support/plans.js';
import { analyzeWithOthersJobs, dbNow, newDestination, newOrg } from './support.js';

/** The statement a function sends (its first), without running it: the fake answers no rows. */
async function statementOf(fn: (db: Queryable) => Promise<unknown>): Promise<{ text: string; values: unknown[] }> {
  const sent: { text: string; values: unknown[] }[] = [];
  const fake: Queryable = {
    async query<R>(text: string, values: readonly unknown[] = []) {
      sent.push({ text, values: [...values] });
      return { rows: [] as R[], rowCount: 0 };
    },
    async exec() {},
  };
  await fn(fake);
  return sent[0]!;
}

/** What a table may be probed by: its index on (org_id, <key>), with the key equal to an outer row's column. */
const PROBES: Record<string, { index: string; cond: RegExp }> = {
  audit_events: { index: 'audit_events_pkey', cond: /\bid = [a-z]+\.(id|event_id)\b/ },
  forwarding_jobs: { index: 'forwarding_jobs_event', cond: /\bevent_id = [a-z]+\.(id|event_id)\b/ },
};

/**
 * The reads of audit_events and forwarding_jobs in `plan` that are neither a probe (PROBES) nor one
 * of `allowed` ("index condition", the statement's own walk), and every hash or merge join (a side
 * read whole); with the number of probes per table.
 */
function offProbe(plan: PlanNode, indexes: Map<string, string>, allowed: RegExp | null): { off: string[]; probes: Record<string, number> } {
  const off: string[] = [];
  const probes: Record<string, number> = { audit_events: 0, forwarding_jobs: 0 };
  for (const n of planNodes(plan)) {
    const type = n['Node Type'];
    const index = n['Index Name'];
    const table = index !== undefined ? indexes.get(index) : n['Relation Name'];
    const cond = n['Index Cond'] ?? '';
    const what = `${type} on ${index ?? n['Relation Name'] ?? '-'}${cond ? ` (${cond})` : ''}`;
    if (type === 'Hash Join' || type === 'Merge Join') off.push(what);
    else if (table === undefined || !(table in PROBES)) continue;
    // The rows the statement itself deletes or inserts (by ctid, or the insert node), and a bitmap
    // heap scan's rows, which its bitmap index scan (a node checked on its own) found.
    else if (type === 'ModifyTable' || type === 'Tid Scan' || type === 'Bitmap Heap Scan') continue;
    else if (index === PROBES[table]!.index && PROBES[table]!.cond.test(cond)) probes[table]!++;
    else if (!(index !== undefined && allowed?.test(`${index} ${cond}`))) off.push(what);
  }
  return { off, probes };
}

async function tableIndexes(tx: Queryable): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const table of Object.keys(PROBES)) for (const i of await indexesOf(tx, table)) m.set(i, table);
  return m;
}

describe.each(DB_KINDS)('queue: per-row probes whatever the statistics (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  // A dead-letter replay with a maximum age (Datadog: 18 h) counts, once done, the dead letters it
  // left as too old, up to QUEUE_COUNT_CAP. On statistics from before them (the organization had a
  // few fresh events) the planner believed no event old enough and read, for each dead letter, the
  // organization's old events by (org_id, occurred_at) with the event id a join filter: about 5,000
  // index entries per dead letter, 32-51 s to count to 10,000 at 1,500,000 events.
  const tooOld = (db: Queryable, org: string, dest: string) => countTooOld(db, org, dest, null, 18 * 3600_000);
  const tooFarAhead = (db: Queryable, org: string, dest: string) => countTooFarAhead(db, org, dest, null, 2 * 3600_000);
  it.each([
    ['too old', tooOld, 'delivered'],
    ['too far ahead', tooFarAhead, 'delivered'],
    ['too old (others’ jobs: dead letters of many destinations)', tooOld, 'dead letters of many destinations'],
  ] as const)('counts dead letters %s reading each one’s event by its key, on statistics from before them', async (_name, count, others) => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org, { enabled: false });
    let found: ReturnType<typeof offProbe> = { off: ['not run'], probes: {} };
    await inRolledBackTransaction(tdb.db, async (tx) => {
      await analyzeWithOthersJobs(tx, await dbNow(tx), others);
      // A month of the organization's events, a dead letter for each of the oldest 3,000.
      await tx.query(
        `INSERT INTO audit_events (org_id, id, occurred_at, payload)
         SELECT $1, 'evt_dl_' || g, now() - interval '30 days' + g * interval '10 minutes', '{}' FROM generate_series(1, 4000) g`,
        [org],
      );
      await tx.query(
        `INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status, settled_at) SELECT $1, $2, 'evt_dl_' || g, 'failed', now() FROM generate_series(1, 3000) g`,
        [org, dest],
      );
      const { text, values } = await statementOf((db) => count(db, org, dest));
      found = offProbe(await explain(tx, text, values), await tableIndexes(tx), /^forwarding_jobs_failed .*\bdestination_id = /);
    });
    expect(found.off, found.off.join('\n')).toEqual([]);
    expect(found.probes.audit_events).toBe(1);
  });

  // A range replay queues a batch of 5,000 event ids at a time. With statistics that misjudge the
  // organization's share of the events, the planner hashed all of them (a bitmap scan by org_id) for
  // each batch: 137,000 buffers and 1.0-1.3 s per batch at 450,000 events of the organization, so a
  // window cost (window / 5,000) x the organization's events.
  it('queues a range replay’s batch probing each event by its key, on statistics from before the organization’s events', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org, { enabled: false });
    let found: ReturnType<typeof offProbe> = { off: ['not run'], probes: {} };
    await inRolledBackTransaction(tdb.db, async (tx) => {
      await analyzeWithOthersJobs(tx, await dbNow(tx));
      await tx.query(`INSERT INTO audit_events (org_id, id, occurred_at, payload) SELECT $1, 'evt_rp_' || g, now(), '{}' FROM generate_series(1, 4000) g`, [
        org,
      ]);
      const ids = Array.from({ length: 1000 }, (_, i) => `evt_rp_${1001 + i}`);
      found = offProbe(await explain(tx, QUEUE_REPLAYED_SQL, [org, dest, ids]), await tableIndexes(tx), null);
    });
    expect(found.off, found.off.join('\n')).toEqual([]);
    // Each event, then its jobs (the duplicate check).
    expect(found.probes).toEqual({ audit_events: 1, forwarding_jobs: 1 });
  });

  // Retention keeps an event while it has a job. On statistics taken while every old event had one
  // (and after the queue's churn left the job count far above what remains), the planner expected
  // no old event to go and ran the check as a hash anti join: every job read and all old events
  // hashed, 3.4-4.4 s for each pass of 5,000 at 1,500,000 events. And the batch must still be the
  // oldest deletable events walked in recorded_at order (audit_events_recorded), never all the old
  // events probed and then sorted: what the probe, once a filter, got with no statistics (the old
  // events priced at 0.5 % of the table, a batch or two), 2.9 s a pass at 1,000,000 events.
  it.each([
    ['every old event had a job', true],
    ['there were none (as after a restore)', false],
  ] as const)('prunes events walking them in time order and probing each one’s jobs by its key, on statistics from when %s', async (_name, withJobs) => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org, { enabled: false });
    const found: Record<string, ReturnType<typeof offProbe> & { sorts: number; walks: string[] }> = {};
    await inRolledBackTransaction(tdb.db, async (tx) => {
      // Stored out of time order, as nothing guarantees.
      await tx.query(
        `INSERT INTO audit_events (org_id, id, occurred_at, recorded_at, payload)
           SELECT $1, 'evt_old_' || g, t, t, '{}' FROM generate_series(1, 4000) g, LATERAL (SELECT now() - interval '30 days' + g * interval '1 minute' AS t) x
            ORDER BY md5(g::text)`,
        [org],
      );
      if (withJobs) {
        await tx.query(
          `INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status, settled_at) SELECT $1, $2, 'evt_old_' || g, 'failed', now() FROM generate_series(1, 4000) g`,
          [org, dest],
        );
        await tx.query('ANALYZE audit_events');
        await tx.query('ANALYZE forwarding_jobs');
      } else {
        // No statistics at all, made certain (PostgreSQL's autovacuum may have processed this
        // schema's tables meanwhile): the planner prices the time range at 0.5 % of the table.
        for (const table of ['audit_events', 'forwarding_jobs']) {
          await tx.query(`DELETE FROM pg_statistic WHERE starelid = $1::regclass`, [table]);
          await tx.query(`UPDATE pg_class SET reltuples = -1 WHERE oid = $1::regclass`, [table]);
        }
      }
      const indexes = await tableIndexes(tx);
      // The first pass of a run and a later one (from where the last stopped).
      for (const from of [null, '2026-01-01T00:00:00.123456Z']) {
        const plan = await explain(tx, PRUNE_STATEMENTS.eventsLock, [7, 5000, from]);
        found[String(from)] = {
          // The candidates come from the head of audit_events_recorded (a range on time, by design).
          ...offProbe(plan, indexes, /^audit_events_recorded .*\brecorded_at /),
          sorts: planNodes(plan).filter((n) => n['Node Type'] === 'Sort' || n['Node Type'] === 'Incremental Sort').length,
          walks: planNodes(plan)
            .filter((n) => n['Index Name'] === 'audit_events_recorded')
            .map((n) => n['Node Type']),
        };
      }
    });
    expect(Object.keys(found)).toHaveLength(2);
    for (const f of Object.values(found)) {
      expect(f.off, f.off.join('\n')).toEqual([]);
      expect(f.probes.forwarding_jobs).toBe(1);
      expect(f.sorts).toBe(0);
      expect(f.walks).toEqual(['Index Scan']);
    }
  });
});
