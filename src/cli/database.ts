import { isAbsolute, resolve } from 'node:path';
import { loadConfig, type Config } from '../config/env.js';
import { embeddedDatabaseExists, openDatabase, DatabaseBusyError } from '../db/open.js';
import { migrate } from '../db/migrate.js';
import type { Db } from '../db/types.js';
import { createLogger, type Logger } from '../logger.js';

/**
 * Opens and migrates the configured database for a one-shot command, and always closes it.
 *
 * On the embedded database a command refuses a data directory that holds none yet (requireEmbeddedDatabase)
 * unless `create` says it may make it, as `orgs create` does on a first run (like `start` and `migrate`).
 */
export async function withDatabase<T>(fn: (db: Db, config: Config) => Promise<T>, opts: { create?: boolean } = {}): Promise<T> {
  const config = loadConfig();
  if (!config.databaseUrl && !opts.create) requireEmbeddedDatabase(config.dataDir);
  const logger = cliLogger(config);
  let db: Db;
  try {
    db = await openDatabase(config, logger, undefined, 'command');
  } catch (err) {
    if (err instanceof DatabaseBusyError) throw new CliError(err.message);
    throw err;
  }
  try {
    await migrate(db, { logger });
    return await fn(db, config);
  } finally {
    await db.close();
  }
}

/**
 * Refuses, before anything is created, a data directory that holds no embedded database: opening it
 * would make the directory and a fresh empty database (and `rotate-encryption-key` a new key file), so
 * a mistyped AEGIS_DATA_DIR or another working directory would answer "No organization ..." or
 * "Re-encrypted 0 credential(s)" instead of saying the database is elsewhere.
 */
function requireEmbeddedDatabase(dataDir: string): void {
  if (embeddedDatabaseExists(dataDir)) return;
  const dir = resolve(dataDir);
  const named = isAbsolute(dataDir) ? 'AEGIS_DATA_DIR' : `AEGIS_DATA_DIR ${dataDir}, from the current directory`;
  throw new CliError(`no database in ${dir} (${named}): start the service once (aegis-stream start) or set AEGIS_DATA_DIR to the service's data directory`);
}

/**
 * A one-shot command's log, on stderr (stdout is the command's answer): what it waits for (another
 * process's migration, a data directory's lock) says so there.
 */
export function cliLogger(config: Pick<Config, 'logLevel'>): Logger {
  return createLogger(config.logLevel, process.stderr);
}

/** An error whose message is meant for the user as is (no stack trace). */
export class CliError extends Error {}
