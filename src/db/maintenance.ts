// Autovacuum for the embedded database. PGlite is one PostgreSQL backend in single-user mode, with no
// autovacuum launcher: without this, every settled job (a DELETE), every claim (a new row version) and
// every pruned event left dead rows and dead index entries that nothing reclaimed, so the data
// directory grew with every job ever queued and the claim walked ever more dead index entries; and
// tables were never analyzed, so the planner took the partial indexes created by the migrations on
// empty tables for empty. On PostgreSQL the server's autovacuum does all this: nothing runs there.
//
// What it does, as autovacuum would (its default settings): every MAINTENANCE_CHECK_MS, one table at
// a time, VACUUM a table whose dead rows exceed 50 + 20 % of its rows (or whose rows inserted since
// its last vacuum exceed 1000 + 20 %: the visibility map, for index-only scans), ANALYZE one whose rows
// changed since its last analyze exceed 50 + 10 %, and VACUUM (FREEZE) one whose oldest unfrozen
// transaction id is older than THRESHOLDS.freezeTableAge (wraparound protection; the catalogs are
// checked too). The counters are PostgreSQL's own (pg_stat_all_tables), which PGlite maintains but
// keeps in memory only: at start the service's large tables are analyzed, which also gives back an
// estimate of the dead rows a previous run left, and the first check follows one period later.
//
// PGlite runs one statement at a time, in this process's thread: while a VACUUM runs, the whole process
// waits (HTTP answers, /healthz, deliveries), not only the other statements. One table per statement,
// with a turn of the event loop before each (PGlite settles its promises without one, so awaiting
// statement after statement alone held the process for the whole check: 82 statements, 0.7 s, in a
// freeze round), and a VACUUM that will be long is announced first (ANNOUNCED). Measured
// on PGlite 0.5.16: VACUUM (ANALYZE) forwarding_jobs after 300,000 settled jobs (30 s of 1,000 events/s
// to 10 destinations) about 0.3 s; after 1,000,000 never vacuumed, 1.9 s once.
import type { Logger } from '../logger.js';
import type { Db, Queryable } from './types.js';
import { isDatabaseUnavailable } from './unavailable.js';

/**
 * How often the embedded database's tables are checked (a check that finds nothing due is two short
 * queries). Fixed, not a setting: at 1,000 events/s to 10 destinations, 30 s of settled jobs take
 * about 0.3 s to vacuum, so the process waits that long, about 1 % of the time.
 */
export const MAINTENANCE_CHECK_MS = 30_000;

/**
 * autovacuum's thresholds (PostgreSQL's defaults for autovacuum_vacuum_threshold/_scale_factor,
 * autovacuum_vacuum_insert_threshold/_scale_factor, autovacuum_analyze_threshold/_scale_factor), and
 * vacuum_freeze_table_age: the age at which PostgreSQL's own VACUUM turns aggressive, well before
 * autovacuum_freeze_max_age (200 million) and the 2-billion wraparound limit.
 */
export const THRESHOLDS = {
  vacuumBase: 50,
  vacuumScale: 0.2,
  insertBase: 1000,
  insertScale: 0.2,
  analyzeBase: 50,
  analyzeScale: 0.1,
  freezeTableAge: 150_000_000,
} as const;

export type Thresholds = { [K in keyof typeof THRESHOLDS]: number };

export interface TableDue {
  /** Schema-qualified and quoted by the database (format('%I.%I')): safe to put into a statement. */
  table: string;
  vacuum: boolean;
  freeze: boolean;
  analyze: boolean;
  /** Its dead rows (PostgreSQL's estimate) and its size in pages: what says beforehand a VACUUM will be long. */
  dead: number;
  pages: number;
}

/**
 * A VACUUM of a table this large, or with this many dead rows, is announced before it starts: PGlite
 * runs in this process's thread, so while it runs the whole process (HTTP answers, /healthz,
 * deliveries) waits, and an operator watching a silent process must see why (the first check after
 * upgrading a data directory that was never vacuumed: about 2 s per million dead jobs).
 */
const ANNOUNCED = { pages: 12_800, dead: 250_000 } as const;

/**
 * Ordinary tables and materialized views of every schema (the catalogs churn too: every VACUUM and
 * ANALYZE rewrites pg_class and pg_statistic rows), not TOAST tables, which VACUUM of their table
 * covers, nor other sessions' temporary ones. reltuples is -1 for a table never vacuumed or analyzed.
 */
const TABLES = `
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
 WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't' AND n.nspname <> 'pg_toast'`;

