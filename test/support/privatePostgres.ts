// A private PostgreSQL server for tests that stop and start the database itself: `initdb` into a
// temporary directory, its own port and socket directory, `pg_ctl` stop and start. Restarting it
// disturbs nothing else on the machine (the shared server on 5432 keeps serving the other suites).
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** Stops the server (fast shutdown: open sessions are terminated, as in a maintenance restart). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it, removes its directory. */
  destroy(): Promise<void>;
}

/** The server binaries: Debian keeps them under /usr/lib/postgresql/<version>/bin, off the PATH. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  return ''; // rely on PATH
}

/**
 * A port below the kernel's ephemeral range, free now. The server is stopped and started again on the
 * same port: one from the ephemeral range (as listen(0) gives) could be handed, while it is down, to
 * any other test's outgoing connection or listen(0), and the restart would then fail. Below the range
 * only an explicit bind can take it.
 */
async function freePort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: the common default
  }
  const from = Math.min(20_000, low - 1000);
  // A range that starts low (1024) leaves nothing below it but ports only root may take.
  if (from < 1024) return anyFreePort();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = from + randomInt(low - from);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port between ${from} and ${low}`);
}

/** A port free now, from the kernel's ephemeral range. */
function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** initdb and pg_ctl refuse to run as root: run them as the `postgres` system user then. */
/** Runs one of the server's programs (initdb, pg_ctl, pg_dump, psql), as the postgres user when we are root. */
export async function pgTool(tool: string, args: string[]): Promise<string> {
  const dir = binDir();
  const bin = dir ? join(dir, tool) : tool;
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const { stdout } = await run(cmd, argv, { timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/** A new temporary directory the server's programs can write (they run as postgres when we are root). */
export async function postgresOwnedDir(prefix: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  return dir;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await postgresOwnedDir('aegis-pg-');
  const data = join(dir, 'data');
  await pgTool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = [`-p ${port}`, `-k ${dir}`, "-c listen_addresses='127.0.0.1'", '-c fsync=off', '-c max_connections=100'].join(' ');
  const start = async () => {
    await pgTool('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '120', 'start']);
  };
  const stop = async () => {
    await pgTool('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '120', 'stop']);
  };
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await start();
      running = true;
    },
    async stop() {
      await stop();
      running = false;
    },
    async destroy() {
      if (running) await stop().catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
