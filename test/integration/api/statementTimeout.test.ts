// A statement of an API request that waits on a lock held outside the service (a DBA's psql, a stuck
// migration, a BEGIN left idle) must not wait for ever: it would pin one of the organization's
// admission places (AEGIS_API_MAX_CONCURRENT_PER_ORG) and a connection of the API's pool until a
// restart. The API's pool cancels a statement past AEGIS_DB_API_STATEMENT_TIMEOUT_MS (db/pg.ts,
// PgOptions.statementTimeoutMs; db/open.ts), and the cancelled statement answers 503
// service_unavailable with Retry-After (api/errorHandler.ts).
//
// PostgreSQL only: the embedded PGlite is one connection in this process, so no other session can
// hold a lock there, and the variable is ignored for it. The service opens its own pools from
// DATABASE_URL here (not the test's handle, as the other API suites do): the timeout is a setting of
// the API's pool, and only openProcessDatabases makes that pool.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { startService, type Service } from '../../../src/service.js';
import { createOrg } from '../../../src/orgs/repository.js';
import { createApiKey } from '../../../src/auth/apiKeys.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';
import { openTestDb, type TestDb } from '../../support/db.js';
import type { Queryable } from '../../../src/db/types.js';
import { captureLogger } from '../../support/logCapture.js';
import { agentRecord } from '../events/support.js';

/** A ceiling for a request that should answer after about 1 s: the current defect is an answer never given. */
const REQUEST_CEILING_MS = 60_000;
const TEST_CEILING_MS = 180_000;

