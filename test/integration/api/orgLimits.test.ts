import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';

// Per-organization caps: one tenant cannot make the service work for everyone else's time (10,000
// destinations made one 100-record request create 1,000,000 jobs in one 80 s transaction).
describe.each(DB_KINDS)('per-organization destination caps (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_MAX_DESTINATIONS_PER_ORG: '3', AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG: '2' });
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const create = (org: { orgId: string; apiKey: string }, extra: Record<string, unknown> = {}) =>
    svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey, body: { url: 'https://siem.example.com/in', ...extra } });
  const patch = (org: { orgId: string; apiKey: string }, id: string, body: Record<string, unknown>) =>
    svc.request('PATCH', `/api/orgs/${org.orgId}/forwarding-destinations/${id}`, { apiKey: org.apiKey, body });

  it('creating or enabling past a cap answers 409 limit_reached naming the cap; nothing is written', async () => {
    const org = await svc.newOrg();
    const a = await create(org);
    const b = await create(org);
    expect([a.status, b.status]).toEqual([201, 201]);
    const third = await create(org);
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe('limit_reached');
    expect(third.body.error.message).toMatch(/AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG = 2/);
    expect(third.body.error.message).toMatch(/"enabled": false/);
    // A disabled one still fits under the total cap...
    const off = await create(org, { enabled: false });
    expect(off.status).toBe(201);
    // ...but not a fourth destination of any kind.
    const fourth = await create(org, { enabled: false });
    expect(fourth.status).toBe(409);
    expect(fourth.body.error.message).toMatch(/AEGIS_MAX_DESTINATIONS_PER_ORG = 3/);
    const list = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey });
    expect((list.body as unknown[]).length).toBe(3);

    // Enabling the disabled one passes the enabled cap; disabling another first makes room.
    const offId = off.body.destination_id as string;
    const enable = await patch(org, offId, { enabled: true });
    expect(enable.status).toBe(409);
    expect(enable.body.error.code).toBe('limit_reached');
    expect((await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${offId}`, { apiKey: org.apiKey })).body.enabled).toBe(false);
    expect((await patch(org, a.body.destination_id as string, { enabled: false })).status).toBe(200);
    expect((await patch(org, offId, { enabled: true })).status).toBe(200);
    // Edits that do not enable anything are never refused by the caps.
    expect((await patch(org, offId, { name: 'SOC Splunk' })).status).toBe(200);
    expect((await patch(org, offId, { enabled: true })).status).toBe(200);

    // Another organization has its own caps.
    const other = await svc.newOrg();
    expect((await create(other)).status).toBe(201);
  });

  // A storage review: deleted destinations are kept until their farewell is sent (up to a day), and a
  // loop of create and delete kept hundreds of thousands of them past both caps. An API process alone
  // on a database of its own: no worker sends a farewell or purges, so the deleted ones stay.
  it('destinations deleted and still sending their farewell count under the cap too', async () => {
    const own = await openTestDb(kind);
    const api = await startTestService(own.db, { AEGIS_MAX_DESTINATIONS_PER_ORG: '3', AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG: '2' }, 'api');
    try {
      const org = await api.newOrg();
      const make = () =>
        api.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey, body: { url: 'https://siem.example.com/in' } });
      for (let i = 0; i < 3; i++) {
        const made = await make();
        expect(made.status, made.text).toBe(201);
        const gone = await api.request('DELETE', `/api/orgs/${org.orgId}/forwarding-destinations/${made.body.destination_id as string}`, {
          apiKey: org.apiKey,
        });
        expect(gone.status, gone.text).toBe(200);
      }
      expect((await api.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey })).body).toEqual([]);
      const refused = await make();
      expect(refused.status, refused.text).toBe(409);
      expect(refused.body.error.code).toBe('limit_reached');
      expect(refused.body.error.message).toMatch(/has 3 deleted destinations still sending their farewell event/);
      // Once they are gone (the worker's purge, done by hand here), there is room again.
      await own.db.query('DELETE FROM destinations WHERE org_id = $1 AND deleted_at IS NOT NULL', [org.orgId]);
      expect((await make()).status).toBe(201);
    } finally {
      await api.stop();
      await own.close();
    }
  });

  it('concurrent creates cannot together pass the cap', async () => {
    const org = await svc.newOrg();
    const all = await Promise.all(Array.from({ length: 6 }, () => create(org)));
    expect(all.filter((r) => r.status === 201)).toHaveLength(2);
    expect(all.filter((r) => r.status === 409)).toHaveLength(4);
    const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM destinations WHERE org_id = $1 AND enabled', [org.orgId]);
    expect(rows[0]!.n).toBe(2);
  });
});
