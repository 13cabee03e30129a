// Regression: every request was logged at info, health checks included, burying what matters.
// Successful probes (healthz, readyz, metrics) now log at debug; other requests stay at info.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { insertDestination } from '../../../src/destinations/writes.js';

const PINO_LEVEL = { debug: 20, info: 30 } as const;
/** A generous ceiling: the line comes milliseconds after the answer, later on a busy machine. */
const LOGGED = { timeout: 30_000 };

describe('request log levels', () => {
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

  // The line is written once the answer has left (onResponse), so a test waits for it (expect.poll).
  // `since`: the number of lines logged before, so a count holds whatever other tests logged.
  const levelOf = (path: string, since = 0) =>
    svc.logs.lines
      .slice(since)
      .map((l) => JSON.parse(l) as { msg?: string; path?: string; level: number })
      .filter((l) => l.msg === 'request completed' && l.path === path)
      .map((l) => l.level);

  it('probes at debug, API requests at info', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics']) expect((await svc.request('GET', p)).status).toBe(200);
    const org = await svc.newOrg();
    expect((await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey })).status).toBe(200);
    for (const p of ['/healthz', '/readyz', '/metrics']) await expect.poll(() => levelOf(p), LOGGED).toEqual([PINO_LEVEL.debug]);
    await expect.poll(() => levelOf(`/api/orgs/${org.orgId}/forwarding-destinations`), LOGGED).toEqual([PINO_LEVEL.info]);
  });

  it("logs the authenticated organization's id as it is, even one the detectors would take for a value", async () => {
    // A random id can hold nine digits in a row (about one in 28,000 do), which the path rule redacts.
    const id = 'org_5t3519855598iabcdefg';
    const { apiKey } = await svc.newOrg('Digits in its id', id);
    const path = `/api/orgs/${id}/forwarding-destinations`;
    expect((await svc.request('GET', path, { apiKey })).status).toBe(200);
    await expect.poll(() => levelOf(path), LOGGED).toEqual([PINO_LEVEL.info]);
    // Without the organization's key the segment is whatever a client typed: redacted as before.
    const other = await svc.newOrg();
    const beforeRefused = svc.logs.lines.length;
    expect((await svc.request('GET', path, { apiKey: other.apiKey })).status).toBe(404);
    expect((await svc.request('GET', path)).status).toBe(401);
    await expect.poll(() => levelOf('/api/orgs/<redacted-property-name>/forwarding-destinations', beforeRefused), LOGGED).toHaveLength(2);

    // A destination of that organization with such an id: logged as it is once the route found it.
    const dest = 'fwd_2k7u9123456789qwerty';
    await insertDestination(tdb.db, {
      org_id: id,
      id: dest,
      siem: 'custom',
      name: 'Digits',
      url: 'https://siem.example.com/in',
      auth_header_name: null,
      auth_header_sealed: null,
      signing_secret_sealed: null,
      options: {},
      filter: null,
      enabled: false,
    });
    const destPath = `${path}/${dest}`;
    expect((await svc.request('GET', destPath, { apiKey })).status).toBe(200);
    await expect.poll(() => levelOf(destPath), LOGGED).toEqual([PINO_LEVEL.info]);
    // One the organization does not have is whatever a client typed.
    const beforeMissing = svc.logs.lines.length;
    expect((await svc.request('GET', `${path}/fwd_2k7u9123456789zzzzzz`, { apiKey })).status).toBe(404);
    await expect.poll(() => levelOf(`${path}/<redacted-property-name>`, beforeMissing), LOGGED).toHaveLength(1);
  });
});
