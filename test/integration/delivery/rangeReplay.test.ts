// Issue 12, replay of a time range: POST .../forwarding-destinations/{id}/replay with {"from", "to"},
// through the real service and real HTTPS receivers, on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { respondWith, ok, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { jobRows, makeEvent } from './support.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import { buildWireEvent, newPreflightId } from '../../../src/events/contract.js';
import type { Db } from '../../../src/db/types.js';

const HOUR = 3_600_000;

/** Records one event per age (hours before now) for `orgId`, before any destination exists (no jobs). */
async function recordAged(db: Db, orgId: string, agesH: number[], decision: 'BLOCKED' | 'ALLOWED' = 'BLOCKED'): Promise<string[]> {
  return recordAt(
    db,
    orgId,
    agesH.map((h) => new Date(Date.now() - h * HOUR)),
    decision,
  );
}

/** Records one event per time for `orgId` (jobs only for the destinations that exist already). */
async function recordAt(db: Db, orgId: string, times: Date[], decision: 'BLOCKED' | 'ALLOWED' = 'BLOCKED'): Promise<string[]> {
  const events = times.map((occurredAt, n) => {
    const fields = {
      preflight_id: newPreflightId(),
      decision,
      destination: 'AI_TOOL',
      summary: `Detected SSN; blocked. (#${n})`,
      policy_version: 'v1.0',
      policy_id: 'pol_default',
      source_type: 'api',
      input_type: 'text',
      input_size_bytes: 100 + n,
      finding_counts_by_type: { SSN: 1 },
    } as const;
    return {
      orgId,
      id: fields.preflight_id,
      occurredAt,
      payload: buildWireEvent({ orgId, occurredAt, fields: { ...fields, finding_counts_by_type: { SSN: 1 } } }),
    };
  });
  await recordEvents(db, events);
  return events.map((e) => e.id);
}

/** event.id of every event a receiver got, for a custom webhook (one object per body) or Datadog (an array of items). */
function receivedIds(r: Receiver): string[] {
  return r.requests.flatMap((q) => {
    const body = JSON.parse(q.body.toString('utf8')) as unknown;
    const items = Array.isArray(body) ? (body as Array<{ event: { id: string } }>) : [body as { event: { id: string } }];
    // A batching preset may carry a configuration trail event (docs/trail.md) in the same request.
    return items.map((i) => i.event.id).filter((id) => !id.startsWith('cfg_'));
  });
}

