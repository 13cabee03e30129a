import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, respondWith, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { POLL } from '../../support/waitFor.js';
import { receivedCounts, seedEvents } from './support.js';

// A user fixes a failing destination (a new token, a new URL) and its test event gets through: the
// queued events must go now, not when the circuit breaker's pause (up to 10 minutes) runs out, while
// the card goes on saying "Deliveries paused until ...". The real service, both databases.
describe.each(DB_KINDS)('a test event that gets through closes the circuit breaker (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let r: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1,1,1,1,1,1', AEGIS_WORKER_INTERVAL_MS: '1000' });
    r = await startReceiver(respondWith(503));
  });
  afterAll(async () => {
    await svc?.stop();
    await r?.close();
    await tdb?.close();
  });

  it('delivers the queued events at once, and the card no longer says paused', async () => {
    const org = await svc.newOrg();
    const created = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${r.url}/hook`, auth_header_name: 'Authorization', auth_header_value: 'Bearer t' },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.destination_id as string;
    const path = `/api/orgs/${org.orgId}/forwarding-destinations/${id}`;
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    // Failing until the breaker holds it; then held for an hour, far past this test's ceilings.
    await expect.poll(async () => (await svc.request('GET', path, { apiKey: org.apiKey })).body.paused_until ?? null, POLL).not.toBeNull();
    await tdb.db.query(`UPDATE destinations SET paused_until = now() + interval '1 hour' WHERE id = $1`, [id]);
    r.setHandler(ok());

    const test = await svc.request('POST', `${path}/test`, { apiKey: org.apiKey, body: {} });
    expect(test.status, test.text).toBe(200);
    expect(test.body.ok).toBe(true);
    const after = await svc.request('GET', path, { apiKey: org.apiKey });
    expect(after.body.paused_until ?? null).toBeNull();
    await expect.poll(() => ids.filter((e) => !receivedCounts(r.requests).has(e)), POLL).toEqual([]);
  });
});
