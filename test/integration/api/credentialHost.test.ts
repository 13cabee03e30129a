import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';

// A stored credential is never sent to a new host: editing a destination's URL to another origin
// must not let whoever holds an API key (or a dashboard session) redirect the secret to their server.
describe('moving a destination to another host', () => {
  let tdb: TestDb;
  let svc: TestService;
  let home: Receiver;
  let elsewhere: Receiver;
  beforeAll(async () => {
    tdb = await openTestDb('pglite');
    svc = await startTestService(tdb.db);
    home = await startReceiver();
    elsewhere = await startReceiver();
  });
  afterAll(async () => {
    await svc?.stop();
    await home?.close();
    await elsewhere?.close();
    await tdb?.close();
  });

  it('is refused without the credential, allowed with it or with "", and a path change keeps it', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const base = `/api/orgs/${orgId}/forwarding-destinations`;
    const created = await svc.request('POST', base, {
      apiKey,
      body: { url: `${home.url}/a`, auth_header_name: 'Authorization', auth_header_value: 'Bearer stays-home-123' },
    });
    const id = created.body.destination_id as string;

    const moved = await svc.request('PATCH', `${base}/${id}`, { apiKey, body: { url: `${elsewhere.url}/steal` } });
    expect(moved.status).toBe(400);
    expect(moved.body.error.message).toMatch(/^url: moving the destination to another host or port requires auth_header_value/);
    expect((await svc.request('GET', `${base}/${id}`, { apiKey })).body.url).toBe(`${home.url}/a`);

    const samePath = await svc.request('PATCH', `${base}/${id}`, { apiKey, body: { url: `${home.url}/b` } });
    expect(samePath.status).toBe(200);
    expect(samePath.body.auth_header_configured).toBe(true);

    const withNew = await svc.request('PATCH', `${base}/${id}`, { apiKey, body: { url: `${elsewhere.url}/new`, auth_header_value: 'Bearer new-home-456' } });
    expect(withNew.status).toBe(200);
    expect((await svc.request('POST', `${base}/${id}/test`, { apiKey })).body.ok).toBe(true);
    expect(elsewhere.requests.at(-1)!.headers.authorization).toBe('Bearer new-home-456');
    expect(elsewhere.requests.some((r) => r.headers.authorization === 'Bearer stays-home-123')).toBe(false);

    const cleared = await svc.request('PATCH', `${base}/${id}`, { apiKey, body: { url: `${home.url}/c`, auth_header_value: '' } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.auth_header_configured).toBe(false);
  });
});