describe('a statement of an API request that waits on a lock held outside the service (postgres)', () => {
  let tdb: TestDb;
  let service: Service;
  let baseUrl: string;
  let org: { orgId: string; apiKey: string };
  const logs = captureLogger('debug');
  let locker: pg.Client | null = null;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: tdb.url!,
      AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1',
      AEGIS_ENCRYPTION_KEY: generateKeyBase64(),
      AEGIS_LOG_LEVEL: 'debug',
      AEGIS_DB_API_STATEMENT_TIMEOUT_MS: '1000',
      // One place: a request that never ended would keep it, and the next request of the
      // organization would wait for it and be refused with 429.
      AEGIS_API_MAX_CONCURRENT_PER_ORG: '1',
    });
    service = await startService(config, { role: 'all', logger: logs.logger });
    baseUrl = service.address!;
    const o = await createOrg(tdb.db, 'Lock test org');
    org = { orgId: o.id, apiKey: await createApiKey(tdb.db, o.id) };
  }, TEST_CEILING_MS);

  afterEach(async () => {
    // Whatever happened, the lock goes, so the service can stop.
    await locker?.end().catch(() => undefined);
    locker = null;
  });

  afterAll(async () => {
    await service?.stop();
    await tdb?.close();
  });

  async function request(method: string, path: string, body?: unknown) {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${org.apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(REQUEST_CEILING_MS),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as Record<string, any>) : null };
  }

  /** A session outside the service, in a transaction that holds what `lock` takes until the test ends it. */
  async function holdLock(lock: string, values: unknown[] = []): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: tdb.url! });
    c.on('error', () => undefined);
    await c.connect();
    locker = c;
    await c.query('BEGIN');
    await c.query(lock, values);
    return c;
  }

  function expectTimedOut(res: Awaited<ReturnType<typeof request>>) {
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.body?.error?.code).toBe('service_unavailable');
    expect(res.body?.error?.message).toMatch(/did not answer in time/);
    // Nothing about the statement: no SQL, no table, no parameter.
    expect(res.text).not.toMatch(/select|update|insert|destinations|audit_events|statement timeout/i);
  }

  const base = () => `/api/orgs/${org.orgId}/forwarding-destinations`;

  it("cuts a statement of the API's pool past the limit, never the worker's or an unbounded transaction's", async () => {
    const pid = async (db: Queryable) => (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    expect(service.db).not.toBe(service.workerDb);
    // The server ends the statement on the service's cancel request, as on psql's Ctrl-C (a minute's
    // sleep: however late a loaded machine fires the 1 s timer, the statement is still running).
    await expect(service.db.query('SELECT pg_sleep(60)')).rejects.toMatchObject({ code: '57014' });
    let cancelledPid = 0;
    await expect(
      service.db.transaction(async (tx) => {
        cancelledPid = await pid(tx);
        return tx.query('SELECT pg_sleep(60)');
      }),
    ).rejects.toMatchObject({ code: '57014' });
    // Its connection is closed, not handed out again (the pool would give back the one released last):
    // a cancel request still on its way could otherwise cut the next statement that runs there.
    expect(cancelledPid).toBeGreaterThan(0);
    expect(await pid(service.db)).not.toBe(cancelledPid);
    // The worker's statements (settles, prunes, background replays) are let finish, and so is work
    // whose length is the data's (migrations, a destination's delete).
    await expect(service.workerDb.query('SELECT pg_sleep(2)')).resolves.toMatchObject({ rowCount: 1 });
    await expect(service.db.transaction((tx) => tx.query('SELECT pg_sleep(2)'), { unbounded: true })).resolves.toMatchObject({ rowCount: 1 });
  });

  it(
    'a PATCH waiting on a destination row locked elsewhere answers 503 with Retry-After, changes nothing and frees its place',
    async () => {
      const created = await request('POST', base(), { url: 'http://127.0.0.1:9/ingest', name: 'before', enabled: false });
      expect(created.status).toBe(201);
      const id = created.body!.destination_id as string;
      const trailBefore = await tdb.db.query('SELECT id FROM audit_events WHERE org_id = $1', [org.orgId]);

      const c = await holdLock('SELECT id FROM destinations WHERE id = $1 FOR UPDATE', [id]);
      const linesBefore = logs.lines.length;
      const res = await request('PATCH', `${base()}/${id}`, { name: 'after' });
      expectTimedOut(res);

      // The organization's one place is free again while the lock is still held: a request that does
      // not need the row is served (it would wait 30 s and be refused with 429 behind a pinned place).
      const read = await request('GET', `${base()}/${id}`);
      expect(read.status).toBe(200);
      expect(read.body!.name).toBe('before');

      // Logged once, as a warning without a stack or the statement.
      const newLines = logs.lines.slice(linesBefore).map((l) => JSON.parse(l) as Record<string, unknown>);
      const timedOut = newLines.filter((l) => /did not answer in time/.test(String(l.msg)));
      expect(timedOut).toHaveLength(1);
      expect(timedOut[0]!.level).toBe(40);
      expect(JSON.stringify(timedOut[0])).not.toMatch(/stack|UPDATE|SELECT|FOR UPDATE/);
      expect(newLines.filter((l) => l.msg === 'unhandled error' || l.msg === 'request failed')).toEqual([]);

      await c.query('ROLLBACK');
      // Nothing was written: the name and the trail are as before the request.
      const row = await tdb.db.query<{ name: string }>('SELECT name FROM destinations WHERE id = $1', [id]);
      expect(row.rows[0]!.name).toBe('before');
      const trailAfter = await tdb.db.query('SELECT id FROM audit_events WHERE org_id = $1', [org.orgId]);
      expect(trailAfter.rows).toEqual(trailBefore.rows);

      // With the lock gone the same change goes through.
      const again = await request('PATCH', `${base()}/${id}`, { name: 'after' });
      expect(again.status).toBe(200);
      expect(again.body!.name).toBe('after');
    },
    TEST_CEILING_MS,
  );

  it(
    'a batch waiting on a table locked elsewhere answers 503 and records none of its events',
    async () => {
      const before = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1', [org.orgId]);
      const c = await holdLock('LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE');
      const records = [agentRecord({ preflight_id: 'pflt_locked_00000001' }), agentRecord({ preflight_id: 'pflt_locked_00000002' })];
      const res = await request('POST', `/api/orgs/${org.orgId}/audit-events`, { events: records });
      expectTimedOut(res);
      await c.query('ROLLBACK');

      const after = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1', [org.orgId]);
      expect(after.rows[0]!.n).toBe(before.rows[0]!.n);

      // The place is free and the same batch is recorded now.
      const again = await request('POST', `/api/orgs/${org.orgId}/audit-events`, { events: records });
      expect(again.status).toBe(200);
      expect(again.body!.accepted).toBe(2);
    },
    TEST_CEILING_MS,
  );
});
