// The embedded database opened for a one-shot command and for the service: one data directory, two
// buffer pools. A command opens with a small pool (PGlite zeroes all of it as it starts: most of a
// short command's time); the service keeps PostgreSQL's default for its working set.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ONE_SHOT_SHARED_BUFFERS, openDatabase } from '../../../src/db/open.js';

describe('the embedded database, opened for a command and for the service', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'aegis-embedded-open-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = { databaseUrl: null, dataDir, dbPoolMax: 1 };
  const sharedBuffers = async (use?: 'service' | 'command') => {
    const db = await openDatabase(config, undefined, undefined, use);
    try {
      await db.exec('CREATE TABLE IF NOT EXISTS opened (use text)');
      await db.query('INSERT INTO opened VALUES ($1)', [use ?? 'default']);
      const seen = (await db.query<{ use: string }>('SELECT use FROM opened ORDER BY use')).rows.map((r) => r.use);
      return { buffers: (await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0]!.shared_buffers, seen };
    } finally {
      await db.close();
    }
  };

  it('a command opens it with the small pool, the service with the default, and each sees what the other wrote', async () => {
    expect(await sharedBuffers('command')).toEqual({ buffers: ONE_SHOT_SHARED_BUFFERS, seen: ['command'] });
    expect(await sharedBuffers()).toEqual({ buffers: '128MB', seen: ['command', 'default'] });
    expect(await sharedBuffers('command')).toEqual({ buffers: ONE_SHOT_SHARED_BUFFERS, seen: ['command', 'command', 'default'] });
  }, 120_000);
});
