import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { queueDepth } from '../../../src/queue/prune.js';
import { createMetrics } from '../../../src/metrics.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, newDestination, newOrg } from './support.js';

// The queue figures behind /metrics: per destination and per organization, found from the jobs'
// indexes (bounded work), with counts capped.
describe.each(DB_KINDS)('queue depth for /metrics (%s)', (kind) => {
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

  it('counts pending and failed per destination, ages the oldest due job, and skips quiet destinations', async () => {
    const a = await newOrg(tdb.db);
    const b = await newOrg(tdb.db);
    const busy = await newDestination(tdb.db, a);
    const later = await newDestination(tdb.db, a);
    const other = await newDestination(tdb.db, b);
    await addEvents(tdb.db, a, 5);
    await addEvents(tdb.db, b, 2);
    const quiet = await newDestination(tdb.db, b); // created after the events: no jobs
    await tdb.db.query(`UPDATE forwarding_jobs SET next_attempt_at = now() - interval '120 seconds' WHERE destination_id = $1`, [busy]);
    await tdb.db.query(`UPDATE forwarding_jobs SET next_attempt_at = now() + interval '1 hour' WHERE destination_id = $1`, [later]);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = now() WHERE destination_id = $1`, [other]);

    const rows = await queueDepth(tdb.db);
    const by = new Map(rows.map((r) => [r.destinationId, r]));
    expect(by.has(quiet)).toBe(false);
    expect(by.get(busy)).toMatchObject({ orgId: a, pending: 5, failed: 0 });
    expect(by.get(busy)!.oldestDueAgeS).toBeGreaterThanOrEqual(119);
    expect(by.get(later)).toMatchObject({ orgId: a, pending: 5, failed: 0, oldestDueAgeS: 0 });
    expect(by.get(other)).toMatchObject({ orgId: b, pending: 0, failed: 2, oldestDueAgeS: 0 });
    // Capped counts: at least the cap.
    expect((await queueDepth(tdb.db, 3)).find((r) => r.destinationId === busy)).toMatchObject({ pending: 3 });

    // Per organization, only with per-destination labels (AEGIS_METRICS_TOKEN).
    const labelled = await createMetrics(tdb.db, { perDestination: true }).registry.metrics();
    expect(labelled).toContain(`aegis_queue_org_depth{org_id="${a}",status="pending"} 10`);
    expect(labelled).toContain(`aegis_queue_org_depth{org_id="${b}",status="failed"} 2`);
    expect(Number(new RegExp(`aegis_queue_org_oldest_due_age_seconds\\{org_id="${a}"\\} ([0-9.]+)`).exec(labelled)?.[1])).toBeGreaterThanOrEqual(119);
    const open = await createMetrics(tdb.db, { perDestination: false }).registry.metrics();
    expect(open).toMatch(/^aegis_queue_depth\{status="pending"\} 10$/m);
    expect(open).not.toContain('org_id');
    expect(open).not.toContain(a);
  });
});
