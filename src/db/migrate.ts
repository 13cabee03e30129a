import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { alignPullOrder } from '../events/pullOrder.js';
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
  return Promise.all(files.map(async (f) => ({ version: Number(f.slice(0, 4)), name: f, sql: await readFile(join(dir, f), 'utf8') })));
}

export interface MigrateOptions {
  /**
   * Told when another process holds the migration lock for longer than waitNoticeMs, of every try a
   * table lock cut short, and (once) of versions recorded by a newer release than this one.
   */
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** How long a wait for the lock stays unremarked: processes starting together wait a moment, routinely. */
  waitNoticeMs?: number;
  /** Where the migrations are read from instead of the shipped migrations/ (tests). */
  migrationsDir?: string;
  /**
   * PostgreSQL: how long one statement of the migrations may wait for a table lock (lock_timeout).
   * While DDL waits in the lock queue, every other query on that table queues behind it, so the
   * running service would stop for as long as the session it waits for lasts. Default 5 s.
   */
  lockTimeoutMs?: number;
  /** Pause after the first try cut short by lockTimeoutMs; doubles each try up to retryMaxMs, with jitter. Default 1 s. */
  retryBaseMs?: number;
  /** Longest pause between tries. Default 30 s. */
  retryMaxMs?: number;
  /**
   * Ends the retrying: migrate rejects (AbortError) at once during a pause between tries, and otherwise
   * when the statement running at the abort ends (a try then applies nothing: the signal is checked
   * before each migration and before the commit).
   */
  signal?: AbortSignal;
}

// SQLSTATE lock_not_available: what a statement that waited lock_timeout for a lock fails with.
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Applies pending migrations in one transaction (all or none); returns the names applied. On
 * PostgreSQL a try whose DDL waits longer than lockTimeoutMs for a table lock is rolled back and tried
 * again after a pause, for ever until it succeeds or `signal` aborts. Throws on any other failure.
 * A database a newer release migrated (versions above the newest shipped here) is warned of once.
 */
export async function migrate(db: Db, opts: MigrateOptions = {}): Promise<string[]> {
  const migrations = await loadMigrations(opts.migrationsDir);
  const { lockTimeoutMs = 5000, retryBaseMs = 1000, retryMaxMs = 30_000 } = opts;
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    // PGlite is one connection in this process: nothing else can hold a lock, so no timeout and no watch.
    const watch = db.kind === 'postgres' ? new BlockerWatch(db, lockTimeoutMs) : null;
    try {
      const { applied, unknown } = await applyPending(db, migrations, opts, watch);
      if (unknown.length > 0) warnOfNewerSchema(unknown, migrations, opts.logger);
      return applied;
    } catch (err) {
      // Sampling ends with the try: during the pause our backend's connection is back in the pool.
      watch?.stop();
      if (!watch || (err as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw err;
      opts.signal?.throwIfAborted();
      // Equal jitter: processes upgraded together do not come back in step.
      const cap = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempt - 1, 30));
      const pause = Math.round(cap / 2 + (Math.random() * cap) / 2);
      const seen = watch.seen;
      const pids = seen?.blockers.map(
        (b) => `${b.pid} (${b.application_name || 'no application name'}, ${b.state ?? 'state unknown'}, transaction open ${b.xact_age_s ?? '?'} s)`,
      );
      opts.logger?.warn(
        {
          migration: watch.migration,
          attempt,
          lock_timeout_ms: lockTimeoutMs,
          retry_in_ms: pause,
          relation: seen?.relation ?? null,
          lock_mode: seen?.mode ?? null,
          blockers: seen?.blockers ?? [],
        },
        `${watch.migration ? `migration ${watch.migration}` : 'migrating'} waited ${lockTimeoutMs} ms for a lock${seen?.relation ? ` on ${seen.relation}` : ''}, held by PostgreSQL backend ${pids?.length ? pids.join(', ') : 'pid unknown'}; ` +
          `rolled back (nothing applied) so that queries on it are not held up, and the running service keeps working meanwhile; trying again in ${(pause / 1000).toFixed(1)} s`,
      );
      await sleep(pause, undefined, opts.signal ? { signal: opts.signal } : {});
    } finally {
      watch?.stop();
    }
  }
}

/**
 * Versions recorded in schema_migrations above the newest shipped one: a newer release migrated this
 * database, and this older one was started on it (a roll back). Migrations only add, so it runs; the
 * operator is told once, at start, so that the roll back is not forgotten.
 */
function warnOfNewerSchema(unknown: { version: number; name: string }[], migrations: Migration[], logger: MigrateOptions['logger']): void {
  const newestKnown = migrations.at(-1)?.name ?? null;
  const names = unknown.map((m) => m.name);
  logger?.warn(
    { newer_migrations: names, newest_known_migration: newestKnown },
    `this database was migrated by a newer version of the service (${names.join(', ')}); this version knows migrations up to ${newestKnown ?? '(none)'}: ` +
      'it runs on the newer schema, which only adds, but roll forward when you can',
  );
}

