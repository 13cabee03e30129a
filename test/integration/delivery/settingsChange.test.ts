// Once a PATCH (new URL, new credential) or a delete has been answered, nothing more is sent with the
// old settings: a claim being sent when the change commits stops at its next request (workers hear of
// it through NOTIFY, queue/types.ts SETTINGS_CHANGED), and gives the rest back without an attempt.
// Requests already on the wire finish. The old receiver holds every request, so the requests in flight
// when the change is made are known exactly; nothing here waits on time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { eventIdsOf, jobRows, receivedCounts, seedEvents } from './support.js';
import { scrapeMetric } from '../../support/metrics.js';
import { workerDatabaseUrl } from '../../support/workerProcess.js';
import { openPg } from '../../../src/db/pg.js';
import type { Db } from '../../../src/db/types.js';

const POLL = { timeout: 120_000, interval: 50 };

describe.each(DB_KINDS)("a destination's settings changed while its claim is being sent (%s)", (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  /** On PostgreSQL the service's own connections, named so that a test can cut only them. */
  let own: Db | null = null;
  const tag = `aegis_settings_${process.pid}`;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    own = tdb.schema ? openPg({ connectionString: workerDatabaseUrl(tdb.schema, tag), max: 8, connectionTimeoutMs: 60_000 }) : null;
    svc = await startTestService(own ?? tdb.db);
  });
  afterAll(async () => {
    await svc?.stop();
    await own?.close();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  const inFlight = async () => (await scrapeMetric(svc, 'aegis_delivery_requests_in_flight')) || 0;

  /** A receiver that answers 200 to every request once `open()` is called, and holds them until then. */
  async function heldReceiver() {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const r = await startReceiver(async () => {
      await opened;
      return { status: 200, body: 'ok' };
    });
    receivers.push(r);
    return { r, open };
  }

  async function sendingTo(r: Receiver, org: { orgId: string; apiKey: string }, events: number) {
    const created = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { siem: 'custom', url: `${r.url}/hook`, auth_header_name: 'Authorization', auth_header_value: 'Bearer old-credential-0001', enabled: true },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.destination_id as string;
    const ids = await seedEvents(tdb.db, org.orgId, events);
    // Every request the claim has in flight is held by the old receiver: none more is sent meanwhile.
    await expect.poll(async () => r.requests.length > 0 && r.requests.length === (await inFlight()), POLL).toBe(true);
    return { id, ids, heldAtChange: r.requests.length };
  }

  const heardChange = (id: string) => svc.logs.lines.some((l) => l.includes("destination's settings changed") && l.includes(id));

  it('a PATCH of URL and credential: the rest of the claim goes to the new URL with the new credential', async () => {
    const org = await svc.newOrg('patched');
    const old = await heldReceiver();
    const next = await startReceiver(() => ({ status: 200, body: 'ok' }));
    receivers.push(next);
    const { id, ids, heldAtChange } = await sendingTo(old.r, org, 300);

    const patched = await svc.request('PATCH', `/api/orgs/${org.orgId}/forwarding-destinations/${id}`, {
      apiKey: org.apiKey,
      body: { url: `${next.url}/hook`, auth_header_value: 'Bearer new-credential-0002' },
    });
    expect(patched.status, patched.text).toBe(200);
    await expect.poll(() => heardChange(id), POLL).toBe(true);
    old.open();

    await expect.poll(async () => (await jobRows(tdb.db, id)).filter((j) => j.status === 'pending').length, POLL).toBe(0);
    // Not one request more to the old URL after the change was heard: only those already on the wire.
    expect(old.r.requests).toHaveLength(heldAtChange);
    // Every event arrived, the rest at the new URL, with the new credential only.
    const received = new Set([...receivedCounts(old.r.requests).keys(), ...receivedCounts(next.requests).keys()]);
    for (const e of ids) expect(received.has(e)).toBe(true);
    expect(next.requests.filter((q) => eventIdsOf(q).length > 0).length).toBeGreaterThan(0);
    expect(new Set(next.requests.map((q) => q.headers.authorization))).toEqual(new Set(['Bearer new-credential-0002']));
    // Given back without an attempt: nothing was dead-lettered or failed on the way.
    expect((await jobRows(tdb.db, id)).filter((j) => j.status === 'failed')).toEqual([]);
  });

  it('a delete: nothing more is sent but the requests on the wire and its farewell', async () => {
    const org = await svc.newOrg('deleted');
    const old = await heldReceiver();
    const { id, heldAtChange } = await sendingTo(old.r, org, 300);

    const deleted = await svc.request('DELETE', `/api/orgs/${org.orgId}/forwarding-destinations/${id}`, { apiKey: org.apiKey });
    expect(deleted.status, deleted.text).toBe(200);
    await expect.poll(() => heardChange(id), POLL).toBe(true);
    old.open();

    await expect.poll(async () => (await jobRows(tdb.db, id)).length, POLL).toBe(0);
    // The requests on the wire, then the farewell (one trail event): no event of the claim's rest.
    const after = old.r.requests.slice(heldAtChange);
    expect(after.every((q) => eventIdsOf(q).length <= 1)).toBe(true);
    expect(after.length).toBeLessThanOrEqual(1);
  });

  it('a change heard late (already in the row its runner read) costs one claim, and the backlog drains', async () => {
    const org = await svc.newOrg('heard late');
    const old = await heldReceiver();
    const { id, ids } = await sendingTo(old.r, org, 300);
    // The notice without a change: as when a runner read the row after the change's commit and
    // heard of it only then.
    await tdb.db.query(`SELECT pg_notify('aegis_jobs', 'settings:' || $1::text)`, [id]);
    await expect.poll(() => heardChange(id), POLL).toBe(true);
    old.open();
    await expect.poll(async () => (await jobRows(tdb.db, id)).filter((j) => j.status === 'pending').length, POLL).toBe(0);
    const received = new Set(receivedCounts(old.r.requests).keys());
    for (const e of ids) expect(received.has(e)).toBe(true);
  });

  // A NOTIFY sent while the worker's LISTEN connection is down is lost (PostgreSQL keeps none for a
  // session that is not there). A worker back on its LISTEN connection cannot know what it missed, so
  // it takes every claim being sent as changed: one claim's rest goes back, never the old credential.
  it.runIf(kind === 'postgres')(
    'a change made while the LISTEN connection was down still stops the claim',
    async () => {
      const org = await svc.newOrg('deaf');
      const old = await heldReceiver();
      const next = await startReceiver(() => ({ status: 200, body: 'ok' }));
      receivers.push(next);
      const { id, ids, heldAtChange } = await sendingTo(old.r, org, 300);
      const listener = async () =>
        (await tdb.db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = 'LISTEN aegis_jobs'`, [tag])).rows.map(
          (r) => r.pid,
        );
      const [deaf] = await listener();
      expect(deaf).toBeTypeOf('number');
      await tdb.db.query('SELECT pg_terminate_backend($1)', [deaf]);
      const patched = await svc.request('PATCH', `/api/orgs/${org.orgId}/forwarding-destinations/${id}`, {
        apiKey: org.apiKey,
        body: { url: `${next.url}/hook`, auth_header_value: 'Bearer new-credential-0003' },
      });
      expect(patched.status, patched.text).toBe(200);
      // Listening again, on a new connection.
      await expect.poll(async () => (await listener()).some((pid) => pid !== deaf), POLL).toBe(true);
      await expect.poll(() => heardChange(id), POLL).toBe(true);
      old.open();

      await expect.poll(async () => (await jobRows(tdb.db, id)).filter((j) => j.status === 'pending').length, POLL).toBe(0);
      expect(old.r.requests).toHaveLength(heldAtChange);
      const received = new Set([...receivedCounts(old.r.requests).keys(), ...receivedCounts(next.requests).keys()]);
      for (const e of ids) expect(received.has(e)).toBe(true);
      expect(new Set(next.requests.map((q) => q.headers.authorization))).toEqual(new Set(['Bearer new-credential-0003']));
    },
    600_000,
  );
});