/**
 * $1..$7 the thresholds (the columns quoted: FREEZE and ANALYZE are reserved words). pg_statistic
 * is never analyzed (as autovacuum: each ANALYZE writes it, so it would always be due).
 */
const DUE_SQL = `
  SELECT "table", "vacuum", "freeze", "analyze", dead::float8 AS dead, pages FROM (
    SELECT format('%I.%I', n.nspname, c.relname) AS "table",
           coalesce(s.n_dead_tup > $1 + $2 * greatest(c.reltuples, 0)
                    OR s.n_ins_since_vacuum > $3 + $4 * greatest(c.reltuples, 0), false) AS "vacuum",
           age(c.relfrozenxid) > $7 AS "freeze",
           c.oid <> 'pg_catalog.pg_statistic'::regclass AND coalesce(s.n_mod_since_analyze > $5 + $6 * greatest(c.reltuples, 0), false) AS "analyze",
           age(c.relfrozenxid) AS xid_age, coalesce(s.n_dead_tup, 0) AS dead, c.relpages::float8 AS pages
    ${TABLES}
  ) t
   WHERE "vacuum" OR "freeze" OR "analyze"
   ORDER BY "freeze" DESC, xid_age DESC, dead DESC`;

/**
 * The tables due for a VACUUM, a VACUUM (FREEZE) or an ANALYZE. The counters reach the statistics
 * views at most once a second after a statement: a forced flush first (at the end of its own
 * statement), so a check sees the work done just before it.
 */
export async function tablesDue(db: Queryable, t: Thresholds = THRESHOLDS): Promise<TableDue[]> {
  await db.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.query<TableDue>(DUE_SQL, [
    t.vacuumBase,
    t.vacuumScale,
    t.insertBase,
    t.insertScale,
    t.analyzeBase,
    t.analyzeScale,
    t.freezeTableAge,
  ]);
  return rows;
}

/** The statement for one due table: only fixed words and the name the database quoted. */
export function maintenanceStatement(d: TableDue): string {
  const opts = [...(d.freeze ? ['FREEZE'] : []), ...(d.analyze ? ['ANALYZE'] : [])];
  if (d.vacuum || d.freeze) return opts.length > 0 ? `VACUUM (${opts.join(', ')}) ${d.table}` : `VACUUM ${d.table}`;
  return `ANALYZE ${d.table}`;
}

export interface MaintenanceOptions {
  logger?: Logger;
  /** Checked between tables: a stopping service waits for one statement at most. */
  shouldStop?: () => boolean;
  thresholds?: Thresholds;
  /** When a VACUUM is announced before it starts (default ANNOUNCED). */
  announceAt?: { pages: number; dead: number };
  /** analyzeEmbedded: only tables of at least this many pages (default START_ANALYZE_MIN_PAGES). */
  minPages?: number;
}

/**
 * The start-up ANALYZE leaves out tables under 1 MiB: their plans are trivial whatever the statistics,
 * their counters (kept from now on) bring them into the periodic checks, and every start of a new or
 * small database (each test's service, each CLI start) would otherwise pay a few hundred ms of
 * ANALYZE with the process stalled.
 */
export const START_ANALYZE_MIN_PAGES = 128;

export interface MaintenanceRun {
  /** The statements run, with how long each held the database. */
  done: Array<{ statement: string; ms: number }>;
  failed: number;
}

/** Whether a VACUUM of `d` is large enough to be announced before it starts (ANNOUNCED). */
function longVacuum(d: TableDue, at: { pages: number; dead: number }): boolean {
  return (d.vacuum || d.freeze) && (d.pages >= at.pages || d.dead >= at.dead);
}

/**
 * Runs `statements` one at a time (with the table's due state when a check found it due). A statement
 * that fails is logged and the next one runs (a table dropped meanwhile must not starve the others);
 * the database gone away, or stopping, ends the run.
 */
async function runEach(db: Queryable, statements: Array<{ statement: string; due?: TableDue }>, opts: MaintenanceOptions): Promise<MaintenanceRun> {
  const run: MaintenanceRun = { done: [], failed: 0 };
  for (const { statement, due } of statements) {
    // What waited meanwhile (requests, timers, deliveries) runs first: see the header.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (opts.shouldStop?.()) break;
    if (due && longVacuum(due, opts.announceAt ?? ANNOUNCED)) {
      opts.logger?.info(
        { statement, dead_rows: Math.round(due.dead), size_mib: Math.round((due.pages * 8) / 1024) },
        'embedded database maintenance: a long VACUUM starts; the embedded database runs in this process, so the service answers nothing until it ends',
      );
    }
    const started = performance.now();
    try {
      await db.query(statement);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      run.failed++;
      // The statement names only a table: nothing secret in it or in PostgreSQL's message.
      opts.logger?.warn({ err: (err as Error).message, statement }, 'embedded database maintenance statement failed; will retry at the next check');
      continue;
    }
    const ms = Math.round(performance.now() - started);
    run.done.push({ statement, ms });
    // Long ones said louder: the API's statements waited behind them.
    if (ms >= 1000) opts.logger?.info({ statement, ms }, 'embedded database maintenance: a long statement held the database');
    else opts.logger?.debug({ statement, ms }, 'embedded database maintenance');
  }
  return run;
}

