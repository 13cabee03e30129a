// The queue counts on a destination's view and the dead-letter list's total are bounded: a tenant's
// backlog of a million jobs must not make its reads (and, on a shared database, everyone's) slower.
// Each count stops at QUEUE_COUNT_CAP, the /metrics gauges' cap too; below it the counts are exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_COUNT_CAP } from '../../../src/queue/countCap.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';

const CAP = QUEUE_COUNT_CAP;
// Fixed times: the oldest pending job's creation is known to the millisecond.
const T0 = '2026-01-01T00:00:00Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

describe.each(DB_KINDS)('destination queue counts are capped (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };
  let seq = 0;
  const base = () => `/api/orgs/${org.orgId}/forwarding-destinations`;
  const get = (path: string) => svc.request('GET', path, { apiKey: org.apiKey });

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // No worker: the seeded jobs stay as written.
    svc = await startTestService(tdb.db, {}, 'api');
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  /** A disabled destination written straight to the table: creating one through the API would queue its trail event. */
  async function newDestination(name: string, siem = 'custom'): Promise<string> {
    const id = `fwd_queuecounts_${kind}_${++seq}`;
    await tdb.db.query(`INSERT INTO destinations (org_id, id, siem, url, enabled, name) VALUES ($1, $2, $4, 'https://siem.example.com/in', false, $3)`, [
      org.orgId,
      id,
      name,
      siem,
    ]);
    return id;
  }

  /**
   * `n` events and one job each for `destinationId` in `status`, in two statements (as
   * bench/lib/setup.ts seedBacklog does): job g was created `g` seconds after T0 and is due then.
   */
  async function seedJobs(destinationId: string, status: 'pending' | 'failed', n: number): Promise<void> {
    const prefix = `evt_${destinationId}_${status}_`;
    await tdb.db.query(
      `INSERT INTO audit_events (org_id, id, occurred_at, payload)
       SELECT $1, $2 || g, $3::timestamptz + make_interval(secs => g), '{"event":{}}'::json FROM generate_series(1, $4::int) AS g`,
      [org.orgId, prefix, T0, n],
    );
    await tdb.db.query(
      `INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status, attempts, created_at, next_attempt_at, settled_at)
       SELECT $1, $2, $3 || g, $4, CASE WHEN $4 = 'failed' THEN 4 ELSE 0 END, t, t, CASE WHEN $4 = 'failed' THEN t END
         FROM generate_series(1, $6::int) AS g, LATERAL (SELECT $5::timestamptz + make_interval(secs => g) AS t) x`,
      [org.orgId, destinationId, prefix, status, T0, n],
    );
  }

  it('answers the cap (read "at least") for a backlog past it, on every view and the dead-letter total', async () => {
    const id = await newDestination('backlog');
    await seedJobs(id, 'pending', CAP + 50);
    await seedJobs(id, 'failed', CAP + 50);
    // A job waiting for a retry a little ahead: created an hour before the others, so it is the oldest.
    await tdb.db.query(`INSERT INTO audit_events (org_id, id, occurred_at, payload) VALUES ($1, $2, $3, '{}'::json)`, [
      org.orgId,
      `evt_${id}_retry`,
      at(-3600),
    ]);
    await tdb.db.query(`INSERT INTO forwarding_jobs (org_id, destination_id, event_id, attempts, created_at, next_attempt_at) VALUES ($1, $2, $3, 2, $4, $5)`, [
      org.orgId,
      id,
      `evt_${id}_retry`,
      at(-3600),
      at(100),
    ]);
    if (kind === 'postgres') await tdb.db.exec('ANALYZE forwarding_jobs');

    const one = await get(`${base()}/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ pending_events: CAP, failed_events: CAP, oldest_pending_at: at(-3600) });

    const list = await get(`${base()}?limit=100`);
    expect(list.status).toBe(200);
    expect(list.body.destinations.find((d: { destination_id: string }) => d.destination_id === id)).toMatchObject({
      pending_events: CAP,
      failed_events: CAP,
      oldest_pending_at: at(-3600),
    });

    const patched = await svc.request('PATCH', `${base()}/${id}`, { apiKey: org.apiKey, body: { name: 'backlog renamed' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'backlog renamed', pending_events: CAP, failed_events: CAP });

    const dead = await get(`${base()}/${id}/failed-events?limit=2`);
    expect(dead.status).toBe(200);
    expect(dead.body).toMatchObject({ total: CAP });
    expect(dead.body.events).toHaveLength(2);
  });

  it('a dead-letter replay counts the events too old for the SIEM once, up to the cap', async () => {
    // Datadog keeps 18 h: every seeded event (2026-01-01) is too old to send, so none is replayed and
    // all are reported; counted on every batch and without a bound, 80,000 took a second per request.
    const id = await newDestination('too old', 'datadog');
    await seedJobs(id, 'failed', CAP + 50);
    const res = await svc.request('POST', `${base()}/${id}/replay`, { apiKey: org.apiKey });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ replayed: 0, skipped_too_old: CAP });
    expect(res.body.message).toMatch(/^10,000 or more dead-lettered event\(s\) are older than Datadog Logs keeps \(18 h\)/);
  });

  it('counts exactly below the cap, and nothing for a destination with no jobs', async () => {
    const id = await newDestination('small');
    await seedJobs(id, 'pending', 3);
    await seedJobs(id, 'failed', 2);
    const quiet = await newDestination('quiet');

    const one = await get(`${base()}/${id}`);
    expect(one.body).toMatchObject({ pending_events: 3, failed_events: 2, oldest_pending_at: at(1) });
    expect((await get(`${base()}/${id}/failed-events`)).body).toMatchObject({ total: 2 });
    expect((await get(`${base()}/${quiet}`)).body).toMatchObject({ pending_events: 0, failed_events: 0, oldest_pending_at: null });
    expect((await get(`${base()}/${quiet}/failed-events`)).body).toMatchObject({ total: 0, events: [] });
  });
});
