// Rolling back: an older release started on a database a newer one migrated runs (migrations only
// add), and says so once at start, naming the migrations it does not know (README, "Rolling back").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../../../src/db/migrate.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { captureLogger } from '../../support/logCapture.js';

describe.each(DB_KINDS)('a database migrated by a newer release (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind, { ownDatabase: true });
  });
  afterAll(async () => {
    await tdb?.close();
  });

  function records(lines: string[]): Record<string, unknown>[] {
    return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  it('says nothing when every recorded version is one this release ships', async () => {
    const logs = captureLogger('debug');
    await expect(migrate(tdb.db, { logger: logs.logger })).resolves.toEqual([]);
    expect(logs.lines).toEqual([]);
  });

  it('warns once, naming the versions it does not know and the newest it does, and applies nothing', async () => {
    const shipped = await loadMigrations();
    const newest = shipped.at(-1)!;
    const later = [
      { version: newest.version + 1, name: `${String(newest.version + 1).padStart(4, '0')}_from_the_future.sql` },
      { version: newest.version + 2, name: `${String(newest.version + 2).padStart(4, '0')}_further_still.sql` },
    ];
    for (const m of later) await tdb.db.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    try {
      const logs = captureLogger('debug');
      await expect(migrate(tdb.db, { logger: logs.logger })).resolves.toEqual([]);
      const lines = records(logs.lines);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 40, newer_migrations: later.map((m) => m.name), newest_known_migration: newest.name });
      const msg = String(lines[0]!.msg);
      expect(msg).toContain(`migrated by a newer version of the service (${later[0]!.name}, ${later[1]!.name})`);
      expect(msg).toContain(`knows migrations up to ${newest.name}`);
      expect(msg).toMatch(/roll forward/);
    } finally {
      await tdb.db.query('DELETE FROM schema_migrations WHERE version > $1', [newest.version]);
    }
    // Gone again: silent again.
    const after = captureLogger('debug');
    await migrate(tdb.db, { logger: after.logger });
    expect(after.lines).toEqual([]);
  });
});
