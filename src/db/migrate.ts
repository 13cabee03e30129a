import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Db } from './types.js';

// src/db and dist/db are both two levels below the repository root, where migrations/ lives.
const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
// Arbitrary but fixed: every process that migrates takes this advisory lock first, so several
// processes starting at once apply each migration exactly once.
const MIGRATION_LOCK_KEY = 4_151_203_771;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(files.map(async (f) => ({ version: Number(f.slice(0, 4)), name: f, sql: await readFile(dir + f, 'utf8') })));
}

/** Applies pending migrations in one transaction (all or none); returns the names applied. Throws on failure. */
export async function migrate(db: Db): Promise<string[]> {
  const migrations = await loadMigrations();
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    // Transaction-scoped: released on commit or rollback, even if this process dies.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
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

/** True when every migration shipped with this build is recorded (the /readyz check). */
export async function migrationsApplied(db: Db): Promise<boolean> {
  const migrations = await loadMigrations();
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM schema_migrations WHERE version = ANY($1::int[])`, [
    migrations.map((m) => m.version),
  ]);
  return rows[0]?.n === migrations.length;
}
