import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { agentRecord, countRows } from './support.js';

// A host name that spells its address (AWS's "ip-10-1-2-3.ec2.internal") through the real API: the
// summary that carried it was accepted and forwarded; it is refused, naming the field, and
// POST /preflight masks the address in it.
describe.each(DB_KINDS)('addresses in cloud host names (%s)', (kind) => {
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
  const summary = 'Masked IP_ADDRESS on ip-10-1-2-3.ec2.internal';

  it('POST /audit-events refuses the summary with a 400 naming the field, and stores nothing', async () => {
    const before = await countRows(tdb.db, 'audit_events', org.orgId);
    const res = await post('/audit-events', { events: [agentRecord(), agentRecord({ summary })] });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toContain('events[1].summary');
    expect(res.body.error.message).toContain('IP_ADDRESS');
    expect(res.text).not.toContain('10-1-2-3');
    expect(await countRows(tdb.db, 'audit_events', org.orgId)).toBe(before);
  });

  it('POST /preflight masks the address and keeps the host name around it', async () => {
    const res = await post('/preflight', { input: summary });
    expect(res.status, res.text).toBe(200);
    expect(res.body.decision).toBe('ALLOWED_WITH_MASKING');
    expect(res.body.masked_input).toBe('Masked IP_ADDRESS on ip-[IP_ADDRESS].ec2.internal');
    expect(Object.keys(res.body.finding_counts_by_type as object)).toEqual(['IP_ADDRESS']);
    expect(res.text).not.toContain('10-1-2-3');
  });
});
