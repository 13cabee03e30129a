// A background range replay whose database connection is cut mid-batch (pg_terminate_backend on the
// backend running the batch): the runner gives its claim up and the replay goes on after a short
// pause (1 s, doubling with each loss in a row: no tight reclaim loop), not after its lease. The lease here is an hour (AEGIS_LEASE_S=3600, the longest allowed), so a replay left
// claimed by the cut batch could only finish an hour later: the walk reaching done within the test's
// ceilings shows the claim was released. Every event is queued once: the cut batch rolled back, and
// the next claim goes on from the cursor the last commit left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { jobRows, seedEvents } from '../integration/delivery/support.js';
import { eventAt, holdEvent, type EventGate } from '../support/eventGate.js';

const BATCH = 50;
const EVENTS = 1000; // 20 batches
// Gates: the walk waits in the sixth batch, then (after the first cut) in the thirteenth.
const GATED_BATCHES = [5, 12];

describe('faults: a range replay whose database connection is cut (postgres)', () => {
  let tdb: TestDb;
  let svc: TestService;
  const gates: EventGate[] = [];

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db, { AEGIS_REPLAY_BATCH: String(BATCH), AEGIS_LEASE_S: '3600' }, 'all');
  });
  afterAll(async () => {
    for (const g of gates) await g.open().catch(() => undefined);
    await svc?.stop();
    await tdb?.close();
  });

  const progress = async (id: string) =>
    (
      await tdb.db.query<{ status: string; scanned: number; queued: number; already_pending: number; claim_id: string | null }>(
        'SELECT status, scanned::int AS scanned, queued::int AS queued, already_pending::int AS already_pending, claim_id FROM replays WHERE id = $1',
        [id],
      )
    ).rows[0]!;

  it('a batch cut by pg_terminate_backend gives the claim up: the replay resumes after a short pause and finishes, every event queued once', async () => {
    const org = await svc.newOrg();
    const ids = await seedEvents(tdb.db, org.orgId, EVENTS);
    const created = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: 'https://127.0.0.1:9/hook', enabled: false },
    });
    expect(created.status, created.text).toBe(201);
    const dest = created.body.destination_id as string;
    for (const b of GATED_BATCHES) gates.push(await holdEvent(tdb.db, org.orgId, await eventAt(tdb.db, org.orgId, b * BATCH + BATCH / 2)));

    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations/${dest}/replay`, {
      apiKey: org.apiKey,
      body: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(res.status, res.text).toBe(202);
    const id = res.body.replay_id as string;

    for (const [i, gate] of gates.entries()) {
      // The runner's batch waits on the gate with its transaction open; its connection is cut there.
      // At the second gate twice: the walk after the first of those cuts commits nothing before the
      // next, so its pause doubles.
      for (let cut = 0; cut < (i === 1 ? 2 : 1); cut++) {
        await expect
          .poll(() => gate.waiting(), { timeout: 60_000, interval: 50, message: `the walk reaches gate ${i + 1} (cut ${cut + 1} there)` })
          .toBeGreaterThan(0);
        expect(await progress(id)).toMatchObject({ status: 'running', scanned: GATED_BATCHES[i]! * BATCH });
        // The replay's batch, waiting on the gate with its transaction open: it alone.
        expect(await gate.cutWaiting()).toBe(1);
      }
      await gate.open();
    }

    // Done long before the hour-long lease could run out: the cut batch's claim was given up.
    await expect.poll(async () => (await progress(id)).status, { timeout: 120_000, interval: 200 }).toBe('done');
    expect(await progress(id)).toMatchObject({ scanned: EVENTS, queued: EVENTS, already_pending: 0, claim_id: null });
    const jobs = await jobRows(tdb.db, dest);
    expect(jobs).toHaveLength(EVENTS);
    expect(new Set(jobs.map((j) => j.event_id))).toEqual(new Set(ids));
    const claims = svc.logs.lines.filter((l) => l.includes(id) && l.includes('range replay claimed') && l.includes('"resumed":true'));
    expect(claims.length).toBeGreaterThanOrEqual(GATED_BATCHES.length + 1);
    const released = svc.logs.lines.filter((l) => l.includes(id) && l.includes('lost its database connection') && l.includes('"outcome":"released"'));
    expect(released).toHaveLength(GATED_BATCHES.length + 1);
    // A walk that committed batches before its loss pauses 1 s; one that committed none since the
    // last loss, twice as long.
    expect(released.map((l) => (JSON.parse(l) as { paused_ms: number }).paused_ms)).toEqual([1000, 1000, 2000]);
  });
  // A review's: a refusal for want of resources (disk full) counts as the database unavailable, and
  // given up like a lost connection the replay was claimed again at once and refused again, about 85
  // times a second. Such a batch keeps its claim: the lease is the pause before the next try.
  it('a batch refused for a full disk keeps its claim: no reclaim loop, the lease waits', async () => {
    const org = await svc.newOrg();
    await seedEvents(tdb.db, org.orgId, 4 * BATCH);
    const created = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: 'https://127.0.0.1:9/hook', enabled: false },
    });
    expect(created.status, created.text).toBe(201);
    const dest = created.body.destination_id as string;
    // The background batches (the request queued the first itself) are refused as PostgreSQL refuses
    // a write on a full disk.
    await tdb.db.exec(`
      CREATE FUNCTION disk_full_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.destination_id = '${dest}' AND NEW.scanned > OLD.scanned AND OLD.scanned >= ${BATCH} THEN
          RAISE EXCEPTION 'could not extend file (test)' USING ERRCODE = 'disk_full';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER disk_full_for_test BEFORE UPDATE ON replays FOR EACH ROW EXECUTE FUNCTION disk_full_for_test();`);
    try {
      const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations/${dest}/replay`, {
        apiKey: org.apiKey,
        body: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() },
      });
      expect(res.status, res.text).toBe(202);
      const id = res.body.replay_id as string;
      const outcomes = () => svc.logs.lines.filter((l) => l.includes(id) && l.includes('"outcome"'));
      await expect.poll(() => outcomes().length, { timeout: 60_000, interval: 100, message: 'the refused batch ends its run' }).toBeGreaterThan(0);
      expect(outcomes()[0]).toContain('"outcome":"stopped"');
      const row = await progress(id);
      expect(row).toMatchObject({ status: 'running', scanned: BATCH });
      expect(row.claim_id).not.toBeNull();
      expect(svc.logs.lines.filter((l) => l.includes(id) && l.includes('range replay claimed'))).toHaveLength(1);
    } finally {
      await tdb.db.exec('DROP TRIGGER disk_full_for_test ON replays; DROP FUNCTION disk_full_for_test();');
    }
  });
});
