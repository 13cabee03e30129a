// Runs the real CLI (the built dist/cli/main.js, or src/ through tsx: support/cliEntry.ts) as a child
// process, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { cliEntry } from '../../support/cliEntry.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child: ours without anything that configures the service, plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AEGIS_') || k === 'DATABASE_URL' || k === 'PORT' || k === 'HOST' || k.startsWith('VITEST') || k === 'NODE_OPTIONS') continue;
    base[k] = v;
  }
  return { ...base, FORCE_COLOR: '0', ...env };
}

const live = new Set<ChildProcess>();

export function spawnCli(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [...cliEntry(), ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

/** Runs a command to completion (killed after `timeoutMs`). */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the stdout so far once it matches `re`; rejects if the process exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then wait for the exit (SIGKILL after 60 s). */
  stop(): Promise<number | null>;
}

export function startCli(args: string[], env: Record<string, string>): Running {
  const child = spawnCli(args, env);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  let exited = false;
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  child.on('exit', () => {
    exited = true;
    for (const w of waiters) w();
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(re, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (re.test(out)) {
            done();
            resolve(out);
          } else if (exited) {
            done();
            reject(new Error(`process exited (code ${child.exitCode}) before printing ${re}\nstdout: ${out}\nstderr: ${err}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${re}\nstdout: ${out}\nstderr: ${err}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve(child.exitCode);
          return;
        }
        // A ceiling: a stop takes well under a second, but a loaded machine's may take several, and
        // a SIGKILL then would turn its exit code (which tests check) into none.
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
        child.kill('SIGTERM');
      });
    },
  };
}

/** Kills every child still running (afterAll). */
export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

/** A free TCP port on 127.0.0.1 (released just before use). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Maps with at most `limit` calls in flight (the suite runs on 2 cores; each CLI process is a full Node start). */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** Per-test time limit for tests that spawn CLI processes (slow on a loaded 2-core machine). */
export const CLI_TEST_TIMEOUT_MS = 240_000;

/** Resolves with the exit of a process that is still running. */
export function exitOf(proc: Running): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) resolve({ code: proc.child.exitCode, signal: proc.child.signalCode });
    else proc.child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Whether anything accepts a TCP connection on 127.0.0.1:`port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
