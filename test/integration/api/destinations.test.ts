// Issue 2: every call of the product page's "Configure via API" section, over real HTTP, on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { DECISIONS_ONLY, respondWith, startReceiver, type Receiver } from '../../support/httpsReceiver.js';

const READ_FIELDS = [
  'destination_id',
  'url',
  'auth_header_name',
  'auth_header_configured',
  'enabled',
  'created_at',
  'status',
  'last_delivery_at',
  'last_error',
  'siem',
];

describe.each(DB_KINDS)('forwarding-destinations REST API, product page calls (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let orgId: string;
  let apiKey: string;
  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // Long retry delays: failed jobs stay pending, so DELETE has queued events to clear.
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '60,60,60' });
    receiver = await startReceiver(respondWith(202, '{"accepted":true}', { 'content-type': 'application/json' }));
    ({ orgId, apiKey } = await svc.newOrg());
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  const create = (body: unknown) => svc.request('POST', base(), { apiKey, body });
  const probe = (id: string) => svc.request('POST', `${base()}/${id}/test`, { apiKey });
  const get = (id: string) => svc.request('GET', `${base()}/${id}`, { apiKey });
  const patch = (id: string, body: unknown) => svc.request('PATCH', `${base()}/${id}`, { apiKey, body });

  it('1. Create: the page curl body answers 201 with exactly the page fields (plus status fields)', async () => {
    const url = `${receiver.url}/ingest`;
    const res = await create({ url, auth_header_name: 'Authorization', auth_header_value: 'Bearer your-siem-token-here' });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.body.destination_id).toMatch(/^fwd_[A-Za-z0-9_-]+$/);
    expect(res.body).toMatchObject({
      url,
      auth_header_name: 'Authorization',
      auth_header_configured: true,
      enabled: true,
      siem: 'custom',
      last_delivery_at: null,
      last_error: null,
    });
    expect(['idle', 'active']).toContain(res.body.status);
    expect(Number.isNaN(Date.parse(res.body.created_at))).toBe(false);
    expect(Math.abs(Date.parse(res.body.created_at) - Date.now())).toBeLessThan(60_000);
    for (const f of READ_FIELDS) expect(res.body).toHaveProperty(f);
    expect(res.text).not.toContain('your-siem-token-here');
    expect(res.body).not.toHaveProperty('auth_header_value');
  });

  it('2. Test: synchronous probe answers {ok, status_code, error} and the receiver gets aegis.audit_stream.test', async () => {
    const created = await create({ url: `${receiver.url}/probe-here`, auth_header_name: 'Authorization', auth_header_value: 'Bearer probe-token-1' });
    const before = receiver.requests.length;
    const res = await probe(created.body.destination_id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, status_code: 202, error: null });
    // Synchronous: the request has already landed when the call returns.
    const got = receiver.requests.slice(before).filter((r) => r.path === '/probe-here');
    expect(got).toHaveLength(1);
    expect(got[0]!.method).toBe('POST');
    expect(got[0]!.headers.authorization).toBe('Bearer probe-token-1');
    const event = JSON.parse(got[0]!.body.toString('utf8'));
    // The custom preset's envelope is the plain wire object.
    expect(event.event.dataset).toBe('aegis.audit_stream.test');
    expect(event.organization).toEqual({ id: orgId });
    expect(JSON.stringify(event).toLowerCase()).toContain('test');
  });

  it('Create takes the optional siem preset, and the probe uses that preset envelope (Splunk HEC)', async () => {
    const created = await create({
      url: `${receiver.url}/services/collector/event`,
      siem: 'splunk_hec',
      auth_header_name: 'Authorization',
      auth_header_value: 'Splunk hec-token-1',
    });
    expect(created.status).toBe(201);
    expect(created.body.siem).toBe('splunk_hec');
    const before = receiver.requests.length;
    expect((await probe(created.body.destination_id)).body.ok).toBe(true);
    const got = receiver.requests.slice(before).find((r) => r.path === '/services/collector/event')!;
    expect(got.headers.authorization).toBe('Splunk hec-token-1');
    const lines = got.body.toString('utf8').trim().split('\n');
    const envelope = JSON.parse(lines[0]!);
    expect(envelope.event.event.dataset).toBe('aegis.audit_stream.test');
    expect(envelope).toHaveProperty('time');

    // A preset knows its header: Datadog's key goes in DD-API-KEY when no name is given.
    const dd = await create({ url: `${receiver.url}/api/v2/logs`, siem: 'datadog', auth_header_value: 'dd-key-1' });
    expect(dd.status).toBe(201);
    expect(dd.body).toMatchObject({ siem: 'datadog', auth_header_name: 'DD-API-KEY', auth_header_configured: true });

    const bad = await create({ url: `${receiver.url}/x`, siem: 'syslog' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('siem');
  });

  it('3. List and get one: every read carries status, last_delivery_at, last_error, siem; no credential', async () => {
    const a = await create({ url: `${receiver.url}/list-a`, auth_header_name: 'X-Token', auth_header_value: 'list-secret-a' });
    const list = await svc.request('GET', base(), { apiKey });
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body)).toBe(true);
    const found = list.body.find((d: { destination_id: string }) => d.destination_id === a.body.destination_id);
    expect(found).toBeDefined();
    for (const d of list.body) for (const f of READ_FIELDS) expect(d).toHaveProperty(f);
    expect(list.text).not.toContain('list-secret-a');

    const one = await get(a.body.destination_id);
    expect(one.status).toBe(200);
    for (const f of READ_FIELDS) expect(one.body).toHaveProperty(f);
    expect(one.body).toMatchObject({ destination_id: a.body.destination_id, auth_header_name: 'X-Token', auth_header_configured: true, siem: 'custom' });
    expect(one.text).not.toContain('list-secret-a');
  });

  it('PATCH {"enabled": false} disables (status disabled, no forwarding), {"enabled": true} re-enables', async () => {
    const d = await create({ url: `${receiver.url}/toggle` });
    const id = d.body.destination_id;
    const off = await patch(id, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, status: 'disabled' });
    expect((await get(id)).body.enabled).toBe(false);

    const before = receiver.requests.filter((r) => r.path === '/toggle').length;
    const pf = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'nothing to see' } });
    expect(pf.status).toBe(200);
    // Nothing queued for it but its farewell (the destination_disabled trail event, docs/trail.md).
    const { rows } = await tdb.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1 AND left(event_id, 4) <> 'cfg_'`,
      [id],
    );
    expect(rows[0]!.n).toBe(0);
    expect(receiver.requests.filter((r) => r.path === '/toggle').length).toBe(before);

    const on = await patch(id, { enabled: true });
    expect(on.body).toMatchObject({ enabled: true });
    expect(on.body.status).not.toBe('disabled');
  });

  it('PATCH auth_header_value rotates (the receiver then gets the new header); "" clears it (no header sent)', async () => {
    const d = await create({ url: `${receiver.url}/rotate`, auth_header_name: 'Authorization', auth_header_value: 'Bearer old-token' });
    const id = d.body.destination_id;
    const last = () => receiver.requests.filter((r) => r.path === '/rotate').at(-1)!;
    await probe(id);
    expect(last().headers.authorization).toBe('Bearer old-token');

    const rotated = await patch(id, { auth_header_value: 'Bearer new-token' });
    expect(rotated.status).toBe(200);
    expect(rotated.body.auth_header_configured).toBe(true);
    expect(rotated.text).not.toContain('new-token');
    expect((await probe(id)).body.ok).toBe(true);
    expect(last().headers.authorization).toBe('Bearer new-token');

    // Live delivery (not only the probe) uses the rotated credential too.
    const pf = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'rotate check' } });
    await receiver.waitFor((reqs) => reqs.some((r) => r.path === '/rotate' && r.body.toString().includes(pf.body.preflight_id)), 60_000);
    const live = receiver.requests.find((r) => r.path === '/rotate' && r.body.toString().includes(pf.body.preflight_id))!;
    expect(live.headers.authorization).toBe('Bearer new-token');

    const cleared = await patch(id, { auth_header_value: '' });
    expect(cleared.status).toBe(200);
    expect(cleared.body.auth_header_configured).toBe(false);
    expect((await get(id)).body.auth_header_configured).toBe(false);
    expect((await probe(id)).body.ok).toBe(true);
    expect(last().headers.authorization).toBeUndefined();
    const { rows } = await tdb.db.query<{ s: Buffer | null }>('SELECT auth_header_sealed AS s FROM destinations WHERE id = $1', [id]);
    expect(rows[0]!.s).toBeNull();
  });

  it("PATCH refuses another siem, saying it cannot change; the destination's own is accepted", async () => {
    const created = await create({ url: `${receiver.url}/siem-fixed`, auth_header_value: 'Bearer fixed-1' });
    expect(created.status, created.text).toBe(201);
    const id = created.body.destination_id as string;
    const other = await patch(id, { siem: 'datadog' });
    expect(other.status).toBe(400);
    expect(other.body.error).toEqual({
      code: 'validation_failed',
      message: 'siem: cannot be changed: this destination sends to custom; create a new destination for datadog',
      details: [{ path: '/siem', message: 'cannot be changed: this destination sends to custom; create a new destination for datadog' }],
    });
    const same = await patch(id, { siem: 'custom', name: 'Fixed' });
    expect(same.status, same.text).toBe(200);
    expect(same.body.siem).toBe('custom');
    expect(same.body.name).toBe('Fixed');
  });

  it('PATCH also edits url and auth_header_name (the next request goes to the new URL with the new header name)', async () => {
    const d = await create({ url: `${receiver.url}/old-path`, auth_header_name: 'Authorization', auth_header_value: 'Bearer edit-token' });
    const id = d.body.destination_id;
    const res = await patch(id, { url: `${receiver.url}/new-path`, auth_header_name: 'X-Api-Key' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ url: `${receiver.url}/new-path`, auth_header_name: 'X-Api-Key', auth_header_configured: true });
    expect((await get(id)).body.url).toBe(`${receiver.url}/new-path`);
    const before = receiver.requests.length;
    expect((await probe(id)).body.ok).toBe(true);
    const got = receiver.requests.slice(before);
    expect(got.map((r) => r.path)).toEqual(['/new-path']);
    expect(got[0]!.headers['x-api-key']).toBe('Bearer edit-token');
    expect(got[0]!.headers.authorization).toBeUndefined();
  });

  it('DELETE removes the destination and clears its pending queued events', async () => {
    const failing = await startReceiver(respondWith(503, 'down'));
    try {
      const d = await create({ url: `${failing.url}/down` });
      const id = d.body.destination_id;
      for (let i = 0; i < 3; i++)
        expect((await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: `event ${i}` } })).status).toBe(200);
      await expect.poll(async () => Number((await get(id)).body.pending_events), { timeout: 60_000 }).toBe(3);
      // How far behind it is: when the oldest queued event was recorded (its job's creation).
      const { rows: first } = await tdb.db.query<{ t: Date }>(
        `SELECT min(created_at) AS t FROM forwarding_jobs WHERE destination_id = $1 AND status = 'pending'`,
        [id],
      );
      expect((await get(id)).body.oldest_pending_at).toBe(new Date(first[0]!.t).toISOString());
      // Null exactly when nothing is pending (its own destination_created trail event may still be).
      expect(d.body.oldest_pending_at === null).toBe(d.body.pending_events === 0);
      const del = await svc.request('DELETE', `${base()}/${id}`, { apiKey });
      expect(del.status).toBe(200);
      expect(del.body).toMatchObject({ deleted: true, cleared_events: 3 });
      // Its jobs go with the row once its farewell (the destination_deleted trail event) is delivered.
      const jobs = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1', [id])).rows[0]!.n;
      await expect.poll(jobs, { timeout: 60_000 }).toBe(0);
      expect((await get(id)).status).toBe(404);
      const list = await svc.request('GET', base(), { apiKey });
      expect(list.body.map((x: { destination_id: string }) => x.destination_id)).not.toContain(id);
      expect((await svc.request('DELETE', `${base()}/${id}`, { apiKey })).status).toBe(404);
    } finally {
      await failing.close();
    }
  });

  it('status, last_error and last_delivery_at follow deliveries (failing with a hint, then active)', async () => {
    const flaky = await startReceiver(respondWith(401, 'nope'));
    try {
      // Decisions only: its own destination_created trail event (docs/trail.md), answered 200, could
      // otherwise make it active between the failed probe and the read below.
      const d = await create({
        url: `${flaky.url}/s`,
        auth_header_name: 'Authorization',
        auth_header_value: 'Bearer revoked',
        filter: DECISIONS_ONLY,
      });
      const id = d.body.destination_id;
      expect(d.body.status).toBe('idle');
      const p = await probe(id);
      expect(p.body).toMatchObject({ ok: false, status_code: 401 });
      const afterFail = await get(id);
      expect(afterFail.body.status).toBe('failing');
      expect(afterFail.body.last_error).toMatch(/token/i);
      flaky.setHandler(respondWith(200, 'ok'));
      await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'hello' } });
      await expect.poll(async () => String((await get(id)).body.status), { timeout: 60_000 }).toBe('active');
      const after = await get(id);
      expect(after.body.last_error).toBeNull();
      expect(Date.parse(after.body.last_delivery_at)).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      await flaky.close();
    }
  });
});
