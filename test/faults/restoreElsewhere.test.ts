import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyBase64 } from '../../src/crypto/keyring.js';
import { migrate } from '../../src/db/migrate.js';
import { openPg } from '../../src/db/pg.js';
import type { Db } from '../../src/db/types.js';
import { pullAll } from '../../src/events/pull.js';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { pgTool, postgresOwnedDir, startPrivatePostgres, type PrivatePostgres } from '../support/privatePostgres.js';
import { POLL } from '../support/waitFor.js';
import { seedEvents } from '../integration/delivery/support.js';

// The database moved to a fresh PostgreSQL server with pg_dump and psql, as an operator moves to a
// managed server. Each event's txid (its transaction's id on the old server) comes along, and the
// fresh server's transaction counter starts far below it: the pull API and the export showed none
// of the moved events, and pollers skipped the new ones (a review of the read paths). Migration 0025
// and src/events/pullOrder.ts number new events after the moved ones at the first start.
describe('faults: a database restored on another server (pg_dump into a private server)', () => {
  let server: PrivatePostgres;
  let source: TestDb;
  let restored: Db | null = null;
  const services: TestService[] = [];
  const key = generateKeyBase64();

  beforeAll(async () => {
    server = await startPrivatePostgres();
    source = await openTestDb('postgres', { ownDatabase: true });
  }, 180_000);
  afterAll(async () => {
    for (const s of services) await s.stop();
    await restored?.close();
    await source?.close();
    await server?.destroy();
  });

  const nextXid = async (db: Db) => BigInt((await db.query<{ x: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x')).rows[0]!.x);

  it('the pull API and the export show every moved event in order, cursors resume, new events come after', async () => {
    // The source's counter well ahead of the fresh server's (the shared server's usually is by far).
    const admin = openPg({ connectionString: server.url, max: 1 });
    const fresh = await nextXid(admin);
    const behind = fresh + 5_000n - (await nextXid(source.db));
    // Transactions that only take an id (committed without waiting for the disk: they write nothing).
    if (behind > 0n) await source.db.exec('BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_current_xact_id(); COMMIT;\n'.repeat(Number(behind)));

    const before = await startTestService(source.db, { AEGIS_ENCRYPTION_KEY: key }, 'api');
    services.push(before);
    const org = await before.newOrg();
    const recorded: string[] = [];
    for (let i = 0; i < 3; i++) recorded.push(...(await seedEvents(source.db, org.orgId, 1)));
    const pull = async (svc: TestService, query: string) => {
      const res = await svc.request('GET', `/api/orgs/${org.orgId}/audit-events?${query}`, { apiKey: org.apiKey });
      expect(res.status, res.text).toBe(200);
      return { ids: (res.body.events as Array<{ event: { id: string } }>).map((e) => e.event.id), cursor: res.body.next_cursor as string };
    };
    await expect.poll(async () => (await pull(before, 'limit=10')).ids, POLL).toEqual(recorded);
    // A poller that has read two events holds this cursor.
    const held = (await pull(before, 'limit=2')).cursor;
    await before.stop();
    services.splice(0);

    // The move: pg_dump of the whole database, psql into a new database of the fresh server.
    const sourceUrl = new URL(source.url!);
    const database = sourceUrl.pathname.slice(1);
    const dir = await postgresOwnedDir('aegis-dump-');
    try {
      const file = join(dir, 'dump.sql');
      await pgTool('pg_dump', ['-h', sourceUrl.hostname, '-p', sourceUrl.port || '5432', '-U', 'postgres', '--no-owner', '-f', file, database]);
      await admin.exec(`CREATE DATABASE ${database}`);
      await pgTool('psql', ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-q', '-f', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await admin.close();
    }
    const movedUrl = new URL(source.url!);
    movedUrl.host = `127.0.0.1:${server.port}`;
    restored = openPg({ connectionString: movedUrl.toString(), max: 8, connectionTimeoutMs: 60_000 });
    // The moved events are ahead of the fresh server's counter: the state a move leaves.
    const top = (await restored.query<{ t: string }>('SELECT max(txid)::text AS t FROM audit_events')).rows[0]!.t;
    expect(BigInt(top)).toBeGreaterThan(await nextXid(restored));

    // The first start on the moved database (the harness migrates, as `start` does).
    await migrate(restored);
    const after = await startTestService(restored, { AEGIS_ENCRYPTION_KEY: key }, 'api');
    services.push(after);
    expect((await pull(after, 'limit=10')).ids).toEqual(recorded);
    expect((await pull(after, `limit=10&cursor=${held}`)).ids).toEqual([recorded[2]]);
    const [newer] = await seedEvents(restored, org.orgId, 1);
    await expect.poll(async () => (await pull(after, `limit=10&cursor=${held}`)).ids, POLL).toEqual([recorded[2], newer]);
    expect((await pull(after, 'limit=10')).ids).toEqual([...recorded, newer]);
    // The export command reads the same order.
    const exported: string[] = [];
    for await (const page of pullAll(restored, org.orgId, { since: new Date(0), until: null }))
      exported.push(...page.map((e) => JSON.parse(e).event.id as string));
    expect(exported).toEqual([...recorded, newer]);
  });
});
