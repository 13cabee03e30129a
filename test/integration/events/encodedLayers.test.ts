import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { agentRecord, countRows } from './support.js';

// An address percent-encoded twice, as a redirect parameter holding an already-encoded query carries
// it: an agent record's summary with it used to be accepted and forwarded, and POST /preflight
// returned it unmasked.
const SUMMARY = 'Masked EMAIL in GET /login?next=%2Fprofile%3Femail%3Djane.doe%2540example.com';

describe.each(DB_KINDS)('a value encoded in layers, through the real API (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const post = (path: string, body: unknown) => svc.request('POST', `/api/orgs/${org.orgId}${path}`, { apiKey: org.apiKey, body });

  it('POST /audit-events refuses the double-encoded address in a summary, naming the field', async () => {
    const before = await countRows(tdb.db, 'audit_events', org.orgId);
    const res = await post('/audit-events', { events: [agentRecord(), agentRecord({ summary: SUMMARY })] });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toContain('events[1].summary');
    expect(res.text).not.toContain('jane.doe');
    expect(await countRows(tdb.db, 'audit_events', org.orgId)).toBe(before);
    expect(svc.logs.text()).not.toContain('jane.doe');
  });

  it('POST /preflight masks the whole double-encoded address', async () => {
    const res = await post('/preflight', { input: SUMMARY });
    expect(res.status, res.text).toBe(200);
    expect(res.body.decision).toBe('ALLOWED_WITH_MASKING');
    expect(res.body.finding_counts_by_type).toEqual({ EMAIL: 1 });
    // How much of the URL before the address the mask takes is the e-mail detector's reading; none
    // of the address nor of its escape is left.
    expect(res.body.masked_input).toMatch(/^Masked EMAIL in GET \S*\[EMAIL\]$/);
    expect(res.body.masked_input).not.toMatch(/jane|doe|example|%25|2540/);
  });
});
