import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/waitFor.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { flap, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import type { AttemptView } from '../../../src/queue/attempts.js';
import { FILTERED_SCAN_ROWS, listAttempts } from '../../../src/queue/attempts.js';
import type { Queryable } from '../../../src/db/types.js';

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

  it('a filtered page examines a bounded stretch of the log: short or empty pages carry next_cursor until the log is read', async () => {
    // Its own organization and a disabled destination, so nothing else writes to this log.
    const own = await svc.newOrg();
    const created = await svc.request('POST', `/api/orgs/${own.orgId}/forwarding-destinations`, {
      apiKey: own.apiKey,
      body: { url: 'https://127.0.0.1:9/never', enabled: false },
    });
    expect(created.status).toBe(201);
    const dest = created.body.destination_id as string;
    const path = `/api/orgs/${own.orgId}/forwarding-destinations/${dest}/attempts`;
    // N successes and, at the very oldest end (g = 0: the smallest id and the earliest time), one failure:
    // more than two pages' bound, so it lies beyond the first two.
    const N = 2 * FILTERED_SCAN_ROWS + 5000;
    await tdb.db.query(
      `INSERT INTO delivery_attempts (org_id, destination_id, attempted_at, event_count, delivered_count, failed_count, status_code, duration_ms, error)
       SELECT $1, $2, now() - make_interval(secs => $3 - g), 1, CASE WHEN g = 0 THEN 0 ELSE 1 END, CASE WHEN g = 0 THEN 1 ELSE 0 END,
              CASE WHEN g = 0 THEN 503 ELSE 200 END, 5, CASE WHEN g = 0 THEN 'HTTP 503' END
         FROM generate_series(0, $3::int) g ORDER BY g`,
      [own.orgId, dest, N],
    );
    /** Follows next_cursor from the first page to the last: the pages' rows and how many pages it took. */
    const follow = async (query: string) => {
      const rows: Attempt[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      for (let pages = 1; pages <= 2 * N; pages++) {
        const res: { status: number; body: Record<string, unknown> } = await svc.request('GET', `${path}?${query}${cursor ? `&cursor=${cursor}` : ''}`, {
          apiKey: own.apiKey,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const items = res.body.attempts as Attempt[];
        rows.push(...items);
        sizes.push(items.length);
        cursor = res.body.next_cursor as string | null;
        if (cursor === null) return { rows, sizes, pages };
      }
      throw new Error(`${query}: next_cursor never became null`);
    };

    // The one failure lies past the first page's bound: that page is empty, and says to ask again.
    const first = await svc.request('GET', `${path}?outcome=failed&limit=1`, { apiKey: own.apiKey });
    expect(first.status).toBe(200);
    expect(first.body.attempts).toEqual([]);
    expect(first.body.next_cursor).not.toBeNull();
    // Followed to the end: the failure exactly once, after one page per FILTERED_SCAN_ROWS rows examined
    // (the cursor moves to the last row examined, so no page reads another's rows again).
    const failed = await follow('outcome=failed&limit=1');
    expect(failed.rows.map((a) => a.status_code)).toEqual([503]);
    expect(failed.pages).toBe(Math.ceil((N + 1) / FILTERED_SCAN_ROWS));

    // A window that holds nothing: every page empty, each one bounded, then the end.
    const empty = await follow(`until=${encodeURIComponent('1971-01-01T00:00:00Z')}&limit=5`);
    expect(empty.rows).toEqual([]);
    expect(empty.pages).toBe(Math.ceil((N + 1) / FILTERED_SCAN_ROWS));

    // outcome=delivered: a full page at once, newest first, with more to come.
    const delivered = await svc.request('GET', `${path}?outcome=delivered&limit=500`, { apiKey: own.apiKey });
    const page = delivered.body.attempts as Attempt[];
    expect(page).toHaveLength(500);
    expect(page.every((a) => a.status_code === 200)).toBe(true);
    const times = page.map((a) => Date.parse(a.attempted_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    expect(delivered.body.next_cursor).not.toBeNull();

    // Without a filter nothing changes: a full page, then the next from its cursor.
    const all = await svc.request('GET', `${path}?limit=500`, { apiKey: own.apiKey });
    expect(all.body.attempts).toEqual(page);
    expect(all.body.next_cursor).not.toBeNull();

    // A filter that matches nearly every row reads whole only what the page shows (and one more):
    // not 20,000 errors and snippets brought into the process to show 500.
    const fromDb: number[] = [];
    const counting: Queryable = {
      query: async <R>(text: string, values?: readonly unknown[]) => {
        const r = await tdb.db.query<R>(text, values);
        fromDb.push(r.rows.length);
        return r;
      },
      exec: (script: string) => tdb.db.exec(script),
    };
    const direct = await listAttempts(counting, own.orgId, dest, { limit: 500, beforeId: null, outcome: 'delivered', since: null, until: null });
    expect(direct.attempts).toHaveLength(500);
    expect(direct.afterId).not.toBeNull();
    expect(fromDb).toHaveLength(1);
    expect(fromDb[0]).toBeLessThanOrEqual(501);
  });
});
