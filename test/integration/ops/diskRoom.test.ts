// The embedded database's disk: PGlite out of room for a new write-ahead-log file during a commit left
// the process spinning, deaf to SIGTERM, until killed (an operator's review). So ingest is refused
// while the data directory's disk has less than AEGIS_MIN_FREE_DISK_MB free, before PGlite gets there.
// The floor is set above this machine's disk here, so the real statfs reads "too little".
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';
import { agentRecord } from '../events/support.js';

const dataDir = mkdtempSync(join(tmpdir(), 'aegis-diskroom-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('ingest on an embedded database whose disk is nearly full', () => {
  const t = serviceWithOrg('pglite', { AEGIS_DATA_DIR: dataDir, AEGIS_MIN_FREE_DISK_MB: '10000000' });

  it('is refused with 503 and Retry-After, saying why, and the operator is told; reads still work', async () => {
    const batch = await t.svc.request('POST', `/api/orgs/${t.org.orgId}/audit-events`, { apiKey: t.org.apiKey, body: { events: [agentRecord()] } });
    expect(batch.status).toBe(503);
    expect(batch.headers.get('retry-after')).toBe('30');
    expect(batch.body.error.code).toBe('service_unavailable');
    expect(batch.body.error.message).toMatch(
      /^The disk holding this service's database is nearly full .*less than the 10000000 MB free it keeps.*nothing was recorded/,
    );
    const preflight = await t.svc.request('POST', `/api/orgs/${t.org.orgId}/preflight`, { apiKey: t.org.apiKey, body: { input: 'hello' } });
    expect(preflight.status).toBe(503);
    expect((await t.svc.request('GET', `/api/orgs/${t.org.orgId}/audit-events?limit=10`, { apiKey: t.org.apiKey })).status).toBe(200);
    expect(t.svc.logs.lines.some((l) => l.includes('"level":40') && l.includes('the disk holding the embedded database is nearly full'))).toBe(true);
  });
});

describe('the same floor on PostgreSQL', () => {
  const t = serviceWithOrg('postgres', { AEGIS_DATA_DIR: dataDir, AEGIS_MIN_FREE_DISK_MB: '10000000' });

  it("does not apply: the server's disk is its operator's to watch", async () => {
    const batch = await t.svc.request('POST', `/api/orgs/${t.org.orgId}/audit-events`, { apiKey: t.org.apiKey, body: { events: [agentRecord()] } });
    expect(batch.status).toBe(200);
  });
});