describe.each(DB_KINDS)('replay a time range (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1', AEGIS_RETENTION_DAYS: '3' });
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  /** A receiver and a fresh org; `create` adds the destination (after the test has recorded its history). */
  async function destination(handler = ok()) {
    const r = await startReceiver(handler);
    receivers.push(r);
    const org = await svc.newOrg();
    const create = async (body: Record<string, unknown> = {}) => {
      const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey, body: { url: `${r.url}/hook`, ...body } });
      expect(res.status, res.text).toBe(201);
      const id = res.body.destination_id as string;
      return { id, path: `/api/orgs/${org.orgId}/forwarding-destinations/${id}` };
    };
    return { r, org, create };
  }
  /** A Datadog destination's body, its URL on receiver `r`. */
  const datadog = (r: Receiver) => ({
    siem: 'datadog',
    url: `${r.url}/api/v2/logs`,
    auth_header_name: 'DD-API-KEY',
    auth_header_value: 'dd-key-0123456789abcdef',
  });
  const window = (fromH: number, toH = 0) => ({
    from: new Date(Date.now() - fromH * HOUR).toISOString(),
    to: new Date(Date.now() - toH * HOUR + 60_000).toISOString(),
  });

  it("applies the destination's filter: only matching events of the window are queued, and the answer says how many were not", async () => {
    const { r, org, create } = await destination();
    const blocked = await recordAged(tdb.db, org.orgId, [2, 3]);
    await recordAged(tdb.db, org.orgId, [2.5, 3.5], 'ALLOWED');
    const d = await create({ filter: { 'aegis.decision': { $in: ['BLOCKED'] } } });
    const res = await svc.request('POST', `${d.path}/replay`, { apiKey: org.apiKey, body: window(6) });
    expect(res.status, res.text).toBe(200);
    expect(res.body.replayed).toBe(2);
    expect(res.body.message).toMatch(/2 event\(s\) do not match this destination's filter/);
    expect((await jobRows(tdb.db, d.id)).map((j) => j.event_id).sort()).toEqual([...blocked].sort());
    await r.waitFor(() => receivedIds(r).length >= 2, 60_000);
    expect(receivedIds(r).sort()).toEqual([...blocked].sort());
  });

  it("queues the org's events of the window for the destination, never one twice, and they reach the SIEM", async () => {
    const { r, org, create } = await destination();
    const inWindow = await recordAged(tdb.db, org.orgId, [2, 3, 4, 5]);
    await recordAged(tdb.db, org.orgId, [30]); // before the window
    const other = await svc.newOrg();
    await recordAged(tdb.db, other.orgId, [2, 3]); // another organization, same window
    // Disabled, so its queue holds still while the second replay runs.
    const { id, path } = await create({ enabled: false });

    const first = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: window(6) });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toEqual({ replayed: 4, skipped_too_old: 0, message: null });
    const again = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: window(6) });
    expect(again.body).toMatchObject({ replayed: 0, skipped_too_old: 0 });
    expect(again.body.message).toMatch(/4 event\(s\) already waiting/);
    expect((await jobRows(tdb.db, id)).map((j) => j.event_id).sort()).toEqual([...inWindow].sort());

    expect((await svc.request('PATCH', path, { apiKey: org.apiKey, body: { enabled: true } })).status).toBe(200);
    await r.waitFor((reqs) => reqs.length >= 4, 60_000);
    // Delivered: the four jobs (listed above) are gone, as a settle deletes a delivered job (a retried
    // or dead-lettered one would stay).
    await expect.poll(async () => jobRows(tdb.db, id), { timeout: 60_000 }).toEqual([]);
    expect(receivedIds(r).sort()).toEqual([...inWindow].sort());
    // Once delivered, the same window can be sent again on purpose.
    const resend = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: window(6) });
    expect(resend.body.replayed).toBe(4);
    await r.waitFor((reqs) => reqs.length >= 8, 60_000);
    expect(new Set(receivedIds(r))).toEqual(new Set(inWindow));
  });

  it('two replays of one window running at once still queue each event once', async () => {
    const { org, create } = await destination();
    const ids = await recordAged(
      tdb.db,
      org.orgId,
      Array.from({ length: 40 }, (_, i) => 1 + i / 10),
    );
    const { id, path } = await create({ enabled: false });
    const [a, b] = await Promise.all([0, 1].map(() => svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: window(6) })));
    expect(a!.status, a!.text).toBe(200);
    expect(b!.status, b!.text).toBe(200);
    expect(a!.body.replayed + b!.body.replayed).toBe(40);
    expect((await jobRows(tdb.db, id)).map((j) => j.event_id).sort()).toEqual([...ids].sort());
  });

  it('trims a Datadog window to 18 hours, counting and naming what it left out', async () => {
    const { r, org, create } = await destination();
    const recent = await recordAged(tdb.db, org.orgId, [1, 2, 17]);
    await recordAged(tdb.db, org.orgId, [20, 30]);
    const { path } = await create(datadog(r));
    const res = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: window(40) });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ replayed: 3, skipped_too_old: 2 });
    expect(res.body.message).toMatch(/Datadog/);
    expect(res.body.message).toMatch(/18 h/);
    await r.waitFor((reqs) => receivedIds({ requests: reqs } as Receiver).length >= 3, 60_000);
    expect(receivedIds(r).sort()).toEqual([...recent].sort());
    // A window wholly older than Datadog keeps is refused, naming from and the reason.
    const old = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: window(40, 20) });
    expect(old.status).toBe(400);
    expect(old.body.error.message).toMatch(/^from: .*Datadog Logs accepts events up to 18 h/);
  });

  // Counting a trimmed start is capped as dead letters are: a window reaching a year back would
  // otherwise count that whole year before answering, past the API's statement limit on a large org.
  it('counts what a trim left out up to 10,000 and says "or more" beyond', async () => {
    const { r, org, create } = await destination();
    await tdb.db.query(
      `INSERT INTO audit_events (org_id, id, occurred_at, payload) SELECT $1, 'evt_capped_' || g, now() - interval '30 hours', '{}' FROM generate_series(1, 10005) g`,
      [org.orgId],
    );
    const { path } = await create(datadog(r));
    const res = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: window(40) });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ replayed: 0, skipped_too_old: 10_000 });
    expect(res.body.message).toMatch(/10,000 or more recorded event\(s\) before that were not queued/);
  });

  // The worker dead-letters a Datadog event within 5 minutes of 18 hours (the SIEM measures again, by
  // its own clock); a replay leaves such an event out instead of queueing it to be dead-lettered.
  it("leaves out an event inside the worker's margin before Datadog's 18 hours", async () => {
    const { r, org, create } = await destination();
    const recent = await recordAged(tdb.db, org.orgId, [1]);
    await recordAged(tdb.db, org.orgId, [18 - 1 / 60]);
    const { path } = await create(datadog(r));
    const res = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: window(40) });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ replayed: 1, skipped_too_old: 1 });
    await r.waitFor((reqs) => receivedIds({ requests: reqs } as Receiver).length >= 1, 60_000);
    expect(receivedIds(r)).toEqual(recent);
  });

  // The API takes occurred_at up to 9999-12-31: an agent with a skewed clock.
  const FAR = new Date('9999-12-30T00:00:00Z');

  // The worker dead-letters a Datadog event dated more than 2 h ahead (less its 5-minute margin): a
  // replay of dead letters leaves such an event alone, counts it and says why, as it does the too old.
  it("leaves out dead letters dated beyond Datadog's 2 hours ahead, counting them and saying why", async () => {
    const { r, org, create } = await destination(respondWith(503, 'down'));
    const { id, path } = await create(datadog(r));
    const [live] = await recordAt(tdb.db, org.orgId, [new Date()]);
    const [ahead] = await recordAt(tdb.db, org.orgId, [FAR]);
    await expect
      .poll(async () => (await jobRows(tdb.db, id)).map((j) => `${j.event_id}:${j.status}`).sort(), { timeout: 60_000 })
      .toEqual([`${live}:failed`, `${ahead}:failed`].sort());
    const refusedAs = (await jobRows(tdb.db, id)).find((j) => j.event_id === ahead)!;
    expect(refusedAs.last_error).toMatch(/^Event dated in the future for Datadog Logs/);
    // A replay resets settled_at; the worker's refusal stamps it anew: unchanged means never re-queued.
    const settledAt = async () =>
      (await tdb.db.query<{ t: string }>(`SELECT settled_at::text AS t FROM forwarding_jobs WHERE id = $1`, [refusedAs.id])).rows[0]!.t;
    const firstSettled = await settledAt();
    const before = r.requests.length;
    r.setHandler(ok());

    const res = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ replayed: 1, skipped_too_old: 0, skipped_too_far_ahead: 1 });
    expect(res.body.message).toMatch(/^1 dead-lettered event\(s\) are dated more than 2 h ahead, further than Datadog Logs accepts, and were not replayed/);
    // The live one is delivered (its job is gone); the far-ahead one was never re-queued: still failed,
    // with the worker's reason of its first refusal, and never sent.
    await expect.poll(async () => (await jobRows(tdb.db, id)).map((j) => `${j.event_id}:${j.status}`), { timeout: 60_000 }).toEqual([`${ahead}:failed`]);
    expect(await settledAt()).toBe(firstSettled);
    expect(receivedIds({ requests: r.requests.slice(before) } as Receiver)).toEqual([live]);
    // Asked by its number in the dead-letter list, the same.
    const listed = await svc.request('GET', `${path}/failed-events`, { apiKey: org.apiKey });
    expect(listed.body.events.map((e: { event_id: string }) => e.event_id)).toEqual([ahead]);
    const byId = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: { job_ids: [listed.body.events[0].job_id] } });
    expect(byId.body).toMatchObject({ replayed: 0, skipped_too_old: 0, skipped_too_far_ahead: 1 });
  });

  it("trims a Datadog window's end to 2 hours ahead, naming what it left out, and refuses a window wholly beyond it", async () => {
    const { r, org, create } = await destination();
    const sendable = await recordAt(tdb.db, org.orgId, [new Date(Date.now() - HOUR), new Date(Date.now() + HOUR)]);
    // Past the worker's cut: 3 h ahead, and inside its 5-minute margin before 2 h.
    await recordAt(tdb.db, org.orgId, [new Date(Date.now() + 3 * HOUR), new Date(Date.now() + 2 * HOUR - 60_000), FAR]);
    const { path } = await create(datadog(r));
    const res = await svc.request('POST', `${path}/replay`, {
      apiKey: org.apiKey,
      body: { from: new Date(Date.now() - 6 * HOUR).toISOString(), to: '9999-12-31T23:59:59.999Z' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ replayed: 2, skipped_too_old: 0 });
    expect(res.body.message).toMatch(
      /^The window was trimmed to end at \S+: Datadog Logs accepts events up to 2 h in the future and drops later ones after answering 2xx; 3 recorded event\(s\) from then on were not queued\.$/,
    );
    await r.waitFor((reqs) => receivedIds({ requests: reqs } as Receiver).length >= 2, 60_000);
    expect(receivedIds(r).sort()).toEqual([...sendable].sort());

    const refused = async (from: string | Date, to: string | Date) => {
      const body = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
      const out = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body });
      expect(out.status, out.text).toBe(400);
      return out.body.error.message as string;
    };
    expect(await refused('9999-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z')).toMatch(
      /^from: the whole window is too far ahead: Datadog Logs accepts events up to 2 h in the future .*; choose a window that starts before /,
    );
    expect(await refused(new Date(Date.now() + 3 * HOUR), new Date(Date.now() + 4 * HOUR))).toMatch(/^from: the whole window is too far ahead/);
    // A SIEM with no future window replays the window as asked.
    const webhook = await destination();
    const ids = await recordAt(tdb.db, webhook.org.orgId, [new Date(Date.now() + 3 * HOUR), FAR]);
    const w = await webhook.create({ enabled: false });
    const all = await svc.request('POST', `${w.path}/replay`, {
      apiKey: webhook.org.apiKey,
      body: { from: new Date(Date.now() - HOUR).toISOString(), to: '9999-12-31T23:59:59.999Z' },
    });
    expect(all.body).toEqual({ replayed: 2, skipped_too_old: 0, message: null });
    expect((await jobRows(tdb.db, w.id)).map((j) => j.event_id).sort()).toEqual([...ids].sort());
  });

  it('names AEGIS_RETENTION_DAYS (on recorded_at, not a trim) and refuses malformed windows, naming the field', async () => {
    const { org, create } = await destination();
    // Dated 4 days back but recorded now (a backfill): retention deletes by recorded_at, so it is kept and replayed.
    await recordAged(tdb.db, org.orgId, [1, 4 * 24]);
    const { path } = await create({ enabled: false });
    const res = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: window(5 * 24) });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ replayed: 2, skipped_too_old: 0 });
    expect(res.body.message).toMatch(/AEGIS_RETENTION_DAYS/);
    // A window wholly before the horizon that holds no event is refused, naming retention.
    const empty = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body: window(10 * 24, 8 * 24) });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/^from: the whole window is too old: .*AEGIS_RETENTION_DAYS/);

    const refused = async (body: unknown) => {
      const r = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      return r.body.error.message as string;
    };
    const w = window(2);
    expect(await refused({ from: w.to, to: w.from })).toMatch(/^to: /);
    expect(await refused({ from: w.from })).toMatch(/^to: /);
    expect(await refused({ to: w.to })).toMatch(/^from: /);
    expect(await refused({ ...w, job_ids: [1] })).toMatch(/job_ids/);
    expect(await refused({ from: 'last tuesday', to: w.to })).toMatch(/from/);
    expect(await refused({ from: w.from, to: 12 })).toMatch(/to/);
    expect(await refused({ ...w, filter: {} })).toMatch(/filter/);
    // Another organization's key cannot replay into this destination.
    const other = await svc.newOrg();
    expect((await svc.request('POST', `${path}/replay`, { apiKey: other.apiKey, body: w })).status).toBe(404);
  });

  it('without a body it still replays dead letters only', async () => {
    const { r, org, create } = await destination(respondWith(503, 'down'));
    await recordAged(tdb.db, org.orgId, [1]); // history, not a dead letter: a bare replay leaves it alone
    const { id, path } = await create();
    const live = makeEvent(org.orgId, 9);
    await recordEvents(tdb.db, [{ orgId: org.orgId, id: live.event.id, occurredAt: new Date(), payload: live }]);
    await expect
      .poll(async () => (await jobRows(tdb.db, id)).map((j) => j.event_id + ':' + j.status), { timeout: 60_000 })
      .toEqual([`${live.event.id}:failed`]);
    const before = r.requests.length;
    r.setHandler(ok());
    const res = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ replayed: 1, skipped_too_old: 0, skipped_too_far_ahead: 0, message: null });
    // Delivered this time: the dead letter's job is gone (a settle deletes a delivered job; a failed
    // attempt would leave it pending or failed), and the receiver got it once more, alone.
    await expect.poll(async () => jobRows(tdb.db, id), { timeout: 60_000 }).toEqual([]);
    expect(receivedIds({ requests: r.requests.slice(before) } as Receiver)).toEqual([live.event.id]);
    expect(receivedIds(r).filter((x) => x !== live.event.id)).toEqual([]);
  });
});
