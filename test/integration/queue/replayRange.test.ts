// Range replay's job-creating statement (src/queue/replayRange.ts), called directly on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { sliced } from '../../../src/filters/loopSlice.js';
import { QUEUE_REPLAYED_SQL, REVIVE_REPLAYED_SQL, queueReplayBatch, type WindowPosition } from '../../../src/queue/replayRange.js';
import { REPLAY_FAILED_SQL } from '../../../src/queue/deadLetters.js';
import type { Db, Queryable } from '../../../src/db/types.js';
import { addEvents, analyzeWithOthersJobs, newDestination, newOrg, type OthersJobs } from './support.js';
import { explain, inRolledBackTransaction, indexesOf, planNodes, type PlanNode } from '../../support/plans.js';

const FROM = new Date('2026-06-01T00:00:00Z');
const TO = new Date('2026-06-02T00:00:00Z');

async function pendingFor(db: Db, destinationId: string): Promise<string[]> {
  const { rows } = await db.query<{ event_id: string }>(
    `SELECT event_id FROM forwarding_jobs WHERE destination_id = $1 AND status = 'pending' ORDER BY event_id`,
    [destinationId],
  );
  return rows.map((r) => r.event_id);
}

describe.each(DB_KINDS)('queueReplayBatch (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  it('walks the window in bounded batches, each event once, only this organization and only [from, to)', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org, { enabled: false });
    // Many events share one occurred_at: the (occurred_at, id) position must not skip or repeat ties.
    const inside = [...(await addEvents(tdb.db, org, 23, FROM)), ...(await addEvents(tdb.db, org, 4, new Date('2026-06-01T10:00:00.123Z')))];
    await addEvents(tdb.db, org, 2, TO); // `to` is exclusive
    await addEvents(tdb.db, org, 2, new Date(FROM.getTime() - 1));
    await addEvents(tdb.db, await newOrg(tdb.db), 3, FROM); // another organization
    let after: WindowPosition | null = null;
    const sizes: number[] = [];
    for (;;) {
      const r = await queueReplayBatch(tdb.db, { orgId: org, destinationId: dest, from: FROM, to: TO, after, batch: 5 });
      sizes.push(r.queued);
      if (r.scanned < 5) break;
      after = r.last;
    }
    expect(sizes).toEqual([5, 5, 5, 5, 5, 2]);
    expect(await pendingFor(tdb.db, dest)).toEqual([...inside].sort());
    // Again: every event already has a pending job, so nothing is queued twice.
    const again = await queueReplayBatch(tdb.db, { orgId: org, destinationId: dest, from: FROM, to: TO, after: null, batch: 100 });
    expect(again).toMatchObject({ scanned: 27, queued: 0 });
    expect(await pendingFor(tdb.db, dest)).toHaveLength(27);
  });

  // A filters review: a batch's events were checked against the destination's filter in one go, up to
  // 50,000 of them, holding the event loop (every tenant's requests) a third of a second and more.
  it('gives other work turns while it checks a batch against a filter, and queues what the filter matches', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org, { enabled: false });
    const ids = await addEvents(tdb.db, org, 300, FROM);
    let turns = 0;
    let checks = 0;
    let turnsAtFirstCheck = 0;
    let turnsAtLastCheck = 0;
    // A filter that takes its time: about 0.1 ms an event, 30 ms for the batch.
    const matches = (payload: Record<string, unknown>) => {
      if (checks === 0) turnsAtFirstCheck = turns;
      turnsAtLastCheck = turns;
      checks++;
      const until = performance.now() + 0.1;
      while (performance.now() < until);
      return payload !== null;
    };
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    try {
      const r = await queueReplayBatch(
        tdb.db,
        { orgId: org, destinationId: dest, from: FROM, to: TO, after: null, batch: 300 },
        { before: async () => ({ select: sliced(matches) }) },
      );
      expect(r).toMatchObject({ scanned: 300, queued: 300 });
    } finally {
      counting = false;
    }
    expect(checks).toBe(300);
    // Turns of the loop came between its first check and its last: the checks are 30 ms, several
    // slices of 4 ms.
    expect(turnsAtLastCheck - turnsAtFirstCheck).toBeGreaterThan(3);
    expect(await pendingFor(tdb.db, dest)).toEqual([...ids].sort());
  });

  it.runIf(kind === 'postgres')('a batch waits for another replay batch of the same destination to commit, so neither queues an event twice', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org, { enabled: false });
    const ids = await addEvents(tdb.db, org, 40, FROM);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // The real database, with the first batch's commit held until the gate opens.
    const held: Db = {
      ...tdb.db,
      transaction: (fn) =>
        tdb.db.transaction(async (tx) => {
          const r = await fn(tx);
          await gate;
          return r;
        }),
    };
    const args = { orgId: org, destinationId: dest, from: FROM, to: TO, after: null, batch: 100 };
    const first = queueReplayBatch(held, args);
    // Once the first batch holds the destination's replay lock (the two-key advisory lock of class "RPLY")...
    const lock = async (granted: boolean) =>
      (
        await tdb.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted = $3 AND objsubid = 2 AND classid = $1::oid AND objid = hashtext($2)::oid`,
          [0x52504c59, dest, granted],
        )
      ).rows[0]!.n;
    await expect.poll(() => lock(true), { timeout: 60_000 }).toBe(1);
    let finished = false;
    const second = queueReplayBatch(tdb.db, args).finally(() => (finished = true));
    // ...the second one queues behind it (seen in pg_locks, not guessed from a pause) and must not
    // finish while the first is uncommitted.
    await expect.poll(() => lock(false), { timeout: 60_000 }).toBe(1);
    const early = finished;
    open();
    const [a, b] = await Promise.all([first, second]);
    expect(early).toBe(false);
    expect(a.queued + b.queued).toBe(40);
    expect(await pendingFor(tdb.db, dest)).toEqual([...ids].sort());
  });

  // The duplicate check's cost per event must not depend on the statistics, because a replay is what
  // makes them stale: it adds the destination's pending jobs by the hundred thousand between two
  // ANALYZEs (PGlite never analyzes by itself). Believing the destination had none waiting, the
  // planner ran a plain NOT EXISTS as a hash of all its pending jobs per batch, so a replay of n events
  // read about n^2/10,000 index entries (docs/BENCHMARKS.md, range replay). Here the statistics are
  // taken before the destination has a job and 2,000 are added after, in one transaction (autovacuum
  // cannot refresh them in between). Every read of forwarding_jobs must then be a probe for the outer
  // row's event (an index condition on event_id = x.id), and no join may read a side whole.

  it('checks for pending jobs with one index probe per event, even on statistics from before the replay', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org, { enabled: false });
    const whole: string[] = [];
    let probes = 0;
    await inRolledBackTransaction(tdb.db, async (tx) => {
      await analyzeWithOthersJobs(tx, FROM);
      await tx.query(`INSERT INTO audit_events (org_id, id, occurred_at, payload) SELECT $1, 'evt_plan_' || g, $2, '{}' FROM generate_series(1, 2500) g`, [
        org,
        FROM,
      ]);
      await tx.query(`INSERT INTO forwarding_jobs (org_id, destination_id, event_id) SELECT $1, $2, 'evt_plan_' || g FROM generate_series(1, 2000) g`, [
        org,
        dest,
      ]);
      const jobIndexes = new Set(await indexesOf(tx, 'forwarding_jobs'));
      // A batch of events from 1,501 on: the first 500 already pending, the other 500 not.
      const ids = Array.from({ length: 1000 }, (_, i) => `evt_plan_${1501 + i}`);
      for (const n of planNodes(await explain(tx, QUEUE_REPLAYED_SQL, [org, dest, ids]))) {
        const type = n['Node Type'];
        const what = `${type} on ${n['Index Name'] ?? n['Relation Name'] ?? '-'}`;
        // A bitmap heap scan reads what its bitmap index scan (a node checked on its own) found.
        if (type === 'Hash Join' || type === 'Merge Join') whole.push(what);
        else if (n['Index Name'] !== undefined && jobIndexes.has(n['Index Name'])) {
          if (/\bevent_id = x\.id\b/.test(n['Index Cond'] ?? '')) probes++;
          else whole.push(`${what} (${n['Index Cond'] ?? 'no index condition'})`);
        } else if (n['Relation Name'] === 'forwarding_jobs' && type !== 'ModifyTable' && type !== 'Bitmap Heap Scan') whole.push(what);
      }
    });
    expect(whole).toEqual([]);
    expect(probes).toBe(1);
  });

  /**
   * The reads of forwarding_jobs in `plan` that are neither a probe for one event (an index condition
   * on event_id = an outer column) nor one of `allowed` (the statement's own rows: by primary key, or
   * the destination's dead letters), and every hash or merge join (a side read whole). Also counts the probes.
   */
  function wholeReads(plan: PlanNode, jobIndexes: Set<string>, allowed: RegExp): { whole: string[]; probes: number } {
    const whole: string[] = [];
    let probes = 0;
    for (const n of planNodes(plan)) {
      const type = n['Node Type'];
      const what = `${type} on ${n['Index Name'] ?? n['Relation Name'] ?? '-'}`;
      const cond = n['Index Cond'] ?? '';
      if (type === 'Hash Join' || type === 'Merge Join') whole.push(what);
      else if (n['Index Name'] !== undefined && jobIndexes.has(n['Index Name'])) {
        if (/\bevent_id = [a-z]+\.(id|event_id)\b/.test(cond)) probes++;
        else if (!allowed.test(`${n['Index Name']} ${cond}`)) whole.push(`${what} (${cond || 'no index condition'})`);
      } else if (n['Relation Name'] === 'forwarding_jobs' && type !== 'ModifyTable' && type !== 'Bitmap Heap Scan') whole.push(what);
      // A dead letter's event is read by its key, never the organization's events by org_id alone.
      else if (n['Relation Name'] === 'audit_events' && !(n['Index Name'] === 'audit_events_pkey' && /\bid = [a-z]+\.event_id\b/.test(cond)))
        whole.push(`${what} (${cond || 'no index condition'})`);
    }
    return { whole, probes };
  }

  /**
   * Statistics taken while the organization had no job, then 3,000 dead letters of its events for the
   * destination (and 200 pending jobs), in one transaction: the shape on which the revives' plain
   * NOT EXISTS ran as an anti join probing forwarding_jobs_event by org_id alone, or hashing all the
   * destination's jobs (on PostgreSQL 236 s for one batch of 5,000 over 200,000 dead letters).
   */
  async function staleDeadLetters(tx: Queryable, org: string, dest: string, others: OthersJobs): Promise<void> {
    await analyzeWithOthersJobs(tx, FROM, others);
    await tx.query(`INSERT INTO audit_events (org_id, id, occurred_at, payload) SELECT $1, 'evt_dl_' || g, $2, '{}' FROM generate_series(1, 3500) g`, [
      org,
      FROM,
    ]);
    await tx.query(
      `INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status, settled_at) SELECT $1, $2, 'evt_dl_' || g, 'failed', now() FROM generate_series(1, 3000) g`,
      [org, dest],
    );
    await tx.query(`INSERT INTO forwarding_jobs (org_id, destination_id, event_id) SELECT $1, $2, 'evt_dl_' || g FROM generate_series(3001, 3200) g`, [
      org,
      dest,
    ]);
  }

  /** The plan `sql` (given the org and destination) gets on statistics from before the dead letters. */
  async function planOnStaleStatistics(sql: string, params: (org: string, dest: string) => unknown[], allowed: RegExp, others: OthersJobs) {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org, { enabled: false });
    let found: { whole: string[]; probes: number } = { whole: ['not run'], probes: 0 };
    await inRolledBackTransaction(tdb.db, async (tx) => {
      await staleDeadLetters(tx, org, dest, others);
      const jobIndexes = new Set(await indexesOf(tx, 'forwarding_jobs'));
      found = wholeReads(await explain(tx, sql, params(org, dest)), jobIndexes, allowed);
    });
    return found;
  }

  const OTHERS: OthersJobs[] = ['delivered', 'dead letters of many destinations'];

  it.each(OTHERS)(
    'revives a range replay’s dead letters with one index probe per event, even on statistics from before the dead letters (others’ jobs: %s)',
    async (others) => {
      const ids = Array.from({ length: 1000 }, (_, i) => `evt_dl_${2501 + i}`);
      // The updated rows themselves, by primary key.
      const found = await planOnStaleStatistics(REVIVE_REPLAYED_SQL, (org, dest) => [org, dest, ids], /^forwarding_jobs_pkey .*\bid = /, others);
      expect(found.whole, found.whole.join('\n')).toEqual([]);
      // The batch's dead letters, then each one's other jobs.
      expect(found.probes).toBe(2);
    },
  );

  it.each(OTHERS)(
    'replays dead letters with one index probe per event for the duplicate check, even on statistics from before them (others’ jobs: %s)',
    async (others) => {
      // The destination's dead letters (the list walked in id order) and the updated rows by primary key.
      const allowed = /^(forwarding_jobs_failed .*\bdestination_id = |forwarding_jobs_pkey .*\bid = )/;
      const found = await planOnStaleStatistics(REPLAY_FAILED_SQL, (org, dest) => [org, dest, null, 5000, null, null, null], allowed, others);
      expect(found.whole, found.whole.join('\n')).toEqual([]);
      expect(found.probes).toBe(1);
    },
  );
});
