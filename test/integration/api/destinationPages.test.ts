// Issue #10: the destinations list pages (limit, cursor) and the cards' charts come in one request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';

type Stat = { destination_id: string; hours: { hour: string; delivered: number; failed: number }[]; running_replay_id: string | null };

describe.each(DB_KINDS)('destinations list pages and bulk stats (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };
  let ids: string[] = [];
  const base = () => `/api/orgs/${org.orgId}/forwarding-destinations`;
  const get = (path: string) => svc.request('GET', path, { apiKey: org.apiKey });

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    org = await svc.newOrg();
    for (let i = 0; i < 5; i++) {
      const res = await svc.request('POST', base(), { apiKey: org.apiKey, body: { url: `https://siem-${i}.example.com/in`, name: `d${i}`, enabled: false } });
      expect(res.status).toBe(201);
    }
    // Three share one creation time to the microsecond: the id breaks the tie, and no page skips or repeats one.
    await tdb.db.query(`UPDATE destinations SET created_at = '2026-01-01T00:00:00.123456Z' WHERE org_id = $1 AND name IN ('d1', 'd2', 'd3')`, [org.orgId]);
    const { rows } = await tdb.db.query<{ id: string }>('SELECT id FROM destinations WHERE org_id = $1 ORDER BY created_at, id', [org.orgId]);
    ids = rows.map((r) => r.id);
    // Another organization's destination never shows up in this one's pages.
    const other = await svc.newOrg();
    await svc.request('POST', `/api/orgs/${other.orgId}/forwarding-destinations`, {
      apiKey: other.apiKey,
      body: { url: 'https://other.example.com/in', enabled: false },
    });
    // Delivery log rows for the charts: two hours ago and now, and one older than the window.
    const attempt = `INSERT INTO delivery_attempts (org_id, destination_id, attempted_at, event_count, delivered_count, failed_count, duration_ms)
                     VALUES ($1, $2, now() - make_interval(hours => $3), $4, $5, $6, 5)`;
    await tdb.db.query(attempt, [org.orgId, ids[0], 2, 7, 7, 0]);
    await tdb.db.query(attempt, [org.orgId, ids[0], 0, 3, 1, 2]);
    await tdb.db.query(attempt, [org.orgId, ids[0], 30, 9, 9, 0]);
    await tdb.db.query(attempt, [org.orgId, ids[3], 0, 4, 4, 0]);
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  it('pages through every destination in creation order, with next_cursor null on the last page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const res = await get(`${base()}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, res.text).toBe(200);
      expect((res.body.destinations as unknown[]).length).toBeLessThanOrEqual(2);
      seen.push(...(res.body.destinations as { destination_id: string }[]).map((d) => d.destination_id));
      cursor = res.body.next_cursor as string | null;
      if (!cursor) break;
    }
    expect(seen).toEqual(ids);
    const all = await get(`${base()}?limit=500`);
    expect(all.body.next_cursor).toBeNull();
    expect((all.body.destinations as unknown[]).length).toBe(5);
  });

  it('answers the bare array without limit and cursor, announcing a further page in a Link header', async () => {
    const plain = await get(base());
    expect(plain.status).toBe(200);
    expect(Array.isArray(plain.body)).toBe(true);
    expect((plain.body as { destination_id: string }[]).map((d) => d.destination_id)).toEqual(ids);
    expect(plain.headers.get('link')).toBeNull();
  });

  it('refuses bad limits and cursors with a 400 naming them', async () => {
    for (const q of ['limit=0', 'limit=501', 'limit=ten', 'limit=-1', 'cursor=', 'cursor=!!', 'other=1']) {
      const res = await get(`${base()}?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.message, q).toMatch(q.startsWith('other') ? /other|additional/i : new RegExp(q.split('=')[0]!));
    }
    // A page size out of range is refused with the range, not a generic pattern message.
    for (const q of ['limit=0', 'limit=501', 'limit=ten', 'limit=007']) {
      const res = await get(`${base()}?${q}`);
      expect(res.body.error.message, q).toMatch(/limit.*must be a whole number from 1 to 500/);
    }
    const forged = [
      Buffer.from('a1.12').toString('base64url'), // the delivery log's cursor
      Buffer.from('d1.yesterday|fwd_x').toString('base64url'),
      // A time no database holds: an edited year 0000 was a 500.
      Buffer.from('d1.0000-01-01T00:00:00.000000|fwd_mqgrueuir7kale4dxozz').toString('base64url'),
      Buffer.from(`d1.2026-01-01T00:00:00.123456|x'; DROP TABLE destinations; --`).toString('base64url'),
    ];
    for (const c of forged) {
      const res = await get(`${base()}?cursor=${c}`);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/cursor/);
    }
  });

  it('answers every card chart of a page in one request, in the list order', async () => {
    const first = await get(`${base()}/stats?limit=3`);
    expect(first.status, first.text).toBe(200);
    const second = await get(`${base()}/stats?limit=3&cursor=${first.body.next_cursor}`);
    expect(second.body.next_cursor).toBeNull();
    const stats = [...(first.body.stats as Stat[]), ...(second.body.stats as Stat[])];
    expect(stats.map((s) => s.destination_id)).toEqual(ids);
    // The same figures as the one-destination endpoint, hour by hour.
    for (const s of stats) {
      expect(s.hours).toHaveLength(24);
      const one = await get(`${base()}/${s.destination_id}/stats`);
      expect(s.hours).toEqual(one.body.hours);
    }
    const sum = (s: Stat) => s.hours.reduce((a, h) => ({ delivered: a.delivered + h.delivered, failed: a.failed + h.failed }), { delivered: 0, failed: 0 });
    expect(sum(stats[0]!)).toEqual({ delivered: 8, failed: 2 });
    expect(sum(stats[3]!)).toEqual({ delivered: 4, failed: 0 });
    expect(sum(stats[1]!)).toEqual({ delivered: 0, failed: 0 });
    // Each card's running background replay comes in the same answer (none here yet).
    for (const s of stats) expect(s.running_replay_id).toBeNull();
    await tdb.db.query(
      // The running one is leased to another process, so this service's replay runner leaves it running.
      `INSERT INTO replays (org_id, id, destination_id, window_from, window_to, start_at, created_by, status, claim_id, lease_until)
       VALUES ($1, 'rpl_done0000000000000000', $2, now() - interval '2 hours', now(), now() - interval '2 hours', 'api_key', 'done', NULL, NULL),
              ($1, 'rpl_running0000000000000', $2, now() - interval '1 hour', now(), now() - interval '1 hour', 'api_key', 'running', 'elsewhere', now() + interval '1 hour')`,
      [org.orgId, ids[1]],
    );
    const withReplay = (await get(`${base()}/stats?limit=3`)).body.stats as Stat[];
    expect(withReplay.map((s) => s.running_replay_id)).toEqual([null, 'rpl_running0000000000000', null]);
    await tdb.db.query(`DELETE FROM replays WHERE org_id = $1`, [org.orgId]);
    // The list's cursor works for the stats too (same order and keys).
    const listPage = await get(`${base()}?limit=3`);
    const viaList = await get(`${base()}/stats?limit=3&cursor=${listPage.body.next_cursor}`);
    expect((viaList.body.stats as Stat[]).map((s) => s.destination_id)).toEqual(ids.slice(3));
  });

  it('gives earlier clients the first 100 and a Link to the next page when there are more', async () => {
    await tdb.db.query(
      `INSERT INTO destinations (org_id, id, siem, url, enabled, created_at)
       SELECT $1, 'fwd_bulk' || lpad(g::text, 3, '0'), 'custom', 'https://bulk.example.com/in', false, now() + make_interval(secs => g)
         FROM generate_series(1, 100) g`,
      [org.orgId],
    );
    const plain = await get(base());
    expect((plain.body as unknown[]).length).toBe(100);
    const link = /^<([^>]+)>; rel="next"$/.exec(plain.headers.get('link') ?? '');
    expect(link).not.toBeNull();
    const next = await get(link![1]!);
    expect(next.status).toBe(200);
    expect((next.body.destinations as { destination_id: string }[]).map((d) => d.destination_id)).toEqual([
      'fwd_bulk096',
      'fwd_bulk097',
      'fwd_bulk098',
      'fwd_bulk099',
      'fwd_bulk100',
    ]);
    expect(next.body.next_cursor).toBeNull();
  });
});
