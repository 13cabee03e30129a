import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { respondWith, slow, startReceiver, ok, type Receiver } from '../../support/httpsReceiver.js';
import { jobRows, receivedCounts, seedEvents, sleep, statusCounts } from './support.js';

// Disable, enable and delete: what happens to a destination's queue, through the real service.
describe.each(DB_KINDS)('delivery engine: disable holds, enable resumes, delete clears (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,2,3', AEGIS_WORKER_INTERVAL_MS: '1000' });
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  async function setup(handler: Parameters<typeof startReceiver>[0], extra: Record<string, unknown> = {}) {
    const r = await startReceiver(handler);
    receivers.push(r);
    const org = await svc.newOrg();
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${r.url}/hook`, auth_header_name: 'Authorization', auth_header_value: 'Bearer t', ...extra },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    const path = `/api/orgs/${org.orgId}/forwarding-destinations/${id}`;
    const get = async (): Promise<Record<string, unknown>> => (await svc.request('GET', path, { apiKey: org.apiKey })).body as Record<string, unknown>;
    return { r, org, id, path, get };
  }

  it('disable stops queuing and holds queued jobs until enabled again; delete clears pending jobs', async () => {
    const { r, org, id, path } = await setup(respondWith(503));
    // Jobs queued while the SIEM was failing stay pending, with their retries scheduled.
    const held = await seedEvents(tdb.db, org.orgId, 3);
    await r.waitFor((reqs) => reqs.length >= 3, 60_000);
    const patch = await svc.request('PATCH', path, { apiKey: org.apiKey, body: { enabled: false } });
    expect(patch.status).toBe(200);
    expect(patch.body.status).toBe('disabled');
    // A request already in flight when it was disabled settles first (however long a loaded machine
    // takes); only then is the count a baseline.
    const unclaimed = async () => (await jobRows(tdb.db, id)).every((j) => j.claim_id === null);
    await expect.poll(unclaimed, { timeout: 180_000 }).toBe(true);
    // A claim whose statement began before the PATCH committed read the destination enabled, and is
    // not seen until it commits (a flaky-test review): once no runner is active, any such claim has
    // been sent and settled.
    await svc.service.worker!.idle();
    await expect.poll(unclaimed, { timeout: 180_000 }).toBe(true);
    const seenWhenDisabled = r.count;
    // New events are not queued for a disabled destination.
    const unqueued = await seedEvents(tdb.db, org.orgId, 2);
    expect(await statusCounts(tdb.db, id)).toEqual({ pending: 3 });
    r.setHandler(ok());
    // Held: their retry times (1 s) pass, nothing is sent.
    await sleep(2500);
    expect(r.count).toBe(seenWhenDisabled);
    expect(await statusCounts(tdb.db, id)).toEqual({ pending: 3 });

    const en = await svc.request('PATCH', path, { apiKey: org.apiKey, body: { enabled: true } });
    expect(en.status).toBe(200);
    // The three held jobs are delivered (gone: neither pending nor dead-lettered), each received once
    // since the destination was enabled again; the two events of the disabled spell never are.
    await expect.poll(async () => statusCounts(tdb.db, id), { timeout: 60_000 }).toEqual({});
    expect(receivedCounts(r.requests.slice(seenWhenDisabled))).toEqual(new Map(held.map((e) => [e, 1])));
    for (const e of unqueued) expect(receivedCounts(r.requests).has(e), e).toBe(false);

    // Delete clears what is pending.
    r.setHandler(respondWith(503));
    await seedEvents(tdb.db, org.orgId, 2);
    await expect.poll(async () => (await statusCounts(tdb.db, id)).pending ?? 0).toBe(2);
    const del = await svc.request('DELETE', path, { apiKey: org.apiKey });
    expect(del.status).toBeLessThan(300);
    // The rest go with the row once its farewell (the destination_deleted trail event) is delivered.
    const jobs = async () => (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1`, [id])).rows[0]!.n;
    await expect.poll(jobs, { timeout: 60_000 }).toBe(0);
    expect((await svc.request('GET', path, { apiKey: org.apiKey })).status).toBe(404);
  });

  it('disabling a destination mid-drain stops its runner at the next claim; re-enabling drains the rest', async () => {
    const { r, org, id, path } = await setup(slow(100));
    // Well over lanes x claim size (3 x 64 for a custom webhook), which can be in flight when it is disabled.
    const events = 1500;
    const ids = await seedEvents(tdb.db, org.orgId, events);
    await r
      .waitFor((reqs) => reqs.length >= 30, 180_000)
      .catch(async (e: Error) => {
        console.log(
          kind,
          r.count,
          JSON.stringify(await statusCounts(tdb.db, id)),
          JSON.stringify((await jobRows(tdb.db, id)).slice(0, 3)),
          svc.logs.lines.filter((l) => /warn|error|"level":(40|50)/.test(l)).slice(-10),
        );
        throw e;
      });
    const patch = await svc.request('PATCH', path, { apiKey: org.apiKey, body: { enabled: false } });
    expect(patch.status).toBe(200);
    // Claims already in flight finish (at most lanes x claim size), however long that takes here.
    await expect.poll(async () => (await jobRows(tdb.db, id)).every((j) => j.claim_id === null), { timeout: 180_000 }).toBe(true);
    const afterDisable = r.count;
    await sleep(2500); // more than the worker's 1 s interval: a runner that kept going would show
    expect(r.count).toBe(afterDisable);
    const held = await statusCounts(tdb.db, id);
    expect(held.pending ?? 0).toBeGreaterThan(300);
    expect((await jobRows(tdb.db, id)).every((j) => j.claim_id === null)).toBe(true);
    await svc.request('PATCH', path, { apiKey: org.apiKey, body: { enabled: true } });
    // Drained: every job is gone (delivered, none pending or dead-lettered), every event received.
    await expect.poll(async () => statusCounts(tdb.db, id), { timeout: 180_000 }).toEqual({});
    const got = receivedCounts(r.requests);
    expect(ids.filter((e) => !got.has(e))).toEqual([]);
  }, 600_000);
});
