import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { pruneOnce } from '../../../src/queue/prune.js';
import { jobRows, seedEvents, sleep } from './support.js';

describe.each(DB_KINDS)('worker wake-up by NOTIFY, and retention (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let org: { orgId: string; apiKey: string };
  let destId: string;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    receiver = await startReceiver();
    // A worker-only process whose poll is 10 minutes: only a NOTIFY can wake it in this test.
    svc = await startTestService(tdb.db, { AEGIS_WORKER_INTERVAL_MS: '600000' }, 'worker');
    org = await svc.newOrg();
    // The worker role serves no REST API: a custom destination without credentials, straight in SQL.
    destId = 'fwd_notifytest';
    await tdb.db.query(`INSERT INTO destinations (org_id, id, siem, url, enabled) VALUES ($1, $2, 'custom', $3, true)`, [
      org.orgId,
      destId,
      `${receiver.url}/hook`,
    ]);
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('an event recorded by another writer is delivered promptly although the poll interval is 10 minutes', async () => {
    await svc.service.worker!.idle();
    await sleep(300); // the start-up scan is over; the worker now sleeps on its 10-minute timer
    const [id] = await seedEvents(tdb.db, org.orgId, 1); // no in-process wake: only the NOTIFY of the commit
    const [req] = await receiver.waitFor((reqs) => reqs.length >= 1, 60_000);
    expect(req!.headers['idempotency-key']).toBe(id);
    // And again, after the worker went back to sleep.
    await svc.service.worker!.idle();
    await sleep(300);
    const [id2] = await seedEvents(tdb.db, org.orgId, 1);
    await receiver.waitFor((reqs) => reqs.length >= 2, 60_000);
    expect(receiver.requests[1]!.headers['idempotency-key']).toBe(id2);
  });

  it('pruneOnce deletes delivered jobs, attempts and events older than the retention, in bounded batches, never pending or failed ones', async () => {
    // Every event recorded so far was delivered: no job is left (a settle deletes a delivered job, and
    // keeps a retried or dead-lettered one), so the worker holds none of the rows below.
    await expect.poll(async () => jobRows(tdb.db, destId)).toEqual([]);
    await svc.service.worker!.stop(); // keep the worker out of the rows we age by hand
    const old = await seedEvents(tdb.db, org.orgId, 7);
    const fresh = await seedEvents(tdb.db, org.orgId, 1);
    // Age everything by 30 days; then mark the old jobs: 5 done, 1 failed, 1 pending.
    await tdb.db.query(`UPDATE audit_events SET recorded_at = now() - interval '30 days' WHERE id = ANY($1)`, [old]);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'done', settled_at = now() - interval '30 days' WHERE event_id = ANY($1)`, [old.slice(0, 5)]);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = now() - interval '30 days' WHERE event_id = $1`, [old[5]]);
    await tdb.db.query(`UPDATE forwarding_jobs SET settled_at = NULL, status = 'pending' WHERE event_id = $1`, [old[6]]);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'done', settled_at = now() WHERE event_id = $1`, [fresh[0]]);
    await tdb.db.query(
      `INSERT INTO delivery_attempts (org_id, destination_id, attempted_at, event_count, delivered_count, failed_count, duration_ms)
       SELECT $1, $2, now() - interval '30 days', 1, 1, 0, 5 FROM generate_series(1, 3)`,
      [org.orgId, destId],
    );
    const attemptsBefore = (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM delivery_attempts`)).rows[0]!.n;

    // Batches of 2: each pass deletes at most 2 of each kind.
    const first = await pruneOnce(tdb.db, 7, 2);
    expect(first.jobs).toBe(2);
    expect(first.attempts).toBe(2);
    let total = { ...first };
    for (let i = 0; i < 10; i++) {
      const r = await pruneOnce(tdb.db, 7, 2);
      expect(r.jobs).toBeLessThanOrEqual(2);
      expect(r.events).toBeLessThanOrEqual(2);
      total = { jobs: total.jobs + r.jobs, attempts: total.attempts + r.attempts, events: total.events + r.events };
      if (r.jobs + r.attempts + r.events === 0) break;
    }
    expect(total.jobs).toBe(5);
    expect(total.attempts).toBe(3);
    expect(total.events).toBe(5);
    const { rows: left } = await tdb.db.query<{ event_id: string; status: string }>(
      `SELECT event_id, status FROM forwarding_jobs WHERE event_id = ANY($1) ORDER BY status`,
      [[...old, ...fresh]],
    );
    expect(left.map((r) => r.event_id).sort()).toEqual([old[5], old[6], fresh[0]].sort());
    const { rows: events } = await tdb.db.query<{ id: string }>(`SELECT id FROM audit_events WHERE id = ANY($1)`, [[...old, ...fresh]]);
    expect(events.map((e) => e.id).sort()).toEqual([old[5], old[6], fresh[0]].sort());
    expect((await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM delivery_attempts`)).rows[0]!.n).toBe(attemptsBefore - 3);
  });
});
