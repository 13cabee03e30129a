// A rolling upgrade migrates while the old API and workers run. A session holding even a weak lock on
// a table the migration alters (a long export, a transaction left idle) must not make the migration's
// ALTER sit in the lock queue, where every other query on that table would queue behind it: the
// migration gives up the try after a short lock timeout, says who blocks it, and tries again later.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MIGRATION_LOCK_KEY } from '../../../src/db/migrate.js';
import { openPg } from '../../../src/db/pg.js';
import { openTestDb, type TestDb } from '../../support/db.js';
import { captureLogger } from '../../support/logCapture.js';

// The last migration of the upgrade, as shipped migrations usually are: DDL on a busy table.
const PROBE = '9999_lock_probe.sql';
const PROBE_SQL = 'ALTER TABLE forwarding_jobs ADD COLUMN lock_probe integer;\n';
// Short waits so the test does not sit through production's 5 s tries.
const FAST = { lockTimeoutMs: 200, retryBaseMs: 20, retryMaxMs: 200 };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aegis-migrations-'));
  await writeFile(join(dir, PROBE), PROBE_SQL);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('migration DDL blocked by a long-held table lock (postgres)', () => {
  let tdb: TestDb;
  const clients: pg.Client[] = [];
  const client = async (application_name: string, extra: pg.ClientConfig = {}) => {
    const c = new pg.Client({ connectionString: tdb.url!, application_name, ...extra });
    clients.push(c);
    await c.connect();
    return c;
  };

  beforeAll(async () => {
    tdb = await openTestDb('postgres', { ownDatabase: true });
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await tdb?.close();
  });

  it('lets other queries on the table through while it waits, names the blocker, and applies once it is gone', async () => {
    const holder = await client('long-export');
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const observer = await client('observer');
    // A ceiling, far above any lock timeout: before the fix this query queues behind the ALTER for as
    // long as the holder holds, and fails here instead of hanging the test.
    const worker = await client('worker', { statement_timeout: 30_000 });
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE forwarding_jobs IN ACCESS SHARE MODE');
    let running: Promise<string[]> | undefined;
    try {
      const logs = captureLogger('debug');
      let finished = false;
      running = migrate(tdb.db, { logger: logs.logger, migrationsDir: dir, ...FAST }).finally(() => (finished = true));
      running.catch(() => undefined);
      // The migration's ALTER is in the lock queue behind the holder (at least once).
      await expect
        .poll(
          async () =>
            (await observer.query('SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid)) AND wait_event_type = $2', [holderPid, 'Lock']))
              .rowCount,
          { timeout: 60_000, interval: 10 },
        )
        .toBeGreaterThan(0);
      // An ordinary claim-like query on the table completes while the holder still holds.
      const { rows } = await worker.query<{ n: number }>('SELECT count(*)::int AS n FROM forwarding_jobs');
      expect(rows[0]!.n).toBe(0);
      expect(finished).toBe(false);
      // Each try that timed out is said, naming the table and the session that holds it.
      await expect
        .poll(
          () => logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => JSON.stringify(l.blockers ?? []).includes(`"pid":${holderPid}`)),
          {
            timeout: 60_000,
          },
        )
        .toMatchObject({
          level: 40,
          migration: PROBE,
          relation: 'forwarding_jobs',
          lock_mode: 'AccessExclusiveLock',
          blockers: expect.arrayContaining([expect.objectContaining({ pid: holderPid, application_name: 'long-export', state: 'idle in transaction' })]),
        });
      expect(finished).toBe(false);
      // Never the statements' text (they may hold secrets): only pids, names, states and durations.
      expect(logs.text()).not.toMatch(/LOCK TABLE|ALTER TABLE|forwarding_jobs IN/);
      await holder.query('COMMIT');
      await expect(running).resolves.toEqual([PROBE]);
      const recorded = await observer.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations WHERE version = 9999');
      expect(recorded.rows[0]!.n).toBe(1);
      const column = await observer.query(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'forwarding_jobs' AND column_name = 'lock_probe'",
        [tdb.schema],
      );
      expect(column.rowCount).toBe(1);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await running?.catch(() => undefined);
    }
  });

  it('still throws any other error, applying nothing', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'aegis-migrations-'));
    try {
      await writeFile(join(broken, '9998_broken.sql'), 'ALTER TABLE no_such_table ADD COLUMN x integer;\n');
      await expect(migrate(tdb.db, { migrationsDir: broken, ...FAST })).rejects.toMatchObject({ code: '42P01' });
      const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations WHERE version = 9998');
      expect(rows[0]!.n).toBe(0);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  it("a server's or role's statement_timeout cuts neither the wait for another migrator nor a slow migration", async () => {
    // Managed servers often set one for every session of a role; here through the connection's options.
    const url = new URL(tdb.url!);
    url.searchParams.set('options', `${url.searchParams.get('options')} -c statement_timeout=300`);
    const timed = openPg({ connectionString: url.toString(), max: 2 });
    const slow = await mkdtemp(join(tmpdir(), 'aegis-migrations-'));
    const other = await client('other-migrator');
    // Not \`other\`: inside its transaction pg_stat_activity is one snapshot, taken at its first read.
    const observer = await client('observer');
    try {
      await writeFile(join(slow, '9996_slow.sql'), 'SELECT pg_sleep(0.6);\n');
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const running = migrate(timed, { migrationsDir: slow, ...FAST });
      running.catch(() => undefined);
      // Waiting on the advisory lock, longer than the statement timeout.
      await expect
        .poll(async () => (await observer.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'")).rowCount, {
          timeout: 60_000,
          interval: 20,
        })
        .toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 600));
      await other.query('COMMIT');
      await expect(running).resolves.toEqual(['9996_slow.sql']);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await timed.close();
      await rm(slow, { recursive: true, force: true });
    }
  });

  it('stops retrying when its signal is aborted', async () => {
    const holder = await client('idle-tx');
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE audit_events IN ACCESS SHARE MODE');
    const other = await mkdtemp(join(tmpdir(), 'aegis-migrations-'));
    try {
      await writeFile(join(other, '9997_blocked.sql'), 'ALTER TABLE audit_events ADD COLUMN never integer;\n');
      const logs = captureLogger('debug');
      const abort = new AbortController();
      const running = migrate(tdb.db, { logger: logs.logger, migrationsDir: other, signal: abort.signal, ...FAST });
      running.catch(() => undefined);
      await expect.poll(() => logs.lines.length, { timeout: 60_000 }).toBeGreaterThan(0);
      abort.abort();
      await expect(running).rejects.toMatchObject({ name: 'AbortError' });
      const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations WHERE version = 9997');
      expect(rows[0]!.n).toBe(0);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('migration DDL on PGlite', () => {
  it('applies as before (one connection: nothing else can hold a lock)', async () => {
    const tdb = await openTestDb('pglite');
    try {
      await expect(migrate(tdb.db, { migrationsDir: dir, ...FAST })).resolves.toEqual([PROBE]);
      await expect(migrate(tdb.db, { migrationsDir: dir, ...FAST })).resolves.toEqual([]);
      await tdb.db.query('SELECT lock_probe FROM forwarding_jobs');
    } finally {
      await tdb.close();
    }
  });
});
