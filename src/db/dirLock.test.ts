import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDirLock, DatabaseBusyError, LOCK_FILE, pidNamespace, type WatchedLock } from './dirLock.js';

// Short timings: the rules, not the production periods (LOCK_TIMING), are under test.
const timing = { heartbeatMs: 50, staleMs: 1_500 };
const dirs: string[] = [];
const timers: NodeJS.Timeout[] = [];
// A lost lock exits the process by default: here it is recorded (and must not happen unless provoked).
const lost: string[] = [];
const onLost = (why: string) => lost.push(why);
afterEach(() => {
  expect(lost.splice(0)).toEqual([]);
  for (const t of timers.splice(0)) clearInterval(t);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function lockDir(holder?: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-lock-'));
  dirs.push(dir);
  const file = join(dir, LOCK_FILE);
  if (holder !== undefined) writeFileSync(file, holder);
  return { dir, file };
}

/** Touches the lock as a running holder's thread does. */
function keepTouching(file: string): void {
  timers.push(
    setInterval(() => {
      const t = new Date();
      utimesSync(file, t, t);
    }, timing.heartbeatMs),
  );
}

/** A process id that ran and is gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

/** A process that runs until killed. */
function livePid(): { pid: number; stop: () => void } {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

const otherContainer = (pid: number) => JSON.stringify({ pid, ns: 'another-boot/pid:[4026532999]', token: 'theirs' });

describe('the embedded database directory lock', () => {
  it("stops watching another container's lock at its signal, leaving that lock as it was", async () => {
    const holder = otherContainer(1);
    const { dir, file } = lockDir(holder);
    const stop = new AbortController();
    // Aborted as soon as the watch starts: the stale period (1.5 s) is not waited out.
    const err = await acquireDirLock(dir, { timing, signal: stop.signal, onWait: () => stop.abort() }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(readFileSync(file, 'utf8')).toBe(holder);
  });

  it("refuses a lock held by another container's process 1 while its holder touches it, though the pid is ours", async () => {
    // Both containers run the service as the same pid: the old lock took the other's for its own stale one.
    const { dir, file } = lockDir(otherContainer(process.pid));
    keepTouching(file);
    const waits: [number, WatchedLock][] = [];
    const err = await acquireDirLock(dir, { timing, onWait: (pid, _ms, holder) => waits.push([pid, holder]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseBusyError);
    expect((err as Error).message).toMatch(/in use by process \d+ in another container or PID namespace.*DATABASE_URL/);
    expect(waits).toEqual([[process.pid, 'elsewhere']]);
    expect(readFileSync(file, 'utf8')).toBe(otherContainer(process.pid));
  });

  it("takes another container's lock once it has not changed for the stale period (its holder was killed)", async () => {
    const { dir, file } = lockDir(otherContainer(1));
    const release = await acquireDirLock(dir, { timing, onLost });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, ns: pidNamespace() });
    release();
    expect(existsSync(file)).toBe(false);
  });

  it('in its own namespace, reads the pid: a live process holds it, a dead one (or a pid now ours) held it', async () => {
    const ns = pidNamespace();
    expect(ns).toMatch(/^[0-9a-f-]{36}\/pid:\[\d+\]$/);
    const live = livePid();
    try {
      const { dir } = lockDir(JSON.stringify({ pid: live.pid, ns, token: 't' }));
      const err = await acquireDirLock(dir, { timing, onLost }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseBusyError);
      expect((err as Error).message).not.toMatch(/another container/);
    } finally {
      live.stop();
    }
    for (const pid of [await deadPid(), process.pid]) {
      const { dir, file } = lockDir(JSON.stringify({ pid, ns, token: 't' }));
      const waits: number[] = [];
      const release = await acquireDirLock(dir, { timing, onLost, onWait: (p) => waits.push(p) });
      // At once: no watching of a lock whose holder's liveness is known.
      expect(waits).toEqual([]);
      expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
      release();
    }
  });

  it('a lock that names another directory (a copy, or another mount) is judged by whether its holder touches it', async () => {
    const ns = pidNamespace();
    const live = livePid();
    try {
      // The original's lock, as its live holder wrote it: it holds the original.
      const original = lockDir();
      const originalId = `${statSync(original.dir).dev}:${statSync(original.dir).ino}`;
      const lock = JSON.stringify({ pid: live.pid, ns, token: 't', dir: originalId });
      writeFileSync(original.file, lock);
      const busy = await acquireDirLock(original.dir, { timing, onLost }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(DatabaseBusyError);
      // The copy: the same lock file in another directory, while the original runs. Its pid cannot
      // tell a copy from this directory seen through another mount (another device): watched, and
      // taken once it has not changed for the stale period (a copy's lock never does).
      const copy = lockDir(lock);
      const waits: Array<[number, string]> = [];
      const release = await acquireDirLock(copy.dir, { timing, onLost, onWait: (p, _ms, kind) => waits.push([p, kind]) });
      expect(waits).toEqual([[live.pid, 'other-directory']]);
      expect(JSON.parse(readFileSync(copy.file, 'utf8')).pid).toBe(process.pid);
      release();
      // The same directory through another mount: its holder touches the lock, so it is busy.
      const mounted = lockDir(lock);
      keepTouching(mounted.file);
      expect(await acquireDirLock(mounted.dir, { timing, onLost }).catch((e: unknown) => e)).toBeInstanceOf(DatabaseBusyError);
      // An older lock without the directory's identity is read by its pid, as before.
      const older = lockDir(JSON.stringify({ pid: live.pid, ns, token: 't' }));
      expect(await acquireDirLock(older.dir, { timing, onLost }).catch((e: unknown) => e)).toBeInstanceOf(DatabaseBusyError);
    } finally {
      live.stop();
    }
  });

  it("reads an older version's lock (a bare pid) as before when its process runs, and as stale once it has not changed", async () => {
    const live = livePid();
    try {
      const { dir } = lockDir(String(live.pid));
      await expect(acquireDirLock(dir, { timing, onLost })).rejects.toBeInstanceOf(DatabaseBusyError);
    } finally {
      live.stop();
    }
    const dead = await deadPid();
    const { dir, file } = lockDir(String(dead));
    // Watched as an earlier version's lock, not as another container's: its process may run in one,
    // but the lock cannot say (open.ts words the wait accordingly).
    const waits: [number, WatchedLock][] = [];
    const release = await acquireDirLock(dir, { timing, onLost, onWait: (pid, _ms, holder) => waits.push([pid, holder]) });
    expect(waits).toEqual([[dead, 'older-version']]);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    release();
  });

  it('a holder whose lock was taken over (it was frozen past the stale period) is told at once, and only then', async () => {
    const { dir, file } = lockDir();
    const told: string[] = [];
    const release = await acquireDirLock(dir, { timing, onLost: (why) => told.push(why) });
    await new Promise((r) => setTimeout(r, timing.heartbeatMs * 4));
    expect(told).toEqual([]);
    // Another process judged it stale and wrote its own.
    writeFileSync(file, otherContainer(4242));
    await expect.poll(() => told, { timeout: 30_000, interval: 20 }).toEqual([expect.stringMatching(/another process took the data directory over/)]);
    release();
    // Not its lock: left in place.
    expect(readFileSync(file, 'utf8')).toBe(otherContainer(4242));
    // Released normally, a lock removed afterwards tells nothing.
    const second = lockDir();
    const releaseSecond = await acquireDirLock(second.dir, { timing, onLost: (why) => told.push(why) });
    releaseSecond();
    await new Promise((r) => setTimeout(r, timing.heartbeatMs * 4));
    expect(told).toHaveLength(1);
  });

  it('the holder touches its lock from a thread of its own, while its main thread is blocked', async () => {
    const { dir, file } = lockDir();
    const release = await acquireDirLock(dir, { timing, onLost });
    try {
      const written = statSync(file).mtimeMs;
      await expect.poll(() => statSync(file).mtimeMs, { timeout: 30_000, interval: 20 }).toBeGreaterThan(written);
      const before = statSync(file).mtimeMs;
      // A long synchronous PGlite statement blocks the main thread like this.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_500);
      expect(statSync(file).mtimeMs).toBeGreaterThan(before);
    } finally {
      release();
    }
    // Released: no longer touched, and gone.
    expect(existsSync(file)).toBe(false);
  });
});
