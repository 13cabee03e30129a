import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { validateWireEvent } from '../../src/events/validate.js';

describe.each(DB_KINDS)('record -> queue -> SIEM, end to end (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('delivers a preflight event with an SSN and two emails as the product page shape, within a second', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const created = await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, {
      apiKey,
      body: { url: `${receiver.url}/ingest`, auth_header_name: 'Authorization', auth_header_value: 'Bearer siem-token-123' },
    });
    expect(created.status).toBe(201);
    expect(created.body.destination_id).toMatch(/^fwd_/);

    const pf = await svc.request('POST', `/api/orgs/${orgId}/preflight`, {
      apiKey,
      body: { input: 'SSN 123-45-6789, mail alice@example.com and bob@example.org', actor_id: 'carol@example.com' },
    });
    expect(pf.status).toBe(200);
    expect(pf.body.decision).toBe('ALLOWED_WITH_MASKING');
    expect(pf.body.finding_counts_by_type).toEqual({ SSN: 1, EMAIL: 2 });
    expect(pf.body.masked_input).not.toContain('123-45-6789');

    await receiver.waitFor((reqs) => reqs.length >= 1, 60_000);
    const req = receiver.requests[0]!;
    expect(req.headers.authorization).toBe('Bearer siem-token-123');
    expect(req.headers['idempotency-key']).toBe(pf.body.preflight_id);
    const event = JSON.parse(req.body.toString('utf8'));
    expect(validateWireEvent(event)).toEqual([]);
    expect(event.event).toMatchObject({
      id: pf.body.preflight_id,
      kind: 'event',
      category: ['aegis', 'preflight'],
      type: ['allowed_with_masking'],
      dataset: 'aegis.preflight',
    });
    expect(event.aegis.finding_counts_by_type).toEqual({ SSN: 1, EMAIL: 2 });
    expect(event.organization).toEqual({ id: orgId });
    expect(req.body.toString()).not.toContain('123-45-6789');

    const got = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations/${created.body.destination_id}`, { apiKey });
    await expect
      .poll(async () => (await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations/${created.body.destination_id}`, { apiKey })).body.status)
      .toBe('active');
    expect(got.body.auth_header_configured).toBe(true);
    expect(JSON.stringify(got.body)).not.toContain('siem-token-123');
  });
});
