// Every byte of a test database as text, for leak scans (a planted value must appear nowhere).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { TEST_DATABASE_URL, type TestDb } from './db.js';

const run = promisify(execFile);

/** Every byte of the test database as text: pg_dump on the real server, every row (bytea as hex) on PGlite. */
export async function dumpDatabase(tdb: TestDb): Promise<string> {
  if (tdb.kind === 'postgres') {
    const u = new URL(TEST_DATABASE_URL);
    const { stdout } = await run(
      'pg_dump',
      ['-h', u.hostname, '-p', u.port || '5432', '-U', u.username || 'postgres', '-d', u.pathname.slice(1), '-n', tdb.schema!],
      {
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) },
      },
    );
    expect(stdout).toContain('CREATE TABLE');
    return stdout;
  }
  const { rows: tables } = await tdb.db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
  );
  expect(tables.length).toBeGreaterThan(5);
  const out: string[] = [];
  for (const { table_name } of tables) {
    const { rows } = await tdb.db.query<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM "${table_name}" t`);
    out.push(...rows.map((r) => `${table_name}: ${r.j}`));
    const { rows: cols } = await tdb.db.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND data_type = 'bytea'`,
      [table_name],
    );
    for (const { column_name } of cols) {
      const { rows: hex } = await tdb.db.query<{ h: string | null }>(`SELECT encode("${column_name}", 'hex') AS h FROM "${table_name}"`);
      out.push(...hex.map((r) => `${table_name}.${column_name}: ${r.h ?? ''}`));
    }
  }
  return out.join('\n');
}
