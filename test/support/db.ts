import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { openPg } from '../../src/db/pg.js';
import { openPglite } from '../../src/db/pglite.js';
import { migrate } from '../../src/db/migrate.js';
import type { Db } from '../../src/db/types.js';

export type TestDbKind = 'pglite' | 'postgres';
/** Every integration suite runs once per database: the embedded default and a real server. */
export const DB_KINDS: TestDbKind[] = ['pglite', 'postgres'];

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDb {
  db: Db;
  kind: TestDbKind;
  /** For the real server: a connection string whose search_path is this test's private schema. */
  url: string | null;
  schema: string | null;
  /** Empties every table (fast reset between tests; the schema stays). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Connection string for `schema` on the test server (search_path set per connection), in `database`'s URL. */
export function schemaUrl(schema: string, database = TEST_DATABASE_URL): string {
  const u = new URL(database);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/**
 * The migrated template from test/setup/pgliteTemplate.ts, when the run has one (read once per test
 * process); without it (a file run outside those configs) each database is created and migrated.
 */
export const PGLITE_TEMPLATE_ENV = 'AEGIS_TEST_PGLITE_TEMPLATE';
let template: Blob | null | undefined;
function pgliteTemplate(): Blob | null {
  if (template === undefined) {
    const file = process.env[PGLITE_TEMPLATE_ENV];
    template = file && existsSync(file) ? new Blob([readFileSync(file)]) : null;
  }
  return template;
}

const TABLES = ['timed_rounds', 'delivery_attempts', 'forwarding_jobs', 'audit_events', 'destinations', 'sessions', 'login_links', 'api_keys', 'orgs'];

/**
 * TRUNCATE locks every table at once; a service still running beside a test (its worker claims,
 * settles, prunes) locks them in another order, and PostgreSQL breaks such a deadlock by failing one
 * side. When the reset is the side that failed, it is tried again: the service's transaction has
 * then been let through and ended.
 */
async function truncateRetryingDeadlocks(db: Db): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.exec(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
    }
  }
}

/**
 * One database per test file: an in-memory PGlite, or a fresh schema on the real server (much
 * cheaper than a database per file, and files can run in parallel). Migrated, ready to use.
 * `ownDatabase`: the schema in a database of its own, for a test that holds or watches the migration
 * lock. Advisory locks are per database, and every other file's openTestDb migrates under that lock
 * in the shared one: "says nothing when the lock is free" failed when another file was migrating
 * (a flaky-test review reproduced it), and a test holding the lock held every other file's start.
 */
export async function openTestDb(kind: TestDbKind, opts: { ownDatabase?: boolean } = {}): Promise<TestDb> {
  if (kind === 'pglite') {
    const from = pgliteTemplate();
    const db = await openPglite(undefined, from ? { loadDataDir: from } : {});
    // The template is migrated already: this finds nothing to apply (and proves it matches).
    await migrate(db);
    return {
      db,
      kind,
      url: null,
      schema: null,
      reset: () => db.exec(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`),
      close: () => db.close(),
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const database = opts.ownDatabase ? `aegis_t_${randomBytes(6).toString('hex')}` : null;
  let base = TEST_DATABASE_URL;
  if (database) {
    const server = openPg({ connectionString: TEST_DATABASE_URL, max: 1 });
    await server.exec(`CREATE DATABASE ${database}`);
    await server.close();
    const u = new URL(TEST_DATABASE_URL);
    u.pathname = `/${database}`;
    base = u.toString();
  }
  const url = schemaUrl(schema, base);
  // A ceiling, not an expectation: on a machine loaded several times over its cores, the service and
  // the test sharing this pool can wait longer than production's 10 s for a connection.
  const db = openPg({ connectionString: url, max: 8, connectionTimeoutMs: 60_000 });
  try {
    const admin = openPg({ connectionString: base, max: 1 });
    await admin.exec(`CREATE SCHEMA ${schema}`);
    await admin.close();
    await migrate(db);
  } catch (err) {
    // Nothing left behind when the setup fails: a database of its own is dropped (no sweep finds it).
    await db.close().catch(() => undefined);
    if (database) {
      const a = openPg({ connectionString: TEST_DATABASE_URL, max: 1 });
      await a.exec(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
      await a.close();
    }
    throw err;
  }
  return {
    db,
    kind,
    url,
    schema,
    reset: () => truncateRetryingDeadlocks(db),
    async close() {
      await db.close();
      const a = openPg({ connectionString: TEST_DATABASE_URL, max: 1 });
      await a.exec(database ? `DROP DATABASE IF EXISTS ${database} WITH (FORCE)` : `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await a.close();
    },
  };
}
