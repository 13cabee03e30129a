// A failover that leaves the service's connections on a server that only reads (a demoted primary
// reached through a cached address, a managed service set read-only): PostgreSQL keeps a session's
// read-only default for the session's whole life, so a pooled connection that met it refuses every
// write until it is closed, whatever the server does meanwhile. The pools close such a connection
// (db/unavailable.ts isReadOnlyRefusal), so once the server takes writes again the next request does,
// without a restart; /readyz says "database read-only" while writes are refused. A role of its own
// stands for the server here: its sessions start read-only while ALTER ROLE says so, and nothing else
// running on the test server is touched.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPg } from '../../../src/db/pg.js';
import type { Db } from '../../../src/db/types.js';
import { openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { workerDatabaseUrl } from '../../support/workerProcess.js';
import { agentRecord } from '../events/support.js';

describe('a server that turns read-only or refuses the login under the API, and back (postgres)', () => {
  const role = `aegis_ro_${randomBytes(4).toString('hex')}`;
  let tdb: TestDb;
  let own: Db | undefined;
  let svc: TestService | undefined;
  let org = { orgId: '', apiKey: '' };

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    await tdb.db.exec(`CREATE ROLE ${role} LOGIN SUPERUSER`);
    const url = new URL(workerDatabaseUrl(tdb.schema!));
    url.username = role;
    // As the API's own pool is opened (db/open.ts): with its statement limit.
    own = openPg({ connectionString: url.toString(), max: 4, connectionTimeoutMs: 60_000, statementTimeoutMs: 30_000 });
    svc = await startTestService(own, {}, 'api');
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    await own?.close();
    await tdb?.db.exec(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await tdb?.close();
  });

  const record = async () => {
    const res = await svc!.request('POST', `/api/orgs/${org.orgId}/audit-events`, { apiKey: org.apiKey, body: { events: [agentRecord()] } });
    return res.status;
  };
  const readyz = async () => (await svc!.request('GET', '/readyz')).body as { status: string; reason?: string };
  const cutSessions = () => tdb.db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()', [role]);

  it('answers 503 and not ready while writes are refused, and records again once they are taken, on the connections it has', async () => {
    expect(await record()).toBe(200);
    expect(await readyz()).toEqual({ status: 'ready' });

    // The failover: every session ends, and the new ones start on a server that only reads.
    await tdb.db.exec(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
    await cutSessions();
    await expect.poll(record).toBe(503);
    await expect.poll(readyz).toEqual({ status: 'unavailable', reason: 'database read-only' });

    // The server takes writes again; the sessions the API opened meanwhile are not cut.
    await tdb.db.exec(`ALTER ROLE ${role} RESET default_transaction_read_only`);
    // Each pooled connection (4 at most) may refuse once more, and is closed for it; none is kept.
    let refusals = 0;
    while (refusals < 4 && (await record()) === 503) refusals++;
    for (let i = 0; i < 12; i++) expect(await record()).toBe(200);
    await expect.poll(readyz).toEqual({ status: 'ready' });
  });

  it('answers 503 with Retry-After, not 500 with a stack per request, while the server refuses the login, and serves again once it takes it', async () => {
    const unhandled = () => svc!.logs.lines.filter((l) => l.includes('unhandled error')).length;
    const before = unhandled();
    // A role set NOLOGIN (a rotated password is refused the same way, SQLSTATE class 28).
    await tdb.db.exec(`ALTER ROLE ${role} NOLOGIN`);
    await cutSessions();
    await expect.poll(record).toBe(503);
    const res = await svc!.request('POST', `/api/orgs/${org.orgId}/audit-events`, { apiKey: org.apiKey, body: { events: [agentRecord()] } });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { code: 'service_unavailable' } });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await readyz()).status).toBe('unavailable');
    expect(unhandled()).toBe(before);

    await tdb.db.exec(`ALTER ROLE ${role} LOGIN`);
    await expect.poll(record).toBe(200);
    await expect.poll(readyz).toEqual({ status: 'ready' });
  });
});
