import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/waitFor.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { flap, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import type { AttemptView } from '../../../src/queue/attempts.js';

type Attempt = AttemptView;

// GET .../forwarding-destinations/{id}/attempts: the per-request delivery log, through the real service.
describe.each(DB_KINDS)('delivery log API (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let org: { orgId: string; apiKey: string };
  let id: string;
  const logPath = () => `/api/orgs/${org.orgId}/forwarding-destinations/${id}/attempts`;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    // Two failures (503 with a body), then the SIEM is back.
    receiver = await startReceiver(flap({ failures: 2, failWith: 503, then: { status: 200, body: 'ok' } }));
    org = await svc.newOrg();
    const created = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${receiver.url}/hook`, auth_header_name: 'Authorization', auth_header_value: 'Bearer log-test' },
    });
    expect(created.status).toBe(201);
    id = created.body.destination_id as string;
    // Creating the destination queued its destination_created trail event to it: let that request
    // (absorbed by the receiver, 200) be logged first, so it is the oldest row and never shares a
    // batch with the preflight event below.
    await waitForDelivered(1);
    expect(receiver.trailRequests).toHaveLength(1);
    const pf = await svc.request('POST', `/api/orgs/${org.orgId}/preflight`, { apiKey: org.apiKey, body: { input: 'hello' } });
    expect(pf.status).toBe(200);
    // Two retries later (1 s apart) the third request gets through; wait for its log row.
    await waitForDelivered(2);
  });
  /** Waits until `n` requests to the destination got through (log rows without an error). */
  async function waitForDelivered(n: number): Promise<void> {
    const logged = async () =>
      (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM delivery_attempts WHERE destination_id = $1 AND error IS NULL', [id])).rows[0]!.n;
    await waitFor(`${n} successful requests logged`, logged, (logs) => logs >= n, { timeoutMs: 90_000, intervalMs: 250 });
  }
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('lists every request newest first, with status, counts, duration, error and snippet', async () => {
    const res = await svc.request('GET', logPath(), { apiKey: org.apiKey });
    expect(res.status).toBe(200);
    const attempts = res.body.attempts as Attempt[];
    expect(res.body.next_cursor).toBeNull();
    // The preflight event's three requests, then (oldest) the trail event's destination_created.
    expect(attempts.map((a) => a.status_code)).toEqual([200, 503, 503, 200]);
    expect(attempts[0]).toMatchObject({ event_count: 1, delivered_count: 1, failed_count: 0, error: null, response_snippet: null });
    expect(attempts[3]).toMatchObject({ event_count: 1, delivered_count: 1, failed_count: 0, error: null, response_snippet: null });
    for (const a of attempts.slice(1, 3)) {
      expect(a).toMatchObject({ event_count: 1, delivered_count: 0, failed_count: 1 });
      expect(a.error).toMatch(/503/);
      expect(typeof a.response_snippet).toBe('string');
    }
    const times = attempts.map((a) => Date.parse(a.attempted_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    for (const a of attempts) expect(a.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('filters by outcome and time, and pages with an opaque cursor without repeats or gaps', async () => {
    const failed = (await svc.request('GET', `${logPath()}?outcome=failed`, { apiKey: org.apiKey })).body.attempts as Attempt[];
    expect(failed.map((a) => a.status_code)).toEqual([503, 503]);
    const delivered = (await svc.request('GET', `${logPath()}?outcome=delivered`, { apiKey: org.apiKey })).body.attempts as Attempt[];
    expect(delivered.map((a) => a.status_code)).toEqual([200, 200]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(((await svc.request('GET', `${logPath()}?since=${encodeURIComponent(future)}`, { apiKey: org.apiKey })).body.attempts as Attempt[]).length).toBe(0);
    expect(((await svc.request('GET', `${logPath()}?until=${encodeURIComponent(future)}`, { apiKey: org.apiKey })).body.attempts as Attempt[]).length).toBe(4);

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const page: { status: number; body: Record<string, unknown> } = await svc.request('GET', `${logPath()}?limit=1${cursor ? `&cursor=${cursor}` : ''}`, {
        apiKey: org.apiKey,
      });
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      const items = page.body.attempts as Attempt[];
      seen.push(...items.map((a) => `${a.attempted_at}/${a.status_code}`));
      cursor = page.body.next_cursor as string | null;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(4);
    expect(seen.map((s) => s.split('/')[1])).toEqual(['200', '503', '503', '200']);
  });

  it('refuses a cursor it did not give out, unknown parameters, and other organizations', async () => {
    const bad = await svc.request('GET', `${logPath()}?cursor=${Buffer.from('x.12').toString('base64url')}`, { apiKey: org.apiKey });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/cursor/);
    expect((await svc.request('GET', `${logPath()}?limit=0`, { apiKey: org.apiKey })).status).toBe(400);
    // A union of values reads as one choice, not as "must be failed" plus two more problems.
    const outcome = await svc.request('GET', `${logPath()}?outcome=maybe`, { apiKey: org.apiKey });
    expect(outcome.status).toBe(400);
    expect(outcome.body.error.message).toBe('outcome: must be one of: "failed", "delivered"');
    expect(outcome.body.error.details).toEqual([{ path: '/outcome', message: 'must be one of: "failed", "delivered"' }]);
    expect((await svc.request('GET', `${logPath()}?since=yesterday`, { apiKey: org.apiKey })).status).toBe(400);
    const other = await svc.newOrg();
    // Another organization's key on this organization's path, and on its own path with this id.
    expect((await svc.request('GET', logPath(), { apiKey: other.apiKey })).status).toBe(404);
    const foreign = await svc.request('GET', `/api/orgs/${other.orgId}/forwarding-destinations/${id}/attempts`, { apiKey: other.apiKey });
    expect(foreign.status).toBe(404);
  });
});
