import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { agentRecord, countRows } from './support.js';

// A password in a URL's user part whose host has no dot (a container or service name): no address
// reading covered it, so an agent record's summary carrying it was accepted and forwarded, and
// preflight returned it unmasked.
const PASSWORD = 'S3cr3tPassw0rd';
const SUMMARY = `Blocked postgres://admin:${PASSWORD}@db-primary:5432/prod`;

describe.each(DB_KINDS)('a password in a connection string, through the real API (%s)', (kind) => {
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

  it('POST /audit-events refuses the summary with a 400 naming the field, never echoing the password', async () => {
    const before = await countRows(tdb.db, 'audit_events', org.orgId);
    for (const summary of [SUMMARY, `DATABASE_URL=postgresql://app:Zq8sK2vLp9@postgres/app`, 'amqp://guest:G7hK2mPq@rabbitmq:5672/']) {
      const res = await post('/audit-events', { events: [agentRecord(), agentRecord({ summary })] });
      expect(res.status, summary).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain('events[1].summary');
      expect(res.body.error.message).toContain('PASSWORD');
      expect(res.text).not.toContain(PASSWORD);
    }
    expect(await countRows(tdb.db, 'audit_events', org.orgId)).toBe(before);
    expect(svc.logs.text()).not.toContain(PASSWORD);
  });

  it('POST /preflight blocks and masks the password only, keeping the user and the host readable', async () => {
    const res = await post('/preflight', { input: SUMMARY });
    expect(res.status, res.text).toBe(200);
    expect(res.body.decision).toBe('BLOCKED');
    expect(res.body.finding_counts_by_type).toEqual({ PASSWORD: 1 });
    expect(res.body.masked_input).toBe('Blocked postgres://admin:[PASSWORD]@db-primary:5432/prod');
    expect(res.text).not.toContain(PASSWORD);
  });

  it('POST /preflight masks the password and the IP address beside it', async () => {
    const res = await post('/preflight', { input: 'mysql://root:hunter2@10.0.0.5/app' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.decision).toBe('BLOCKED');
    expect(res.body.masked_input).toBe('mysql://root:[PASSWORD]@[IP_ADDRESS]/app');
  });
});
