import { loadConfig, type Config } from '../config/env.js';
import { openDatabase, DatabaseBusyError } from '../db/open.js';
import { migrate } from '../db/migrate.js';
import type { Db } from '../db/types.js';

/** Opens and migrates the configured database for a one-shot command, and always closes it. */
export async function withDatabase<T>(fn: (db: Db, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  let db: Db;
  try {
    db = await openDatabase(config);
  } catch (err) {
    if (err instanceof DatabaseBusyError) throw new CliError(err.message);
    throw err;
  }
  try {
    await migrate(db);
    return await fn(db, config);
  } finally {
    await db.close();
  }
}

/** An error whose message is meant for the user as is (no stack trace). */
export class CliError extends Error {}
