// Regression (a contract review): `npm start` is how the brief and the README run the service, and a
// supervisor (systemd, supervisord, pm2, `docker stop` with `CMD npm start`) signals that one pid. npm
// passes SIGTERM to its script's shell, and the shell ran node as its child without passing it on:
// the service kept running as an orphan, holding the port and the data directory's lock, and the
// container was SIGKILLed instead of stopping cleanly. The script now execs node in the shell's place.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_TEST_TIMEOUT_MS, childEnv, REPO_ROOT } from './spawn.js';
import { POLL } from '../../support/waitFor.js';

const dirs: string[] = [];
/** npm's process group (it is started detached, so it leads one): what it started is in it too. */
const groups: number[] = [];

afterAll(() => {
  for (const group of groups) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The test reads a process's children from /proc (Linux with CONFIG_PROC_CHILDREN), and runs the build. */
const runnable = existsSync(`/proc/self/task/${process.pid}/children`) && existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'));

/** The pids of a process's children (Linux: /proc/<pid>/task/<tid>/children). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether a process is alive (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('npm start under a supervisor', () => {
  it.runIf(runnable)(
    'SIGTERM to npm alone stops the service cleanly: no orphan keeps running',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'aegis-npm-start-'));
      dirs.push(dataDir);
      // detached: its own process group, so that the signal reaches npm alone, as a supervisor sends it.
      const npm = spawn('npm', ['start', '--silent'], {
        cwd: REPO_ROOT,
        env: childEnv({ AEGIS_DATA_DIR: dataDir, PORT: '0' }),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let failed: Error | null = null;
      npm.on('error', (err) => (failed = err)); // npm not on PATH: said, not an uncaught error
      groups.push(npm.pid!);
      let out = '';
      npm.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      npm.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
      // Until it has started, or npm has ended (then the output says why).
      const startedOrEnded = () => (failed ? `npm failed: ${String(failed)}` : npm.exitCode !== null ? `npm exited ${npm.exitCode}: ${out}` : out);
      await expect.poll(startedOrEnded, { ...POLL, timeout: 120_000 }).toContain('"service started"');
      // Every process below npm, whatever the script's shape (a shell and its node, or node alone).
      const below: number[] = [];
      for (let next = childrenOf(npm.pid!); next.length > 0; next = next.flatMap(childrenOf)) below.push(...next);
      expect(below.length).toBeGreaterThan(0);

      process.kill(npm.pid!, 'SIGTERM');
      await expect.poll(() => out, { ...POLL, timeout: 60_000 }).toContain('stopped cleanly');
      await expect.poll(() => below.filter(alive), { ...POLL, timeout: 60_000 }).toEqual([]);
    },
    // The sum of the ceilings above, and some: a slow start is told by its own poll, not by the test's limit.
    CLI_TEST_TIMEOUT_MS + 60_000,
  );
});
