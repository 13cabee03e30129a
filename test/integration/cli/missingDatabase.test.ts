// The embedded database: a command that needs an existing database, pointed at a data directory that
// holds none (a typo in AEGIS_DATA_DIR, another working directory), refuses in one line and creates
// nothing there: no directory, no database, no encryption.key (a rotation "done" on an empty directory
// would leave the operator believing the real one rotated). `orgs create`, like `start` and `migrate`,
// still creates the database on a first run.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_TEST_TIMEOUT_MS, killAll, mapLimit, runCli } from './spawn.js';

const root = mkdtempSync(join(tmpdir(), 'aegis-cli-nodb-'));

afterAll(() => {
  killAll();
  rmSync(root, { recursive: true, force: true });
});

const refusal = (dir: string) =>
  `aegis-stream: no database in ${dir} (AEGIS_DATA_DIR): start the service once (aegis-stream start) or set AEGIS_DATA_DIR to the service's data directory\n`;

describe('aegis-stream CLI: a data directory without a database (embedded)', () => {
  it(
    'commands that need the database refuse it in one line and create nothing',
    async () => {
      const missing = join(root, 'missing', 'data');
      const empty = join(root, 'empty');
      mkdirSync(empty);
      const runs: Array<[string[], string]> = [
        [['api-keys', 'list', '--org', 'org_x'], missing],
        [['login-link', '--org', 'org_x'], missing],
        [['rotate-encryption-key'], missing],
        [['export', '--org', 'org_x', '--since', '2026-01-01T00:00:00Z'], missing],
        // A directory that exists but is not the service's: not even a key file is written into it.
        [['rotate-encryption-key'], empty],
      ];
      const results = await mapLimit(runs, 2, ([args, dir]) => runCli(args, { AEGIS_DATA_DIR: dir }));
      results.forEach((r, i) => {
        const [args, dir] = runs[i]!;
        const name = `${args.join(' ')} in ${dir}`;
        expect(r.signal, name).toBeNull();
        expect(r.code, name).not.toBe(0);
        expect(r.stderr, name).toBe(refusal(dir));
        expect(r.stdout, name).toBe('');
      });
      expect(existsSync(join(root, 'missing'))).toBe(false);
      expect(readdirSync(empty)).toEqual([]);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'orgs create still creates the database on a first run',
    async () => {
      const dir = join(root, 'first', 'data');
      const r = await runCli(['orgs', 'create', '--name', 'First org'], { AEGIS_DATA_DIR: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^org_\S+\n$/);
      expect(existsSync(join(dir, 'pglite', 'PG_VERSION'))).toBe(true);
    },
    CLI_TEST_TIMEOUT_MS,
  );
});
