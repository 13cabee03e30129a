import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLAIM_JOBS_SQL, EXTEND_LEASE_SQL, claimJobs } from '../../../src/queue/claimJobs.js';
import { RELEASE_JOBS_SQL, settleClaimQuery } from '../../../src/queue/settleJobs.js';
import type { JobOutcome } from '../../../src/queue/types.js';
import type { Queryable } from '../../../src/db/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { explain, explainGeneric, inRolledBackTransaction, indexesOf, planNodes, type PlanNode } from '../../support/plans.js';
import { newDestination, newOrg, report } from './support.js';

// A claim's settle, release and lease renewal run once per claim of every destination: their cost
// must be the claim's size, whatever else waits in the queue and whatever the statistics say. With
// the organization and `status = 'pending'` in their conditions the planner could read an index by
// organization or a pending-only partial index instead; on statistics taken while the organization
// had few jobs it believed those few and read every job of the organization (dead entries included)
// to settle 64: 50-120 ms a settle at 1,000 events/s (docs/BENCHMARKS.md, migration 0016). Here the
// statistics are taken when another organization's jobs are all there is and all done, then 3,000
// jobs of another destination and 64 of the claimed one are queued in the same transaction.
describe.each(DB_KINDS)('queue: claim statements reach their jobs by id (%s)', (kind) => {
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

  async function queue(tx: Queryable, org: string, dest: string, from: number, n: number, status: 'pending' | 'done') {
    await tx.query(
      `INSERT INTO audit_events (org_id, id, occurred_at, payload) SELECT $1, 'evt_plan_' || g, now(), '{}' FROM generate_series($2::int, $3::int) g`,
      [org, from, from + n - 1],
    );
    await tx.query(
      `INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status) SELECT $1, $2, 'evt_plan_' || g, $4 FROM generate_series($3::int, $5::int) g`,
      [org, dest, from, status, from + n - 1],
    );
  }

  /**
   * Nodes that read forwarding_jobs other than by primary key with a condition on the job id (or, when
   * `due` is allowed, the destination's due jobs in order, which is how a claim picks them).
   */
  function offPrimaryKey(plan: Awaited<ReturnType<typeof explain>>, jobIndexes: Set<string>, due = false): string[] {
    const off: string[] = [];
    for (const n of planNodes(plan)) {
      const type = n['Node Type'];
      const index = n['Index Name'];
      const cond = n['Index Cond'] ?? '';
      if (index !== undefined && jobIndexes.has(index)) {
        const byId = index === 'forwarding_jobs_pkey' && /\bid = /.test(cond);
        const byDestination = due && index === 'forwarding_jobs_due' && /\bdestination_id = /.test(cond);
        if (!byId && !byDestination) off.push(`${type} on ${index} (${cond || 'no index condition'})`);
      } else if (n['Relation Name'] === 'forwarding_jobs' && type !== 'ModifyTable' && type !== 'Bitmap Heap Scan') off.push(`${type} on forwarding_jobs`);
    }
    return off;
  }

  // Planned for the values at hand (as an unnamed statement is), and as the generic plan a named
  // prepared statement (db/prepared.ts) settles on after its first executions: both must keep to ids
  // (the claim is not prepared, see CLAIM_JOBS_SQL, but a generic plan of it would keep to them too).
  const planners: Record<'custom' | 'generic', (tx: Queryable, sql: string, params: unknown[]) => Promise<PlanNode>> = {
    custom: explain,
    generic: (tx, sql, params) => explainGeneric(tx, sql, params.length),
  };

  it.each(['custom', 'generic'] as const)(
    'claim, settle, release and renewal read only the claimed rows, on statistics from before the queue grew (%s plan)',
    async (mode) => {
      const plan = planners[mode];
      // The statistics know only an older organization: to them, this one has no jobs at all.
      const older = await newOrg(tdb.db);
      const olderDest = await newDestination(tdb.db, older);
      const org = await newOrg(tdb.db);
      const claimedDest = await newDestination(tdb.db, org);
      const busyDest = await newDestination(tdb.db, org);
      const off: Record<string, string[]> = {};
      let claimedCount = 0;
      await inRolledBackTransaction(tdb.db, async (tx) => {
        await queue(tx, older, olderDest, 1, 200, 'done');
        await tx.query('ANALYZE forwarding_jobs');
        // A few thousand rows fit in a few pages, where reading the table is the planner's fair choice;
        // at the sizes this is about (hundreds of thousands of jobs) it is not. Out of the question
        // here, so the plan shows which index the statement would take.
        await tx.query('SET LOCAL enable_seqscan = off');
        await queue(tx, org, busyDest, 1001, 3000, 'pending');
        await queue(tx, org, claimedDest, 5001, 64, 'pending');
        const jobIndexes = new Set(await indexesOf(tx, 'forwarding_jobs'));
        const claimId = randomUUID();
        off.claim = offPrimaryKey(await plan(tx, CLAIM_JOBS_SQL, [org, claimedDest, 64, 60_000, claimId, null]), jobIndexes, true);
        const claimed = await claimJobs(tx, { orgId: org, destinationId: claimedDest, limit: 64, leaseMs: 60_000, claimId });
        claimedCount = claimed.length;
        const ids = claimed.map((j) => j.id);
        // Most delivered, a few to retry: both of the settle's updates have rows to find.
        const outcomes: JobOutcome[] = claimed.map((j, i) =>
          i < 60 ? { id: j.id, outcome: 'done' } : { id: j.id, outcome: 'retry', error: 'HTTP 503', statusCode: 503, delayMs: 1000 },
        );
        const settle = settleClaimQuery({
          orgId: org,
          claimId,
          outcomes,
          report: report(org, claimedDest, { n: 64, ok: false, status: 503, error: 'HTTP 503' }),
        });
        off.settle = offPrimaryKey(await plan(tx, settle.text, settle.values), jobIndexes);
        off.release = offPrimaryKey(await plan(tx, RELEASE_JOBS_SQL, [claimId, ids, null, null, 900_000]), jobIndexes);
        off.renewal = offPrimaryKey(await plan(tx, EXTEND_LEASE_SQL, [claimId, ids, 60_000]), jobIndexes);
      });
      expect(claimedCount).toBe(64);
      expect(off).toEqual({ claim: [], settle: [], release: [], renewal: [] });
    },
  );

  it('refuses a job that leaves pending with its claim id still set (the fence relies on it)', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await inRolledBackTransaction(tdb.db, async (tx) => {
      await queue(tx, org, dest, 1, 1, 'pending');
      await tx.query(`UPDATE forwarding_jobs SET claim_id = $2 WHERE org_id = $1`, [org, randomUUID()]);
      await expect(tx.query(`UPDATE forwarding_jobs SET status = 'done' WHERE org_id = $1`, [org])).rejects.toThrow(/forwarding_jobs_claimed_pending/);
    });
  });
});
