import { loadConfig, type Config } from '../config/env.js';
import { openDatabase, DatabaseBusyError } from '../db/open.js';
import { migrate } from '../db/migrate.js';
import type { Db } from '../db/types.js';
import { createLogger, type Logger } from '../logger.js';

/** Opens and migrates the configured database for a one-shot command, and always closes it. */
export async function withDatabase<T>(fn: (db: Db, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
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
 * A one-shot command's log, on stderr (stdout is the command's answer): what it waits for (another
 * process's migration, a data directory's lock) says so there.
 */
export function cliLogger(config: Pick<Config, 'logLevel'>): Logger {
  return createLogger(config.logLevel, process.stderr);
}

/** An error whose message is meant for the user as is (no stack trace). */
export class CliError extends Error {}
