// `migrate` and `start` wait on the migration lock while another process migrates: the operator is
// told why nothing happens, and which session holds the lock, instead of a silent wait.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MIGRATION_LOCK_KEY } from '../../../src/db/migrate.js';
import { openTestDb, type TestDb } from '../../support/db.js';
import { captureLogger } from '../../support/logCapture.js';

describe('waiting on the migration lock (postgres)', () => {
  let tdb: TestDb;
  let holder: pg.Client | undefined;
  let elsewhere: pg.Client | undefined;

  beforeAll(async () => {
    tdb = await openTestDb('postgres', { ownDatabase: true });
  });
  afterAll(async () => {
    await holder?.end().catch(() => undefined);
    await elsewhere?.end().catch(() => undefined);
    await tdb?.close();
  });

  it('says it waits for another process, and for which session, then migrates once the lock is free', async () => {
    // The same key held in another database of the server first (another deployment migrating, or
    // another test file): advisory locks are per database, and the notice named that session instead.
    const other = new URL(tdb.url!);
    other.pathname = '/postgres';
    elsewhere = new pg.Client({ connectionString: other.toString(), application_name: 'another-database' });
    await elsewhere.connect();
    await elsewhere.query('BEGIN');
    await elsewhere.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    holder = new pg.Client({ connectionString: tdb.url!, application_name: 'other-migrator' });
    await holder.connect();
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const logs = captureLogger('debug');
      let finished = false;
      const running = migrate(tdb.db, { logger: logs.logger, waitNoticeMs: 50 }).finally(() => (finished = true));
      await expect.poll(() => logs.text(), { timeout: 30_000 }).toMatch(/waiting for another process's migration/);
      // The lock is still held: the migration cannot have gone on.
      expect(finished).toBe(false);
      const waiting = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => /waiting for another/.test(String(l.msg)));
      expect(waiting).toMatchObject({ level: 40, advisory_lock: MIGRATION_LOCK_KEY, holder_pid: holderPid, holder_application: 'other-migrator' });
      await holder.query('COMMIT');
      await expect(running).resolves.toEqual([]);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
    }
  });

  it('says nothing when the lock is free', async () => {
    const logs = captureLogger('debug');
    await expect(migrate(tdb.db, { logger: logs.logger, waitNoticeMs: 0 })).resolves.toEqual([]);
    expect(logs.lines).toEqual([]);
  });
});