/**
 * One check: VACUUMs and ANALYZEs every table past its threshold, one at a time. Only on PGlite: on
 * PostgreSQL it runs nothing at all (the server's autovacuum does this).
 */
export async function maintainEmbedded(db: Db, opts: MaintenanceOptions = {}): Promise<MaintenanceRun> {
  if (db.kind !== 'pglite') return { done: [], failed: 0 };
  const due = await tablesDue(db, opts.thresholds);
  return runEach(
    db,
    due.map((d) => ({ statement: maintenanceStatement(d), due: d })),
    opts,
  );
}

/**
 * ANALYZE of the service's tables (every schema but the catalogs, which the checks cover), one at a
 * time: at start, since PGlite keeps no statistics counters across a restart (and a database just
 * migrated has none), so that the first plans have statistics and the first check sees the dead rows
 * a previous run left (ANALYZE estimates them). Only on PGlite. Measured on PGlite 0.5.16: about
 * 3.6 s in all with 300,000 events, 300,000 attempts and 1,000,000 dead jobs (audit_events 1.5 s,
 * delivery_attempts 1.1 s, forwarding_jobs 1.0 s); milliseconds on a new database.
 */
export async function analyzeEmbedded(db: Db, opts: MaintenanceOptions = {}): Promise<MaintenanceRun> {
  if (db.kind !== 'pglite') return { done: [], failed: 0 };
  const { rows } = await db.query<{ table: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS "table" ${TABLES} AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND c.relpages >= $1 ORDER BY 1`,
    [opts.minPages ?? START_ANALYZE_MIN_PAGES],
  );
  return runEach(
    db,
    rows.map((r) => ({ statement: `ANALYZE ${r.table}` })),
    opts,
  );
}

/**
 * The loop: at start an ANALYZE of every table of START_ANALYZE_MIN_PAGES or more, then a check every
 * `checkMs` (the first one period after start: a database just migrated has its catalogs due, a few
 * hundred ms that a short-lived start need not pay), one at a time. Does nothing on PostgreSQL.
 * Errors are logged and the next check tries again; stop() cancels the timer and waits for the
 * statement in flight only.
 */
export class EmbeddedMaintenance {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private stopped = true;
  private analyzed = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly checkMs = MAINTENANCE_CHECK_MS,
    private readonly thresholds: Thresholds = THRESHOLDS,
    private readonly startMinPages = START_ANALYZE_MIN_PAGES,
  ) {}

  /** Whether it runs at all: only on the embedded database. */
  get enabled(): boolean {
    return this.db.kind === 'pglite';
  }

  start(): void {
    if (!this.enabled || !this.stopped) return;
    this.stopped = false;
    this.arm(0);
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.check(), ms);
    // Never what keeps the process alive.
    this.timer.unref();
  }

  private check(): void {
    if (this.stopped || this.current) return;
    const opts: MaintenanceOptions = { logger: this.logger, shouldStop: () => this.stopped, thresholds: this.thresholds, minPages: this.startMinPages };
    this.current = (async () => {
      try {
        // Again after a start whose ANALYZE was cut short by a stop. Not after one that failed on a
        // table (logged): retrying it at every check would keep every VACUUM from ever running, and
        // the checks' own ANALYZE thresholds bring that table back.
        if (!this.analyzed) {
          await analyzeEmbedded(this.db, opts);
          this.analyzed = !this.stopped;
        } else await maintainEmbedded(this.db, opts);
      } catch (err) {
        // The database closing under a stopping service is expected; anything else is said and retried.
        if (!this.stopped && !isDatabaseUnavailable(err))
          this.logger.warn({ err: (err as Error).message }, 'embedded database maintenance failed; will retry at the next check');
      } finally {
        this.current = null;
      }
      this.arm(this.checkMs);
    })();
  }

  /** No more checks; waits for the statement in flight (a check stops between tables). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
  }
}
