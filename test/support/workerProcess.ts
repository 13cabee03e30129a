// Real worker processes for fault tests: `aegis-stream start --role worker` (support/cliEntry.ts)
// against a test schema on the real PostgreSQL server, killable with any signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { schemaUrl } from './db.js';
import { cliEntry } from './cliEntry.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TEST_CA_PATH = `${REPO_ROOT}test/fixtures/tls/ca.pem`;

export interface WorkerProcess {
  proc: ChildProcess;
  pid: number;
  /** Every stdout/stderr line so far (pino JSON lines). */
  lines: string[];
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when a log line matches (e.g. the worker started). */
  waitForLine(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with the process's HTTP address (/healthz, /metrics) once it listens. */
  ready(timeoutMs?: number): Promise<string>;
}

export interface WorkerProcessOptions {
  /** A test schema on the shared server, or `databaseUrl` for another server (e.g. a private one). */
  schema?: string;
  databaseUrl?: string;
  /** Default `worker`; `api` and `all` serve the REST API too. */
  role?: 'api' | 'worker' | 'all';
  encryptionKey: string;
  /** Tag for the database connections (application_name) so a test can cut only its own. */
  applicationName?: string;
  env?: Record<string, string>;
}

/** DATABASE_URL for a test schema, optionally tagged with an application_name. */
export function workerDatabaseUrl(schema: string, applicationName?: string): string {
  const u = new URL(schemaUrl(schema));
  if (applicationName) u.searchParams.set('application_name', applicationName);
  return u.toString();
}

export function spawnWorker(opts: WorkerProcessOptions): WorkerProcess {
  const databaseUrl = opts.databaseUrl ?? workerDatabaseUrl(opts.schema ?? 'public', opts.applicationName);
  const proc = spawn(process.execPath, [...cliEntry(), 'start', '--role', opts.role ?? 'worker'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: databaseUrl,
      AEGIS_ENCRYPTION_KEY: opts.encryptionKey,
      PORT: '0',
      AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1',
      NODE_EXTRA_CA_CERTS: TEST_CA_PATH,
      AEGIS_LEASE_S: '5',
      AEGIS_LOG_LEVEL: 'info',
      AEGIS_RETRY_DELAYS_S: '1,1,1',
      AEGIS_HTTP_TIMEOUT_MS: '3000',
      AEGIS_WORKER_INTERVAL_MS: '1000',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const onData = (buf: Buffer) => {
    for (const l of buf.toString('utf8').split('\n')) if (l.trim()) lines.push(l);
    for (const w of waiters) w();
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    proc,
    pid: proc.pid!,
    lines,
    exited,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    // A ceiling, not an expectation: a process starting beside others on a loaded 2-core machine can
    // take tens of seconds to load its modules.
    // The start's last line, not "Server listening at": the worker (its LISTEN among it) starts after that.
    async ready(timeoutMs = 120_000) {
      const line = await this.waitForLine((l) => l.includes('"msg":"service started"'), timeoutMs);
      return /"address":"([^"]+)"/.exec(line)?.[1] ?? '';
    },
    waitForLine(pred, timeoutMs = 30_000) {
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          const hit = lines.find(pred);
          if (hit !== undefined) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`worker ${proc.pid}: no matching log line within ${timeoutMs} ms; last lines:\n${lines.slice(-20).join('\n')}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => {
          if (waiters.has(check)) {
            check();
            if (waiters.has(check)) {
              clearTimeout(timer);
              waiters.delete(check);
              reject(new Error(`worker ${proc.pid} exited before the expected log line; last lines:\n${lines.slice(-20).join('\n')}`));
            }
          }
        });
        check();
      });
    },
  };
}

/** Kills every still-running worker (test teardown). */
export async function stopWorkers(workers: WorkerProcess[]): Promise<void> {
  for (const w of workers) w.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
}
