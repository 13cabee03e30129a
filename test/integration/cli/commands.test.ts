// Issue 2, CLI: --help on every command, environment validation, and concurrent `migrate` processes.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPg } from '../../../src/db/pg.js';
import { loadMigrations } from '../../../src/db/migrate.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';
import { TEST_DATABASE_URL, schemaUrl } from '../../support/db.js';
import { CLI_TEST_TIMEOUT_MS, killAll, mapLimit, runCli } from './spawn.js';

const dirs: string[] = [];
const schemas: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aegis-cli-'));
  dirs.push(d);
  return d;
}
async function freshSchema(): Promise<string> {
  const schema = `t_cli_${randomBytes(5).toString('hex')}`;
  const admin = openPg({ connectionString: TEST_DATABASE_URL, max: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  await admin.close();
  schemas.push(schema);
  return schema;
}

afterAll(async () => {
  killAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  const admin = openPg({ connectionString: TEST_DATABASE_URL, max: 1 });
  for (const s of schemas) await admin.exec(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.close();
});

describe('aegis-stream CLI: help and configuration errors', () => {
  const commands = [
    [],
    ['start'],
    ['migrate'],
    ['orgs'],
    ['orgs', 'create'],
    ['api-keys'],
    ['api-keys', 'create'],
    ['login-link'],
    ['rotate-encryption-key'],
    ['replay'],
    ['validate-event'],
    ['export'],
    ['api-keys', 'list'],
    ['api-keys', 'revoke'],
    ['sessions', 'end'],
  ];

  it(
    '--help works on every command and describes it',
    async () => {
      const results = await mapLimit(commands, 3, (c) => runCli([...c, '--help'], { AEGIS_DATA_DIR: tempDir() }));
      results.forEach((r, i) => {
        const name = commands[i]!.join(' ') || '(top level)';
        expect(r.code, `${name}: ${r.stderr}`).toBe(0);
        expect(r.stdout, name).toMatch(/^Usage: aegis-stream/m);
      });
      const top = results[0]!.stdout;
      for (const c of ['start', 'migrate', 'orgs', 'api-keys', 'login-link']) expect(top).toContain(c);
      expect(results[1]!.stdout).toMatch(/--role <role>/);
      expect(results[1]!.stdout).toMatch(/api.*worker.*all/);
      expect(results[4]!.stdout).toContain('--name <name>');
      expect(results[6]!.stdout).toContain('--org <org_id>');
      expect(results[7]!.stdout).toContain('--org <org_id>');
      expect(results[9]!.stdout).toMatch(/--from <time>[\s\S]*--to <time>/);
      expect(results[11]!.stdout).toMatch(/--org <org_id>[\s\S]*--since <time>[\s\S]*--until <time>/);
      expect(results[12]!.stdout).toContain('--org <org_id>');
      expect(results[13]!.stdout).toMatch(/--org <org_id>[\s\S]*<key>|<key>[\s\S]*--org <org_id>/);
      expect(results[14]!.stdout).toContain('--org <org_id>');
    },
    CLI_TEST_TIMEOUT_MS,
  );

  const bad: Array<[string, Record<string, string>, string]> = [
    ['PORT=abc', { PORT: 'abc' }, 'PORT'],
    ['AEGIS_RETRY_DELAYS_S=x', { AEGIS_RETRY_DELAYS_S: 'x' }, 'AEGIS_RETRY_DELAYS_S'],
    ['AEGIS_HTTP_TIMEOUT_MS=-1', { AEGIS_HTTP_TIMEOUT_MS: '-1' }, 'AEGIS_HTTP_TIMEOUT_MS'],
    ['AEGIS_ENCRYPTION_KEY=short', { AEGIS_ENCRYPTION_KEY: 'short' }, 'AEGIS_ENCRYPTION_KEY'],
    ['AEGIS_ENCRYPTION_KEY of 16 bytes', { AEGIS_ENCRYPTION_KEY: randomBytes(16).toString('base64') }, 'AEGIS_ENCRYPTION_KEY'],
    ['DATABASE_URL without AEGIS_ENCRYPTION_KEY', { DATABASE_URL: TEST_DATABASE_URL }, 'AEGIS_ENCRYPTION_KEY'],
    ['DATABASE_URL=mysql://', { DATABASE_URL: 'mysql://localhost/x', AEGIS_ENCRYPTION_KEY: generateKeyBase64() }, 'DATABASE_URL'],
    ['AEGIS_ALLOW_PRIVATE_DESTINATIONS=maybe', { AEGIS_ALLOW_PRIVATE_DESTINATIONS: 'maybe' }, 'AEGIS_ALLOW_PRIVATE_DESTINATIONS'],
    ['AEGIS_BOOTSTRAP_API_KEY without the org', { AEGIS_BOOTSTRAP_API_KEY: 'k'.repeat(32) }, 'AEGIS_BOOTSTRAP_ORG_ID'],
  ];
  it(
    'start refuses a bad environment: non-zero exit, one plain line naming the variable, no stack trace',
    async () => {
      const results = await mapLimit(bad, 3, ([, env]) => runCli(['start'], { AEGIS_DATA_DIR: tempDir(), PORT: '0', ...env }, 60_000));
      results.forEach((r, i) => {
        const [name, , variable] = bad[i]!;
        expect(r.signal, name).toBeNull(); // it exited by itself: it did not start and hang
        expect(r.code, name).not.toBe(0);
        expect(r.stderr, name).toContain(variable);
        expect(r.stderr, name).toMatch(/^aegis-stream: /m);
        expect(r.stderr, name).not.toMatch(/^\s+at /m);
        expect(r.stdout, name).not.toContain('listening');
      });
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'several concurrent `migrate` processes on a fresh schema all succeed and apply each migration once',
    async () => {
      const schema = await freshSchema();
      const env = { DATABASE_URL: schemaUrl(schema), AEGIS_ENCRYPTION_KEY: generateKeyBase64() };
      const results = await Promise.all(Array.from({ length: 4 }, () => runCli(['migrate'], env)));
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const migrations = await loadMigrations();
      expect(results.filter((r) => r.stdout.includes('Applied:'))).toHaveLength(1);
      expect(results.filter((r) => r.stdout.includes('up to date'))).toHaveLength(3);
      const db = openPg({ connectionString: schemaUrl(schema), max: 1 });
      try {
        const { rows } = await db.query<{ version: number; n: number }>(
          'SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version',
        );
        expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
        for (const r of rows) expect(r.n).toBe(1);
        const t = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'destinations'`,
          [schema],
        );
        expect(t.rows[0]!.n).toBe(1);
      } finally {
        await db.close();
      }
    },
    CLI_TEST_TIMEOUT_MS,
  );
});
