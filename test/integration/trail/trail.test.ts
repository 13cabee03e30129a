// The configuration trail end to end: real service, real HTTPS receivers, both databases. Every change
// is an aegis.audit_stream event forwarded to every enabled destination (filters applying), and a
// destination being disabled or deleted receives its own notice last, after any request in flight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type Receiver, type ReceivedRequest } from '../../support/httpsReceiver.js';
import { apiKeyActorId } from '../../../src/auth/apiKeys.js';
import { validateTrailEvent } from '../../../src/events/validate.js';
import { actionsFor, eventsOf, trailOf, type ReceivedEvent } from './support.js';

const WAIT = { timeout: 60_000, interval: 100 };

describe.each(DB_KINDS)('configuration trail (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  const receivers: Receiver[] = [];
  let org: { orgId: string; apiKey: string };
  let base: string;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    org = await svc.newOrg();
    base = `/api/orgs/${org.orgId}/forwarding-destinations`;
  });
  afterAll(async () => {
    await svc?.stop();
    await Promise.all(receivers.map((r) => r.close()));
    await tdb?.close();
  });

  async function receiver(handler = ok()): Promise<Receiver> {
    const r = await startReceiver(handler, { trail: 'handle' });
    receivers.push(r);
    return r;
  }
  async function api(method: string, path: string, body?: unknown) {
    const res = await svc.request(method, path, { apiKey: org.apiKey, ...(body !== undefined ? { body } : {}) });
    expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
    return res.body;
  }
  async function create(r: Receiver, extra: Record<string, unknown> = {}): Promise<string> {
    return (await api('POST', base, { siem: 'custom', url: `${r.url}/hook`, ...extra })).destination_id as string;
  }
  const preflight = () => api('POST', `/api/orgs/${org.orgId}/preflight`, { input: 'nothing to see here' });
  const byTime = (a: ReceivedEvent, b: ReceivedEvent) => String(a['@timestamp']).localeCompare(String(b['@timestamp']));

  it('records every change as an event forwarded to every enabled destination, valid against the published schema', async () => {
    const watcher = await receiver();
    const subject = await receiver();
    const watcherId = await create(watcher);
    const id = await create(subject, { auth_header_name: 'Authorization', auth_header_value: 'Bearer first-credential-1234', signing: true });
    await api('PATCH', `${base}/${id}`, { name: 'Prod SIEM', options: { max_events_per_second: 50 } });
    await api('PATCH', `${base}/${id}`, { auth_header_value: 'Bearer second-credential-5678' });
    await api('PATCH', `${base}/${id}`, { rotate_signing_secret: true });
    await api('PATCH', `${base}/${id}`, { auth_header_value: '' });
    await api('PATCH', `${base}/${id}`, { name: 'Prod SIEM' }); // changes nothing: records nothing
    await api('POST', `${base}/${id}/test`);
    await api('POST', `${base}/${id}/replay`);
    await api('PUT', `/api/orgs/${org.orgId}/notification-settings`, { emails: ['ops@example.com'], webhook_url: null });
    await api('PATCH', `${base}/${id}`, { enabled: false });
    await api('PATCH', `${base}/${id}`, { enabled: true });
    // Delivered before the delete, which would clear it from the subject's queue (not the watcher's).
    await expect.poll(() => actionsFor(subject.requests, id).includes('destination_enabled'), WAIT).toBe(true);
    await api('DELETE', `${base}/${id}`);

    const expected = [
      'destination_created',
      'destination_updated',
      'credential_rotated',
      'signing_secret_rotated',
      'credential_removed',
      'test_sent',
      'replay_requested',
      'destination_disabled',
      'destination_enabled',
      'destination_deleted',
    ];
    await expect.poll(() => actionsFor(watcher.requests, id).length, WAIT).toBe(expected.length);
    await expect.poll(() => actionsFor(watcher.requests, null).length, WAIT).toBe(1);
    const trail = trailOf(watcher.requests).sort(byTime);
    expect(trail.filter((e) => e.aegis.destination_id === id).map((e) => e.event.action)).toEqual(expected);
    expect(trail[0]!.event.action).toBe('destination_created'); // the watcher's own creation
    for (const e of trail) {
      expect(validateTrailEvent(e), JSON.stringify(e)).toEqual([]);
      expect(e.aegis.actor_type).toBe('api_key');
      expect(e.aegis.actor_id).toBe(apiKeyActorId(org.apiKey));
      expect(e.organization).toEqual({ id: org.orgId });
    }
    const find = (action: string) => trail.find((e) => e.event.action === action && e.aegis.destination_id !== watcherId)!;
    expect(find('destination_created').aegis.changed_fields).toEqual(['url', 'format', 'auth_header_name', 'auth_header_value', 'signing', 'enabled']);
    expect(find('destination_updated').aegis.changed_fields).toEqual(['name', 'options.max_events_per_second']);
    expect(find('destination_updated').aegis.siem).toBe('custom');
    expect(find('notification_settings_changed').aegis.changed_fields).toEqual(['emails']);
    expect(find('test_sent').event.outcome).toBe('success');

    // The subject saw its own changes while enabled, its disable notice, and its delete notice last.
    await expect.poll(() => actionsFor(subject.requests, id).at(-1), WAIT).toBe('destination_deleted');
    const own = actionsFor(subject.requests, id);
    expect(own).toContain('destination_disabled');
    expect(own.indexOf('destination_disabled')).toBeLessThan(own.indexOf('destination_enabled'));
    // Gone for readers at once; the row itself once its farewell was delivered.
    expect((await svc.request('GET', `${base}/${id}`, { apiKey: org.apiKey })).status).toBe(404);
    await expect.poll(async () => (await tdb.db.query('SELECT 1 FROM destinations WHERE id = $1', [id])).rowCount, WAIT).toBe(0);
  });

  it('a disabled destination gets its notice after the request in flight, and nothing after it', async () => {
    const watcher = await receiver();
    let releasedAt = 0;
    // The first live event is held at the receiver until the test opens the gate: the disable happens,
    // and its notice is queued, while that request is in flight.
    let held = false;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const subject = await receiver(async (req: ReceivedRequest) => {
      const e = JSON.parse(req.body.toString('utf8')) as { event: { dataset: string } };
      if (e.event.dataset === 'aegis.preflight' && !held) {
        held = true;
        await gate;
        releasedAt = Date.now();
      }
      return { status: 200, body: 'ok' };
    });
    const id = await create(subject);
    const watcherId = await create(watcher);
    await expect.poll(() => actionsFor(subject.requests, id).length, WAIT).toBe(1);
    await preflight();
    await expect.poll(() => held, WAIT).toBe(true);
    await api('PATCH', `${base}/${id}`, { enabled: false });
    // The notice is queued while the request is still held; only then does the receiver answer it.
    const farewells = async () => (await tdb.db.query('SELECT 1 FROM forwarding_jobs WHERE destination_id = $1 AND farewell', [id])).rows.length;
    await expect.poll(farewells, WAIT).toBe(1);
    expect(releasedAt).toBe(0);
    open();

    await expect.poll(() => actionsFor(subject.requests, id).at(-1), WAIT).toBe('destination_disabled');
    const notice = subject.requests.find((r) => r.body.toString('utf8').includes('"destination_disabled"'))!;
    expect(releasedAt).toBeGreaterThan(0);
    expect(notice.receivedAt).toBeGreaterThanOrEqual(releasedAt);

    // Events recorded afterwards reach the watcher, never the disabled destination (they wait for it).
    const count = subject.requests.length;
    await preflight();
    await api('PATCH', `${base}/${watcherId}`, { name: 'Watcher' });
    await expect.poll(() => eventsOf(watcher.requests).filter((e) => e.event.dataset === 'aegis.preflight').length, WAIT).toBe(2);
    await expect.poll(() => actionsFor(watcher.requests, watcherId).includes('destination_updated'), WAIT).toBe(true);
    await svc.service.worker?.idle();
    expect(subject.requests.length).toBe(count);
    const { rows } = await tdb.db.query<{ farewell: boolean; status: string }>(
      'SELECT farewell, status FROM forwarding_jobs WHERE destination_id = $1 ORDER BY id',
      [id],
    );
    // Its one farewell (queued above) was delivered, once: its job is gone, as a settle deletes a
    // delivered job (a retried or dead-lettered one would stay).
    expect(rows.filter((r) => r.farewell)).toEqual([]);
    expect(actionsFor(subject.requests, id).filter((a) => a === 'destination_disabled')).toEqual(['destination_disabled']);
    // Events recorded while it is disabled are not queued for it at all (and the earlier ones were delivered).
    expect(rows).toEqual([]);
  });

  it("a destination's filter applies to the trail, but not to its own disable notice", async () => {
    const subject = await receiver();
    const id = await create(subject, { filter: { 'event.dataset': 'aegis.preflight' } });
    await api('PATCH', `${base}/${id}`, { name: 'Filtered' });
    await preflight();
    await expect.poll(() => eventsOf(subject.requests).length, WAIT).toBe(1);
    await api('PATCH', `${base}/${id}`, { enabled: false });
    await expect.poll(() => trailOf(subject.requests).map((e) => e.event.action), WAIT).toEqual(['destination_disabled']);
  });

  it('a farewell the SIEM refuses is retried; a deleted disabled destination gets none and goes at once', async () => {
    let refusals = 0;
    const subject = await receiver(() => (refusals-- > 0 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' }));
    const id = await create(subject, { enabled: false });
    await api('PATCH', `${base}/${id}`, { enabled: true });
    await expect.poll(() => actionsFor(subject.requests, id), WAIT).toEqual(['destination_enabled']);
    refusals = 1;
    await api('DELETE', `${base}/${id}`);
    const list = (await api('GET', base)) as Array<{ destination_id: string }>;
    expect(list.map((d) => d.destination_id)).not.toContain(id);
    expect((await svc.request('DELETE', `${base}/${id}`, { apiKey: org.apiKey })).status).toBe(404);
    // Refused once (503), delivered on the retry; the row waited for it.
    await expect.poll(() => actionsFor(subject.requests, id), WAIT).toEqual(['destination_enabled', 'destination_deleted', 'destination_deleted']);
    await expect.poll(async () => (await tdb.db.query('SELECT 1 FROM destinations WHERE id = $1', [id])).rowCount, WAIT).toBe(0);

    const quiet = await receiver();
    const off = await create(quiet, { enabled: false });
    await api('DELETE', `${base}/${off}`);
    expect((await tdb.db.query('SELECT 1 FROM destinations WHERE id = $1', [off])).rowCount).toBe(0);
    // Whatever the worker had started has finished: had it sent anything, the receiver would have it.
    await svc.service.worker?.idle();
    expect(quiet.requests.length).toBe(0);
  });

  it('GET .../activity pages the trail newest first with a cursor, names only; a forged cursor is a 400', async () => {
    const other = await svc.newOrg();
    const path = `/api/orgs/${other.orgId}/activity`;
    const call = (q = '') => svc.request('GET', `${path}${q}`, { apiKey: other.apiKey });
    expect((await call()).body).toEqual({ activity: [], next_cursor: null });
    const r = await receiver();
    const created = await svc.request('POST', `/api/orgs/${other.orgId}/forwarding-destinations`, {
      apiKey: other.apiKey,
      body: { siem: 'splunk_hec', url: `${r.url}/services/collector/event`, auth_header_value: 'Splunk activity-secret-0000' },
    });
    expect(created.status).toBe(201);
    const id = created.body.destination_id as string;
    expect(
      (
        await svc.request('PATCH', `/api/orgs/${other.orgId}/forwarding-destinations/${id}`, {
          apiKey: other.apiKey,
          body: { options: { index: 'audit' }, enabled: false },
        })
      ).status,
    ).toBe(200);

    const first = await call('?limit=2');
    expect(first.status, first.text).toBe(200);
    expect(first.body.activity.map((a: { action: string }) => a.action)).toEqual(['destination_disabled', 'destination_updated']);
    expect(first.body.activity[1]).toMatchObject({
      actor_type: 'api_key',
      actor_id: apiKeyActorId(other.apiKey),
      destination_id: id,
      siem: 'splunk_hec',
      changed_fields: ['options.index'],
      outcome: 'success',
    });
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call(`?limit=2&cursor=${first.body.next_cursor as string}`);
    expect(second.body.activity.map((a: { action: string }) => a.action)).toEqual(['destination_created']);
    expect(second.body.next_cursor).toBeNull();
    expect(JSON.stringify([first.body, second.body])).not.toContain('activity-secret-0000');

    // Not a time, and a time no database holds (an edited year 0000 was a 500).
    for (const text of ['t1.not-a-time|cfg_x', 't1.0000-01-01T00:00:00.000Z|cfg_x']) {
      const forged = await call(`?cursor=${Buffer.from(text).toString('base64url')}`);
      expect(forged.status, text).toBe(400);
      expect(forged.body.error.message).toMatch(/^cursor: /);
    }
    expect((await call('?limit=0')).status).toBe(400);
    // Another organization's trail is not there for this key.
    expect((await svc.request('GET', `/api/orgs/${org.orgId}/activity`, { apiKey: other.apiKey })).status).toBe(404);
  });
});
