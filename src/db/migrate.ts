import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import type { Db, Queryable } from './types.js';

// src/db and dist/db are both two levels below the repository root, where migrations/ lives.
const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
// Arbitrary but fixed: every process that migrates takes this advisory lock first, so several
// processes starting at once apply each migration exactly once.
export const MIGRATION_LOCK_KEY = 4_151_203_771;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(files.map(async (f) => ({ version: Number(f.slice(0, 4)), name: f, sql: await readFile(dir + f, 'utf8') })));
}

export interface MigrateOptions {
  /** Told when another process holds the migration lock for longer than waitNoticeMs. */
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** How long a wait for the lock stays unremarked: processes starting together wait a moment, routinely. */
  waitNoticeMs?: number;
}

/** Applies pending migrations in one transaction (all or none); returns the names applied. Throws on failure. */
export async function migrate(db: Db, opts: MigrateOptions = {}): Promise<string[]> {
  const migrations = await loadMigrations();
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    await takeMigrationLock(tx, opts);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      // The row goes in first: a concurrent migrator that somehow got past the lock would collide on
      // the primary key instead of applying the migration twice.
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      await tx.exec(m.sql);
      applied.push(m.name);
    }
  });
  return applied;
}

/**
 * Transaction-scoped: released on commit or rollback, even if this process dies. Tried first without
 * waiting; when another session holds it (another process migrating, or stuck mid-migration), the
 * wait that follows is logged after waitNoticeMs with the holder's pid, so `migrate` or `start` do not
 * sit silent for as long as that process takes.
 */
async function takeMigrationLock(tx: Queryable, { logger, waitNoticeMs = 3000 }: MigrateOptions): Promise<void> {
  const { rows } = await tx.query<{ taken: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS taken', [MIGRATION_LOCK_KEY]);
  if (rows[0]?.taken) return;
  let told = false;
  let timer: NodeJS.Timeout | undefined;
  if (logger) {
    // Read now, on this connection: once it blocks on the lock it can run nothing else. Under a
    // savepoint: a failure here (a catalogue view refused to this role) must not abort the migration.
    await tx.query('SAVEPOINT lock_holder');
    const holder = await migrationLockHolder(tx).catch(() => null);
    await tx.query(holder === null ? 'ROLLBACK TO SAVEPOINT lock_holder' : 'RELEASE SAVEPOINT lock_holder');
    timer = setTimeout(() => {
      told = true;
      logger.warn(
        { advisory_lock: MIGRATION_LOCK_KEY, holder_pid: holder?.pid ?? null, holder_application: holder?.application_name ?? null },
        `waiting for another process's migration (advisory lock ${MIGRATION_LOCK_KEY}, held by PostgreSQL backend pid ${holder?.pid ?? 'unknown'}); this continues when it commits or ends`,
      );
    }, waitNoticeMs);
  }
  try {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
  } finally {
    clearTimeout(timer);
  }
  if (told) logger?.info({ advisory_lock: MIGRATION_LOCK_KEY }, 'migration lock taken; migrating');
}

/**
 * The session holding the migration lock, if still held. A bigint advisory key sits in pg_locks as
 * classid (high 32 bits), objid (low 32 bits) and objsubid 1.
 */
async function migrationLockHolder(tx: Queryable): Promise<{ pid: number; application_name: string | null } | null> {
  const { rows } = await tx.query<{ pid: number; application_name: string | null }>(
    `SELECT l.pid, a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid
      LIMIT 1`,
    [MIGRATION_LOCK_KEY],
  );
  return rows[0] ?? null;
}

/** True when every migration shipped with this build is recorded (the /readyz check). */
export async function migrationsApplied(db: Db): Promise<boolean> {
  const migrations = await loadMigrations();
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM schema_migrations WHERE version = ANY($1::int[])`, [
    migrations.map((m) => m.version),
  ]);
  return rows[0]?.n === migrations.length;
}
