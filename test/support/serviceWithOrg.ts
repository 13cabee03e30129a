// The setup most API test files share: a test database, the real service on it and one organization,
// started before the file's tests and stopped after them. Read the fields inside tests or hooks
// (they are set in beforeAll).
import { afterAll, beforeAll } from 'vitest';
import { openTestDb, type TestDb, type TestDbKind } from './db.js';
import { startTestService, type TestService } from './harness.js';

export interface ServiceWithOrg {
  tdb: TestDb;
  svc: TestService;
  org: { orgId: string; apiKey: string };
}

export function serviceWithOrg(kind: TestDbKind = 'pglite', env: Record<string, string> = {}, role: 'all' | 'api' | 'worker' = 'all'): ServiceWithOrg {
  const ctx = {} as ServiceWithOrg;
  beforeAll(async () => {
    ctx.tdb = await openTestDb(kind);
    ctx.svc = await startTestService(ctx.tdb.db, env, role);
    ctx.org = await ctx.svc.newOrg();
  });
  afterAll(async () => {
    await ctx.svc?.stop();
    await ctx.tdb?.close();
  });
  return ctx;
}
