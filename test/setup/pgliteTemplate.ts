// Vitest global setup: one migrated PGlite database, dumped once per run, that every test file's
// openTestDb('pglite') starts from. A fresh in-memory PGlite runs initdb (several seconds on a busy
// 2-core machine, once per test file); loading a dumped data directory skips that, and the
// migrations with it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpPglite, openPglite } from '../../src/db/pglite.js';
import { migrate } from '../../src/db/migrate.js';
import { PGLITE_TEMPLATE_ENV } from '../support/db.js';

let dir: string | null = null;

export async function setup(): Promise<void> {
  const db = await openPglite();
  try {
    await migrate(db);
    const dump = await dumpPglite(db);
    dir = mkdtempSync(join(tmpdir(), 'aegis-pglite-template-'));
    const file = join(dir, 'template.tar');
    writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
    // The test processes inherit the environment.
    process.env[PGLITE_TEMPLATE_ENV] = file;
  } finally {
    await db.close();
  }
}

export function teardown(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
