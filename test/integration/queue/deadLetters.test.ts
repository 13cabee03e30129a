import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countFailed, countTooFarAhead, countTooOld, lastFailedJobId, listFailedEvents, replayFailed } from '../../../src/queue/deadLetters.js';
import { JOBS_CHANNEL } from '../../../src/queue/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { addEvents, claim, jobs, newDestination, newOrg } from './support.js';
import { FailedEventsPage } from '../../../src/api/schemas/destinationReads.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats = (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);
// The route's declared answer (the one the OpenAPI document publishes).
const validPage = addFormats(new Ajv2020({ allErrors: true, strict: false })).compile(FailedEventsPage);

// Dead letters: listing them page by page, and replaying them (all, some, bounded, not too old).
describe.each(DB_KINDS)('queue: dead letters (%s)', (kind) => {
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

  /** `failed` dead-lettered jobs (oldest id first) and one pending job on `dest`, plus a dead letter on another destination. */
  async function setup(failed: number, occurredAt = new Date()) {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const other = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, failed + 1, occurredAt);
    const all = await jobs(tdb.db, dest);
    const dead = all.slice(0, failed).map((j) => j.id);
    await tdb.db.query(
      `UPDATE forwarding_jobs SET status = 'failed', attempts = 4, last_error = 'HTTP 503', last_status_code = 503,
              settled_at = '2030-01-01T00:00:00Z'
        WHERE id = ANY($1::bigint[])`,
      [dead],
    );
    const otherDead = (await jobs(tdb.db, other))[0]!.id;
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = now() WHERE id = $1`, [otherDead]);
    return { org, dest, other, dead, pending: all[failed]!.id, otherDead, all };
  }

  it('lists a destination’s dead letters newest first, page by page, with the event', async () => {
    const { org, dest, dead, all } = await setup(5);
    const page1 = await listFailedEvents(tdb.db, org, dest, { limit: 2, beforeId: null });
    expect(page1.total).toBe(5);
    expect(page1.events.map((e) => e.job_id)).toEqual([dead[4], dead[3]]);
    expect(page1.next_before_id).toBe(dead[3]);
    const j = all[4]!;
    expect(page1.events[0]).toEqual({
      job_id: j.id,
      event_id: j.event_id,
      attempts: 4,
      last_error: 'HTTP 503',
      last_status_code: 503,
      failed_at: '2030-01-01T00:00:00.000Z',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      // The stored JSON text, as recorded (enqueue.ts writes JSON.stringify's): never parsed here.
      event: JSON.stringify({ event: { id: j.event_id }, n: 4 }),
    });

    const page2 = await listFailedEvents(tdb.db, org, dest, { limit: 2, beforeId: page1.next_before_id });
    expect(page2.events.map((e) => e.job_id)).toEqual([dead[2], dead[1]]);
    const page3 = await listFailedEvents(tdb.db, org, dest, { limit: 2, beforeId: page2.next_before_id });
    expect(page3.events.map((e) => e.job_id)).toEqual([dead[0]]);
    expect(page3.next_before_id).toBeNull();
    expect(page3.total).toBe(5);

    // A full last page still offers a cursor; the page after it is empty and ends the listing.
    const full = await listFailedEvents(tdb.db, org, dest, { limit: 5, beforeId: null });
    expect(full.next_before_id).toBe(dead[0]);
    expect(await listFailedEvents(tdb.db, org, dest, { limit: 5, beforeId: full.next_before_id })).toEqual({ events: [], total: 5, next_before_id: null });

    // Another organization sees none of them.
    expect(await listFailedEvents(tdb.db, await newOrg(tdb.db), dest, { limit: 5, beforeId: null })).toEqual({ events: [], total: 0, next_before_id: null });
  });

  it('counts and names the newest dead letter of the destination only', async () => {
    const { org, dest, other, dead, otherDead } = await setup(3);
    expect(await countFailed(tdb.db, org, dest)).toBe(3);
    expect(await lastFailedJobId(tdb.db, org, dest)).toBe(dead[2]);
    expect(await lastFailedJobId(tdb.db, org, other)).toBe(otherDead);
    expect(await lastFailedJobId(tdb.db, org, await newDestination(tdb.db, org))).toBeNull();
  });

  it('replays every dead letter of the destination as a fresh, due, unclaimed job and notifies workers', async () => {
    const { org, dest, other, dead, pending, otherDead } = await setup(3);
    let notified = 0;
    const unlisten = await tdb.db.listen(JOBS_CHANNEL, () => notified++);
    try {
      expect(await replayFailed(tdb.db, org, dest, null)).toEqual({ replayed: 3 });
      await expect.poll(() => notified, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    } finally {
      await unlisten();
    }
    for (const j of (await jobs(tdb.db, dest)).filter((x) => dead.includes(x.id))) {
      expect(j).toMatchObject({ status: 'pending', attempts: 0, claim_id: null, settled_at: null });
    }
    expect((await claim(tdb.db, org, dest)).ids).toEqual([...dead, pending]);
    expect((await jobs(tdb.db, other)).find((j) => j.id === otherDead)?.status).toBe('failed');
    expect(await replayFailed(tdb.db, org, dest, null)).toEqual({ replayed: 0 });
  });

  it('replays only the given ids of this destination and organization', async () => {
    const { org, dest, dead, otherDead } = await setup(3);
    expect(await replayFailed(tdb.db, await newOrg(tdb.db), dest, null)).toEqual({ replayed: 0 });
    expect(await replayFailed(tdb.db, org, dest, [dead[1]!, otherDead])).toEqual({ replayed: 1 });
    expect((await jobs(tdb.db, dest)).filter((j) => j.status === 'failed').map((j) => j.id)).toEqual([dead[0], dead[2]]);
  });

  it('replays in bounded batches, oldest first, and stops at upToJobId', async () => {
    const { org, dest, dead } = await setup(5);
    const failedIds = async () => (await jobs(tdb.db, dest)).filter((j) => j.status === 'failed').map((j) => j.id);
    expect(await replayFailed(tdb.db, org, dest, null, { batch: 2 })).toEqual({ replayed: 2 });
    expect(await failedIds()).toEqual(dead.slice(2));
    expect(await replayFailed(tdb.db, org, dest, null, { batch: 100, upToJobId: dead[3]! })).toEqual({ replayed: 2 });
    expect(await failedIds()).toEqual([dead[4]]);
  });

  it('leaves events older than maxAgeMs dead-lettered and counts them as too old', async () => {
    const { org, dest, dead } = await setup(2, new Date(Date.now() - 3 * 86_400_000));
    const fresh = await addEvents(tdb.db, org, 2);
    const freshJobs = (await jobs(tdb.db, dest)).filter((j) => fresh.includes(j.event_id)).map((j) => j.id);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = now() WHERE id = ANY($1::bigint[])`, [freshJobs]);

    expect(await replayFailed(tdb.db, org, dest, null, { maxAgeMs: 86_400_000 })).toEqual({ replayed: 2 });
    expect(await countTooOld(tdb.db, org, dest, null, 86_400_000)).toBe(2);
    const rows = await jobs(tdb.db, dest);
    expect(rows.filter((j) => j.status === 'failed').map((j) => j.id)).toEqual(dead);
    expect(rows.filter((j) => freshJobs.includes(j.id)).map((j) => j.status)).toEqual(['pending', 'pending']);
    // Restricted to ids, the too-old count is restricted too.
    expect(await replayFailed(tdb.db, org, dest, [dead[0]!], { maxAgeMs: 86_400_000 })).toEqual({ replayed: 0 });
    expect(await countTooOld(tdb.db, org, dest, [dead[0]!], 86_400_000)).toBe(1);
    // Up to the replay's bound only: a dead letter made after it started is the next replay's.
    expect(await countTooOld(tdb.db, org, dest, null, 86_400_000, dead[0])).toBe(1);
  });

  // A SIEM's future window (Datadog 2 h): the worker dead-letters an event dated further ahead, so a
  // replay leaves it as it leaves the too old, on the database's clock.
  it('leaves events dated more than maxAheadMs ahead dead-lettered and counts them as too far ahead', async () => {
    const { org, dest, dead } = await setup(2, new Date('9999-12-31T23:59:59.999Z'));
    const near = await addEvents(tdb.db, org, 1, new Date(Date.now() + 3_600_000));
    const nearJobs = (await jobs(tdb.db, dest)).filter((j) => near.includes(j.event_id)).map((j) => j.id);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = now() WHERE id = ANY($1::bigint[])`, [nearJobs]);
    const HOURS_2 = 2 * 3_600_000;

    expect(await countTooFarAhead(tdb.db, org, dest, null, HOURS_2)).toBe(2);
    expect(await replayFailed(tdb.db, org, dest, null, { maxAheadMs: HOURS_2 })).toEqual({ replayed: 1 });
    const rows = await jobs(tdb.db, dest);
    expect(rows.filter((j) => j.status === 'failed').map((j) => j.id)).toEqual(dead);
    expect(rows.filter((j) => nearJobs.includes(j.id)).map((j) => j.status)).toEqual(['pending']);
    expect(await countTooFarAhead(tdb.db, org, dest, [dead[0]!], HOURS_2)).toBe(1);
    expect(await countTooFarAhead(tdb.db, org, dest, null, HOURS_2, dead[0])).toBe(1);
    // Both windows at once: neither side is replayed, and the too old are not counted as ahead.
    expect(await replayFailed(tdb.db, org, dest, null, { maxAgeMs: 86_400_000, maxAheadMs: HOURS_2 })).toEqual({ replayed: 0 });
    expect(await countTooOld(tdb.db, org, dest, null, 86_400_000)).toBe(0);
  });
});

// GET .../failed-events through the real service: a page of up to 1,000 events, each the stored JSON
// text spliced into the answer. Parsed by the driver and serialised again, 1,000 large events (6.5 MB)
// held the API's one thread for a fifth of a second or more.
describe.each(DB_KINDS)('dead letters over the API (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // The API alone: no worker to deliver (or dead-letter) the jobs this test writes itself.
    svc = await startTestService(tdb.db, {}, 'api');
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  it('answers each event in its stored JSON text, byte for byte, in a page of the declared shape', async () => {
    const o = await svc.newOrg();
    // An id of the API's form (fwd_...), which the route's path schema asks for.
    const dest = `fwd_${await newDestination(tdb.db, o.orgId, { enabled: false })}`;
    await tdb.db.query(`INSERT INTO destinations (org_id, id, siem, url, enabled) VALUES ($1, $2, 'webhook', 'https://siem.example.com/hook', true)`, [
      o.orgId,
      dest,
    ]);
    const ids = await addEvents(tdb.db, o.orgId, 3);
    // Spellings a parse and a JSON.stringify would change: spacing, an integer-like key (JavaScript
    // puts it first), 1.50 and 1e2, an escaped é; and one event stored as recorded.
    const stored = (id: string) => `{"n" : 1.50, "10": "x", "event": {"id": "${id}", "e": 1e2, "s": "caf\\u00e9"}}`;
    for (const id of ids.slice(0, 2)) await tdb.db.query('UPDATE audit_events SET payload = $3::json WHERE org_id = $1 AND id = $2', [o.orgId, id, stored(id)]);
    const { rows } = await tdb.db.query<{ id: string; text: string }>('SELECT id, payload::text AS text FROM audit_events WHERE org_id = $1', [o.orgId]);
    const texts = new Map(rows.map((r) => [r.id, r.text]));
    expect(texts.get(ids[0]!)).toBe(stored(ids[0]!));
    expect(JSON.stringify(JSON.parse(texts.get(ids[0]!)!))).not.toBe(texts.get(ids[0]!));
    await tdb.db.query(
      `UPDATE forwarding_jobs SET status = 'failed', attempts = 4, last_error = 'HTTP 503', last_status_code = 503, settled_at = now()
        WHERE destination_id = $1 AND event_id = ANY($2::text[])`,
      [dest, ids],
    );

    const res = await svc.request('GET', `/api/orgs/${o.orgId}/forwarding-destinations/${dest}/failed-events?limit=2`, { apiKey: o.apiKey });
    expect(res.status, res.text).toBe(200);
    expect(validPage(res.body), JSON.stringify(validPage.errors)).toBe(true);
    const page = res.body as { events: Array<Record<string, unknown> & { event_id: string }>; total: number; next_before_id: number | null };
    expect(page.events.map((e) => e.event_id)).toEqual([ids[2], ids[1]]);
    expect(page.total).toBe(3);
    expect(page.events[0]).toMatchObject({ attempts: 4, last_error: 'HTTP 503', last_status_code: 503 });
    // The whole answer: the same fields in the same order as ever, each event its stored text.
    const item = ({ event: _, ...fields }: Record<string, unknown> & { event_id: string }) =>
      `${JSON.stringify(fields).slice(0, -1)},"event":${texts.get(fields.event_id)!}}`;
    expect(res.text).toBe(`{"events":[${page.events.map(item).join(',')}],"total":3,"next_before_id":${page.next_before_id}}`);

    const last = await svc.request('GET', `/api/orgs/${o.orgId}/forwarding-destinations/${dest}/failed-events?before_id=${page.next_before_id}`, {
      apiKey: o.apiKey,
    });
    expect(last.status, last.text).toBe(200);
    expect(validPage(last.body), JSON.stringify(validPage.errors)).toBe(true);
    expect(last.text).toBe(`{"events":[${(last.body as typeof page).events.map(item).join(',')}],"total":3,"next_before_id":null}`);
    expect((last.body as typeof page).events.map((e) => e.event_id)).toEqual([ids[0]]);
  });
  // forwarding_jobs.id and delivery_attempts.id count every tenant's rows: shown as they are, two
  // dead letters or two delivery-log cursors would tell an organization how many jobs or requests all
  // the others made in between (orgs/tenantNumbers.ts).
  it("shows an organization its own numbers, never the server's row ids, and pages and replays by them", async () => {
    const a = await svc.newOrg();
    const b = await svc.newOrg();
    const destOf = async (org: string) => {
      const dest = `fwd_${await newDestination(tdb.db, org, { enabled: false })}`;
      await tdb.db.query(`INSERT INTO destinations (org_id, id, siem, url, enabled) VALUES ($1, $2, 'custom', 'https://siem.example.com/hook', true)`, [
        org,
        dest,
      ]);
      return dest;
    };
    const destA = await destOf(a.orgId);
    const destB = await destOf(b.orgId);
    // A's and B's events alternate, so A's rows are numbered with gaps B's rows fill.
    for (let i = 0; i < 4; i++) {
      await addEvents(tdb.db, a.orgId, 1);
      await addEvents(tdb.db, b.orgId, 1);
    }
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', attempts = 4, settled_at = now() WHERE destination_id = ANY($1::text[])`, [
      [destA, destB],
    ]);
    const rowIds = async (dest: string) =>
      (await tdb.db.query<{ id: number }>('SELECT id FROM forwarding_jobs WHERE destination_id = $1 ORDER BY id DESC', [dest])).rows.map((r) => Number(r.id));
    const rowsA = await rowIds(destA);
    const rowsB = await rowIds(destB);
    expect(rowsA).toHaveLength(4);
    const base = (o: { orgId: string }, dest: string) => `/api/orgs/${o.orgId}/forwarding-destinations/${dest}`;
    const get = async (o: { orgId: string; apiKey: string }, path: string) => {
      const res = await svc.request('GET', path, { apiKey: o.apiKey });
      expect(res.status, res.text).toBe(200);
      return res.body as { events: Array<{ job_id: number }>; next_before_id: number | null };
    };

    const page1 = await get(a, `${base(a, destA)}/failed-events?limit=2`);
    const page2 = await get(a, `${base(a, destA)}/failed-events?limit=2&before_id=${page1.next_before_id}`);
    const shown = [...page1.events, ...page2.events].map((e) => e.job_id);
    expect(shown).toHaveLength(4);
    expect(new Set(shown).size).toBe(4);
    for (const n of [...shown, page1.next_before_id]) expect(rowsA).not.toContain(n);
    // Shown twice, the same numbers: a client lists today and replays tomorrow.
    expect((await get(a, `${base(a, destA)}/failed-events`)).events.map((e) => e.job_id)).toEqual(shown);
    const shownB = (await get(b, `${base(b, destB)}/failed-events`)).events.map((e) => e.job_id);
    expect(shownB.filter((n) => shown.includes(n))).toEqual([]);

    // B naming A's numbers replays nothing of A's (nor of its own); A's replays exactly the one named.
    const replay = (o: { orgId: string; apiKey: string }, dest: string, jobIds: number[]) =>
      svc.request('POST', `${base(o, dest)}/replay`, { apiKey: o.apiKey, body: { job_ids: jobIds } });
    expect((await replay(b, destB, shown)).body).toMatchObject({ replayed: 0 });
    const named = await replay(a, destA, [shown[1]!]);
    expect(named.status, named.text).toBe(200);
    expect(named.body).toMatchObject({ replayed: 1 });
    // (Each replay request also queues its own trail event, a new job: only the dead letters are looked at.)
    const pending = await tdb.db.query<{ id: number }>(`SELECT id FROM forwarding_jobs WHERE id = ANY($1::bigint[]) AND status = 'pending'`, [
      [...rowsA, ...rowsB],
    ]);
    expect(pending.rows.map((r) => Number(r.id))).toEqual([rowsA[1]]);
    // A number no row is shown as is refused by name, as a forged before_id is.
    const never = await replay(a, destA, [2 ** 52]);
    expect(never.status, never.text).toBe(400);
    expect(never.body.error.message).toMatch(/^job_ids: /);
    const forged = await svc.request('GET', `${base(a, destA)}/failed-events?before_id=${2 ** 52}`, { apiKey: a.apiKey });
    expect(forged.status, forged.text).toBe(400);
    expect(forged.body.error.message).toMatch(/^before_id: /);

    // The delivery log's cursor: a position of A's own, from which the next page follows.
    await tdb.db.query(
      `INSERT INTO delivery_attempts (org_id, destination_id, event_count, delivered_count, failed_count, duration_ms)
       SELECT o, d, 1, 1, 0, n FROM (VALUES ($1::text, $2::text, 1), ($3, $4, 2), ($1, $2, 3), ($3, $4, 4), ($1, $2, 5)) v(o, d, n)`,
      [a.orgId, destA, b.orgId, destB],
    );
    const log1 = await svc.request('GET', `${base(a, destA)}/attempts?limit=2`, { apiKey: a.apiKey });
    expect(log1.status, log1.text).toBe(200);
    expect(log1.body.attempts.map((x: { duration_ms: number }) => x.duration_ms)).toEqual([5, 3]);
    const attemptIds = (await tdb.db.query<{ id: number }>('SELECT id FROM delivery_attempts WHERE destination_id = $1', [destA])).rows.map((r) =>
      String(r.id),
    );
    const position = Buffer.from(log1.body.next_cursor, 'base64url').toString('utf8').replace(/^a2\./, '');
    expect(attemptIds).not.toContain(position);
    const log2 = await svc.request('GET', `${base(a, destA)}/attempts?limit=2&cursor=${log1.body.next_cursor}`, { apiKey: a.apiKey });
    expect(log2.status, log2.text).toBe(200);
    expect(log2.body.attempts.map((x: { duration_ms: number }) => x.duration_ms)).toEqual([1]);
    expect(log2.body.next_cursor).toBeNull();
    // A cursor of the form given out before (the row id itself) is refused, not read as a number.
    const before = await svc.request('GET', `${base(a, destA)}/attempts?cursor=${Buffer.from(`a1.${attemptIds[0]}`).toString('base64url')}`, {
      apiKey: a.apiKey,
    });
    expect(before.status, before.text).toBe(400);
    // A position spelled otherwise than the API writes it is no cursor of it.
    for (const position of ['1e3', '0x10', ' 7', '007', String(2 ** 53)]) {
      const edited = Buffer.from(`a2.${position}`).toString('base64url');
      const res = await svc.request('GET', `${base(a, destA)}/attempts?cursor=${edited}`, { apiKey: a.apiKey });
      expect(res.status, position).toBe(400);
      expect(res.body.error.message).toMatch(/^cursor: /);
    }
  });
});
