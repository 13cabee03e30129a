// Regression: every request was logged at info, health checks included, burying what matters.
// Successful probes (healthz, readyz, metrics) now log at debug; other requests stay at info.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';

const PINO_LEVEL = { debug: 20, info: 30 } as const;

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

  const levelOf = (path: string) =>
    svc.logs.lines
      .map((l) => JSON.parse(l) as { msg?: string; path?: string; level: number })
      .filter((l) => l.msg === 'request completed' && l.path === path)
      .map((l) => l.level);

  it('probes at debug, API requests at info', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics']) expect((await svc.request('GET', p)).status).toBe(200);
    const org = await svc.newOrg();
    expect((await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey })).status).toBe(200);
    for (const p of ['/healthz', '/readyz', '/metrics']) expect(levelOf(p)).toEqual([PINO_LEVEL.debug]);
    expect(levelOf(`/api/orgs/${org.orgId}/forwarding-destinations`)).toEqual([PINO_LEVEL.info]);
  });
});
