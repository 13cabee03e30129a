import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';

// Regression: a 400 for an unknown field used to echo the field's name, so a client that put a
// secret or personal value in a property name got it back in the error (and in any log of it).
describe('validation errors never echo a sensitive property name', () => {
  let tdb: TestDb;
  let svc: TestService;
  beforeAll(async () => {
    tdb = await openTestDb('pglite');
    svc = await startTestService(tdb.db);
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  it.each([
    ['an email', 'alice.secret@example.com'],
    ['an SSN', '123-45-6789'],
    ['an AWS key', 'AKIAIOSFODNN7EXAMPLE'],
  ])('redacts %s used as a field name on the destinations API', async (_what, name) => {
    const { orgId, apiKey } = await svc.newOrg();
    const res = await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, {
      apiKey,
      body: { url: 'https://siem.example/ingest', [name]: 'x' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toContain('unknown field');
    expect(res.text).not.toContain(name);
    expect(svc.logs.text()).not.toContain(name);
  });

  it('still names an ordinary unknown field', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const res = await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, {
      apiKey,
      body: { url: 'https://siem.example/ingest', colour: 'red' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('colour: unknown field (not part of the schema)');
  });
});
