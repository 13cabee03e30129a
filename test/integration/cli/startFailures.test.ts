// Starts that fail for a reason the operator can fix: one line naming the setting, no stack trace, never
// the password of DATABASE_URL; and a first start that fails after creating the organization still shows
// its API key (only its hash is stored: a key not shown then is lost for good).
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';
import { TEST_DATABASE_URL } from '../../support/db.js';
import { CLI_TEST_TIMEOUT_MS, freePort, killAll, mapLimit, runCli, startCli, type RunResult } from './spawn.js';

const PASSWORD = 'Tr0ub4dor-s3cret-pw';
const dirs: string[] = [];
const servers: Server[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aegis-cli-fail-'));
  dirs.push(d);
  return d;
}

afterAll(async () => {
  killAll();
  for (const s of servers) await new Promise((r) => s.close(r));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Exit 1 with exactly one line on stderr, matching `re`; no stack trace; the password nowhere. */
function expectOneLine(r: RunResult, re: RegExp): void {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
  // Node's own warnings (pg warns about sslmode) are not ours to count.
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^\(node:\d+\) |^\(Use `node /.test(l));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^aegis-stream: /);
  expect(lines[0]).toMatch(re);
  expect(r.stderr).not.toMatch(/unexpected error|^\s+at /m);
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
}

/**
 * A stand-in PostgreSQL server that answers every connection as a real one refusing it would: to an
 * SSLRequest with "N" (no SSL), to a startup message with an ErrorResponse carrying `sqlstate`.
 */
async function refusingPostgres(sqlstate: string, message: string): Promise<number> {
  const server = createServer((socket: Socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (chunk.length === 8 && chunk.readInt32BE(4) === 80877103) {
        socket.write('N');
        return;
      }
      const fields = Buffer.concat(
        [
          ['S', 'FATAL'],
          ['V', 'FATAL'],
          ['C', sqlstate],
          ['M', message],
        ]
          .map(([k, v]) => Buffer.from(`${k}${v}\0`, 'utf8'))
          .concat(Buffer.from([0])),
      );
      const head = Buffer.alloc(5);
      head.write('E', 0);
      head.writeInt32BE(fields.length + 4, 1);
      socket.end(Buffer.concat([head, fields]));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

describe('aegis-stream start and commands that cannot start', () => {
  it(
    'a first start whose port is taken shows the API key it created, then one line naming PORT; the key works on the next start',
    async () => {
      const dataDir = tempDir();
      const busy = createHttpServer();
      servers.push(busy);
      await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
      const port = (busy.address() as AddressInfo).port;

      const failed = await runCli(['start'], { AEGIS_DATA_DIR: dataDir, PORT: String(port) });
      expectOneLine(failed, new RegExp(`^aegis-stream: port ${port} is already in use \\(PORT\\)`));
      const org = /organization\s+(org_[A-Za-z0-9_-]+)/.exec(failed.stdout)?.[1];
      const key = /API key:\s+(\S+)/.exec(failed.stdout)?.[1];
      expect(key, failed.stdout).toBeDefined();
      expect(org, failed.stdout).toBeDefined();

      const next = startCli(['start'], { AEGIS_DATA_DIR: dataDir, PORT: '0', AEGIS_WORKER_INTERVAL_MS: '60000' });
      const out = await next.waitFor(/sign-in link/);
      expect(out).not.toMatch(/API key:/); // shown once, by the start that created it
      const listening = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      const res = await fetch(`http://127.0.0.1:${listening}/api/orgs/${org}/forwarding-destinations`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status, `${failed.stdout}\n${out}\n${org} ${key}`).toBe(200);
      expect(await next.stop()).toBe(0);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    '--role api and --role worker on the embedded database start (every role serves its health endpoints) and say that nothing will be delivered',
    async () => {
      await mapLimit(['api', 'worker'], 2, async (role) => {
        const s = startCli(['start', '--role', role], { AEGIS_DATA_DIR: join(tempDir(), 'data'), PORT: '0' });
        const out = await s.waitFor(
          new RegExp(`"level":40.*--role ${role} without DATABASE_URL: the embedded database opens in one process only.*Set DATABASE_URL`),
        );
        expect(out, role).toMatch(
          role === 'api' ? /no worker can deliver the events this process records/ : /no api process can record events for this worker/,
        );
        // Started: a stop asked during start-up interrupts it (exit 143, not 0), and "Server listening
        // at" comes before the worker and the replay runner start.
        await s.waitFor(/"role":"\w+".*"msg":"service started"/);
        expect(await s.stop(), role).toBe(0);
      });
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'a database that cannot be reached or refuses the login: one line with its host and port, never the password',
    async () => {
      const closed = await freePort();
      const badPassword = await refusingPostgres('28P01', 'password authentication failed for user "aegis"');
      const noDatabase = await refusingPostgres('3D000', 'database "aegis_missing" does not exist');
      const noHba = await refusingPostgres('28000', 'no pg_hba.conf entry for host "127.0.0.1", user "aegis", database "aegis", no encryption');
      const url = (port: number, query = '') => `postgres://aegis:${PASSWORD}@127.0.0.1:${port}/aegis${query}`;
      const cases: Array<{ args: string[]; url: string; re: RegExp }> = [
        { args: ['start'], url: url(closed), re: new RegExp(`cannot reach PostgreSQL at 127\\.0\\.0\\.1:${closed} \\(DATABASE_URL\\): connection refused$`) },
        { args: ['migrate'], url: url(closed), re: /cannot reach PostgreSQL at .*connection refused$/ },
        {
          args: ['start'],
          url: url(badPassword),
          re: /PostgreSQL at 127\.0\.0\.1:\d+ \(DATABASE_URL\) refused the connection: password authentication failed/,
        },
        { args: ['orgs', 'create', '--name', 'x'], url: url(noDatabase), re: /database "aegis_missing" does not exist \(SQLSTATE 3D000\)/ },
        { args: ['start'], url: url(noHba), re: /no pg_hba\.conf entry .*\(SQLSTATE 28000\)/ },
        { args: ['start'], url: url(noHba, '?sslmode=verify-full'), re: /does not support SSL connections/ },
        {
          args: ['start'],
          url: `postgres://aegis:${PASSWORD}@aegis-no-such-host.invalid:5432/aegis`,
          re: /PostgreSQL at aegis-no-such-host\.invalid:5432 .*(no such host|resolved)/,
        },
      ];
      const results = await mapLimit(cases, 2, (c) =>
        runCli(c.args, { DATABASE_URL: c.url, AEGIS_ENCRYPTION_KEY: generateKeyBase64(), AEGIS_DATA_DIR: tempDir(), PORT: '0' }),
      );
      results.forEach((r, i) => expectOneLine(r, cases[i]!.re));
    },
    CLI_TEST_TIMEOUT_MS,
  );

  // A contract review: Node 20's recursive mkdir loops for ever where the file system refuses a child
  // of an existing directory (/proc), at a full core and deaf to SIGTERM; the start never ended.
  it.runIf(process.platform === 'linux')(
    'a data directory the file system cannot create (under /proc): one line, at once',
    async () => {
      const r = await runCli(['start'], { AEGIS_DATA_DIR: '/proc/aegis-no-such-dir/data', PORT: '0' }, 60_000);
      expectOneLine(r, /cannot use the data directory \/proc\/aegis-no-such-dir\/data \(AEGIS_DATA_DIR\): /);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'an embedded data directory whose files are damaged or incomplete (a copy of a running one): one line naming it and what to do',
    async () => {
      const dataDir = tempDir();
      const made = await runCli(['migrate'], { AEGIS_DATA_DIR: dataDir });
      expect(made.code, made.stderr).toBe(0);
      // What a file-by-file copy taken mid-write can hold: the control file cut short.
      truncateSync(join(dataDir, 'pglite', 'global', 'pg_control'), 100);
      const r = await runCli(['start'], { AEGIS_DATA_DIR: dataDir, PORT: '0' });
      expectOneLine(
        r,
        /cannot open the embedded database in .*pglite \(AEGIS_DATA_DIR\): .*damaged or incomplete.*copy it again with the service stopped, or restore a backup taken so$/,
      );
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'a server that accepts no writes (a standby, or set read-only): one line saying so and what to do, not a stack',
    async () => {
      // The real server, its sessions read-only as a standby's are: the start's migration check writes.
      const u = new URL(TEST_DATABASE_URL);
      u.searchParams.set('options', '-c default_transaction_read_only=on -c search_path=aegis_read_only_start');
      const results = await mapLimit([['start'], ['migrate']], 2, (args) =>
        runCli(args, { DATABASE_URL: u.toString(), AEGIS_ENCRYPTION_KEY: generateKeyBase64(), AEGIS_DATA_DIR: tempDir(), PORT: '0' }),
      );
      for (const r of results)
        expectOneLine(r, /PostgreSQL at \S+ \(DATABASE_URL\) accepts no writes: .*\(SQLSTATE 25006\).*point DATABASE_URL at the primary/);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'a database on a unix socket that is not there (host in the URL or in ?host=): one line naming the socket directory and port, never the password',
    async () => {
      const dir = tempDir(); // no socket in it: connecting gives ENOENT
      const esc = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const cases: Array<{ args: string[]; url: string; port: number }> = [
        { args: ['start'], url: `postgres:///aegis?host=${dir}`, port: 5432 },
        { args: ['migrate'], url: `postgresql://postgres@${encodeURIComponent(dir)}/aegis`, port: 5432 },
        { args: ['start'], url: `postgres://aegis:${PASSWORD}@/aegis?host=${dir}&port=6001`, port: 6001 },
      ];
      const results = await mapLimit(cases, 2, (c) =>
        runCli(c.args, { DATABASE_URL: c.url, AEGIS_ENCRYPTION_KEY: generateKeyBase64(), AEGIS_DATA_DIR: tempDir(), PORT: '0' }),
      );
      results.forEach((r, i) =>
        expectOneLine(r, new RegExp(`cannot reach PostgreSQL at unix socket ${esc}/\\.s\\.PGSQL\\.${cases[i]!.port} \\(DATABASE_URL\\): no such socket`)),
      );
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'a data directory that cannot be created: one line naming AEGIS_DATA_DIR',
    async () => {
      const file = join(tempDir(), 'not-a-dir');
      writeFileSync(file, 'x');
      const r = await runCli(['start'], { AEGIS_DATA_DIR: join(file, 'data'), PORT: '0' });
      expectOneLine(r, /^aegis-stream: cannot use the data directory .*\(AEGIS_DATA_DIR\)/);
    },
    CLI_TEST_TIMEOUT_MS,
  );
});
