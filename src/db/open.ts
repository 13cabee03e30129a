import { chmodSync, statSync } from 'node:fs';
import { makeDirs } from '../makeDirs.js';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config, Role } from '../config/env.js';
import type { Db } from './types.js';
import { acquireDirLock } from './dirLock.js';

export { DatabaseBusyError } from './dirLock.js';
import { openPg } from './pg.js';
import { openPglite } from './pglite.js';

/**
 * The database handles of one process: `api` serves requests, `worker` delivers. With --role all on
 * PostgreSQL they are two pools splitting AEGIS_DB_POOL_MAX (AEGIS_DB_API_CONNECTIONS for the API), so
 * a worker holding every connection it has (a drain, slow settles, a stalled server) never leaves an
 * API request waiting for one, nor the other way round. Otherwise both are the same handle: a single
 * role needs one pool, and the embedded database is a single connection either way.
 */
export interface ProcessDatabases {
  api: Db;
  worker: Db;
  close(): Promise<void>;
}

export async function openProcessDatabases(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolMax' | 'dbApiConnections' | 'dbPreparedStatements' | 'dbApiStatementTimeoutMs'>,
  role: Role,
  logger?: Logger,
  signal?: AbortSignal,
): Promise<ProcessDatabases> {
  // The API's statements, and only theirs, get a time limit (AEGIS_DB_API_STATEMENT_TIMEOUT_MS):
  // a request waiting on a lock held outside the service would otherwise keep its organization's
  // admission place and one of these connections for ever. The worker's statements (settles, prunes,
  // background replays) are let finish, and the CLI opens its own handle without it. Migrations run on
  // the API's handle in a transaction the limit never cuts (migrate.ts: { unbounded: true }).
  // The API's pool is also shared fairly between organizations (db/fairSlots.ts): one organization's
  // requests admitted at once hold at most all but one of its connections, and a connection that comes
  // back goes to the organization holding fewest, so another organization's request never waits for
  // all of them. The worker's pool is not: its work is for no request.
  const apiPool = { statementTimeoutMs: config.dbApiStatementTimeoutMs, fairByOrg: true };
  if (config.databaseUrl && role === 'all') {
    // One outage state for both pools: a restart cuts the connections of both and is logged once.
    const log = { outage: { lost: false }, preparedStatements: config.dbPreparedStatements, ...(logger ? { logger } : {}) };
    const api = openPg({ connectionString: config.databaseUrl, max: config.dbApiConnections, ...log, ...apiPool });
    const worker = openPg({ connectionString: config.databaseUrl, max: config.dbPoolMax - config.dbApiConnections, ...log });
    return { api, worker, close: async () => void (await Promise.allSettled([api.close(), worker.close()])) };
  }
  const db = await openDatabase(role === 'api' ? { ...config, ...apiPool } : config, logger, signal);
  return { api: db, worker: db, close: () => db.close() };
}

/**
 * The embedded database's buffer pool for a one-shot command (`orgs create`, `migrate`, `export`...),
 * where the service keeps PostgreSQL's 128MB. PGlite zeroes the whole pool as it opens: at 128MB that
 * was 0.4 of the 1.4 s of CPU every command spent opening it (measured on PGlite 0.5.16, a 2-core
 * machine). A command reads a few rows, or scans with PostgreSQL's own small ring of buffers.
 */
export const ONE_SHOT_SHARED_BUFFERS = '16MB';

/** Where the embedded database lives in a data directory. */
function embeddedDatabaseDir(dataDir: string): string {
  return join(resolve(dataDir), 'pglite');
}

/**
 * Whether the data directory holds an embedded database: PGlite takes a PG_VERSION file in its
 * directory as a database to resume (else it runs initdb). Any error other than "no such file" (a
 * directory that cannot be read) counts as one, and is left to opening it, which names the data
 * directory and the reason (cli/startErrors.ts).
 */
export function embeddedDatabaseExists(dataDir: string): boolean {
  try {
    statSync(join(embeddedDatabaseDir(dataDir), 'PG_VERSION'));
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}

/** Opens the configured database: a PostgreSQL server when DATABASE_URL is set, else embedded PGlite. */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolMax'> &
    Partial<Pick<Config, 'dbPreparedStatements'>> & { statementTimeoutMs?: number; fairByOrg?: boolean },
  logger?: Logger,
  /** Ends the wait for another container's lock (dirLock.ts LockOptions.signal). */
  signal?: AbortSignal,
  /** A one-shot command (not `start`): the embedded database opens with ONE_SHOT_SHARED_BUFFERS. */
  use: 'service' | 'command' = 'service',
): Promise<Db> {
  if (config.databaseUrl)
    return openPg({
      connectionString: config.databaseUrl,
      max: config.dbPoolMax,
      preparedStatements: config.dbPreparedStatements,
      ...(config.statementTimeoutMs ? { statementTimeoutMs: config.statementTimeoutMs } : {}),
      ...(config.fairByOrg ? { fairByOrg: true } : {}),
      ...(logger ? { logger } : {}),
    });
  const dir = resolve(config.dataDir);
  makeDirs(dir);
  // mkdir's mode does not apply to a directory that already exists (e.g. made by an older version).
  chmodSync(dir, 0o700);
  const release = await acquireDirLock(dir, {
    signal,
    onWait: (pid, waitMs, holder) =>
      logger?.warn(
        { pid, lock: holder },
        holder === 'older-version'
          ? `the data directory holds a lock left by an earlier version of the service (pid ${pid}, not running here); ` +
              `waiting up to ${waitMs / 1000} s in case that process runs in another container`
          : holder === 'other-directory'
            ? `the data directory's lock names another directory (a copy of a running service's directory, or this one seen through another mount); ` +
              `waiting up to ${waitMs / 1000} s to see whether its holder still runs`
            : `the data directory is locked by a process outside this container; waiting up to ${waitMs / 1000} s to see whether it still runs`,
      ),
  });
  try {
    const db = await openPglite(embeddedDatabaseDir(dir), use === 'command' ? { sharedBuffers: ONE_SHOT_SHARED_BUFFERS } : {});
    const close = db.close.bind(db);
    return Object.assign(db, {
      close: async () => {
        try {
          await close();
        } finally {
          release();
        }
      },
    });
  } catch (err) {
    release();
    throw err;
  }
}