async function applyPending(
  db: Db,
  migrations: Migration[],
  opts: MigrateOptions,
  watch: BlockerWatch | null,
): Promise<{ applied: string[]; unknown: { version: number; name: string }[] }> {
  const applied: string[] = [];
  let unknown: { version: number; name: string }[] = [];
  await db.transaction(
    async (tx) => {
      // The wait for another process's migration is not cut short, whatever lock_timeout or
      // statement_timeout the role or server sets: that process is applying these same migrations. Nor is
      // a migration itself (an index built on a large table takes what it takes); only our own
      // lock_timeout, set below, cuts a wait for a table lock.
      if (watch) await tx.exec('SET LOCAL lock_timeout = 0; SET LOCAL statement_timeout = 0');
      await takeMigrationLock(tx, opts);
      if (watch) {
        const { rows } = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid, set_config('lock_timeout', $1, true)", [`${watch.lockTimeoutMs}ms`]);
        watch.start(rows[0]!.pid);
      }
      await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await tx.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
      const done = new Set(rows.map((r) => r.version));
      const newestShipped = migrations.at(-1)?.version ?? 0;
      unknown = rows.filter((r) => r.version > newestShipped).map((r) => ({ version: r.version, name: r.name }));
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        opts.signal?.throwIfAborted();
        if (watch) watch.migration = m.name;
        // The row goes in first: a concurrent migrator that somehow got past the lock would collide on
        // the primary key instead of applying the migration twice.
        await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await tx.exec(m.sql);
        applied.push(m.name);
      }
      // Under the same lock, before anything is recorded: events from another server's counter.
      const moved = await alignPullOrder(tx);
      if (moved)
        opts.logger?.warn(
          { highest_stored_txid: moved.highestStored, txid_offset_before: moved.offsetBefore, txid_offset: moved.offsetAfter },
          "audit events stored here were recorded on another PostgreSQL server, whose transaction ids ran further (a restored dump or a promoted replica): events recorded from now on are numbered after them, so the pull API and the export show every event in order and pollers' cursors keep their place",
        );
      // An abort that came while the last statement ran: roll back rather than commit.
      opts.signal?.throwIfAborted();
      // Not cut by the API pool's statement limit either (it runs on the API's handle): see above.
    },
    { unbounded: true },
  );
  return { applied, unknown };
}

interface Blocker {
  pid: number;
  application_name: string | null;
  state: string | null;
  xact_age_s: number | null;
  state_age_s: number | null;
}

/**
 * Who our migrating backend waits for. Asked from another pooled connection while the try runs: once
 * the lock timeout fires we no longer wait, and pg_blocking_pids says nothing. Sampled a few times per
 * lock timeout; the last sample that saw a wait is what the warning reports. Never the sessions'
 * query text (it may hold secrets): pid, application name, state and ages only. Best effort: a
 * refused catalogue view or a full pool leaves the warning without names.
 */
class BlockerWatch {
  migration: string | null = null;
  seen: { relation: string | null; mode: string; blockers: Blocker[] } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly db: Db,
    readonly lockTimeoutMs: number,
  ) {}

  start(pid: number): void {
    this.timer = setInterval(() => void this.sample(pid), Math.min(1000, Math.max(20, this.lockTimeoutMs / 4)));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(pid: number): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const { rows } = await this.db.query<{ relation: string | null; mode: string; blockers: Blocker[] | null }>(
        `SELECT l.relation::regclass::text AS relation, l.mode,
           (SELECT json_agg(json_build_object('pid', a.pid, 'application_name', a.application_name, 'state', a.state,
                     'xact_age_s', floor(extract(epoch FROM now() - a.xact_start)),
                     'state_age_s', floor(extract(epoch FROM now() - a.state_change))))
              FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids($1))) AS blockers
         FROM pg_locks l WHERE l.pid = $1 AND NOT l.granted LIMIT 1`,
        [pid],
      );
      const row = rows[0];
      if (row?.blockers?.length) this.seen = { relation: row.relation, mode: row.mode, blockers: row.blockers };
    } catch {
      // Best effort (see above).
    } finally {
      this.busy = false;
    }
  }
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
 * classid (high 32 bits), objid (low 32 bits) and objsubid 1. Advisory locks are per database: the
 * same key held in another database of the server (another deployment migrating) is not ours to name.
 */
async function migrationLockHolder(tx: Queryable): Promise<{ pid: number; application_name: string | null } | null> {
  const { rows } = await tx.query<{ pid: number; application_name: string | null }>(
    `SELECT l.pid, a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid
      LIMIT 1`,
    [MIGRATION_LOCK_KEY],
  );
  return rows[0] ?? null;
}

/** True when every migration shipped with this build is recorded (the /readyz check). */
/**
 * Whether every migration is applied, asked with a write that changes nothing: a server that only
 * reads (a standby after a failover, default_transaction_read_only) refuses it with 25006, which the
 * readiness probe answers as not ready (every write would be refused), and the pool closes that
 * connection (isReadOnlyRefusal), so the next probe asks a fresh one and sees the server come back.
 * An UPDATE that matches no row writes nothing and takes no transaction id.
 */
export async function migrationsApplied(db: Db): Promise<boolean> {
  const migrations = await loadMigrations();
  const { rows } = await db.query<{ n: number }>(
    `WITH writable AS (UPDATE schema_migrations SET version = version WHERE false RETURNING 1)
     SELECT count(*)::int AS n FROM schema_migrations WHERE version = ANY($1::int[])`,
    [migrations.map((m) => m.version)],
  );
  return rows[0]?.n === migrations.length;
}
