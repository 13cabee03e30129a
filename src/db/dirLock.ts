/**
 * The embedded database's directory lock: PGlite does not lock its directory itself, and two processes
 * writing one data directory lose what either wrote (each keeps its own copy in memory). This lock
 * makes a second opener fail plainly.
 *
 * A process id means something only inside its PID namespace. Two containers sharing one volume both
 * run the service as process 1: the old lock (a bare pid) read the other container's "1" as its own
 * stale lock, removed it, and both served the directory; of six events accepted, three were gone
 * after a restart. And a lock left by a killed process 1 blocked every later command that was not
 * process 1. So the lock records its holder's PID namespace (with the machine's boot id), and:
 * - in the same namespace, the holder's pid says whether it still runs, as before;
 * - otherwise the holder proves it runs by touching the lock every second, from a thread of its own so
 *   that a long synchronous PGlite statement on the main thread never stops it. A lock that does not
 *   change for ten seconds is stale (its holder was killed); one that changes is in use. Change,
 *   not age, is what is read, so clocks that differ between the machines of a network volume do not
 *   matter. After a container is killed and restarted, its next start waits up to ten seconds once (LOCK_TIMING).
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, readlinkSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

export const LOCK_FILE = 'pglite.lock';
/** How often the holder touches its lock, and how long an untouched one is watched before it is stale. */
export const LOCK_TIMING = { heartbeatMs: 1_000, staleMs: 10_000 } as const;
const POLL_MS = 100;

export class DatabaseBusyError extends Error {
  constructor(
    readonly pid: number,
    elsewhere = false,
  ) {
    super(
      `The embedded database in this data directory is in use by process ${pid}${elsewhere ? ' in another container or PID namespace' : ''} ` +
        '(is the service running?). PGlite lets one process open it at a time: stop the service and run the command again, ' +
        'or point every process at a PostgreSQL server with DATABASE_URL.',
    );
    this.name = 'DatabaseBusyError';
  }
}

interface LockRecord {
  pid: number;
  /** The holder's PID namespace and boot id; null when they could not be read (or an older lock). */
  ns: string | null;
  token: string;
  /**
   * The locked directory's device and inode; null in an older lock. A lock file copied with the
   * directory (a file-level backup of a running service) names the original's holder: in the same
   * namespace that process runs, but it holds the original, not the copy, so the copy's lock is stale
   * (a disaster-recovery review: verifying a backup on the production host said to stop production).
   */
  dir?: string | null;
}

/** The directory's identity on this machine: device and inode (a copy has its own). */
function dirIdentity(dir: string): string | null {
  try {
    const st = statSync(dir);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** This process's PID namespace on this boot of this machine, or null off Linux. */
export function pidNamespace(): string | null {
  try {
    return `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An older version's lock: its pid alone. */
function isBarePid(text: string): boolean {
  return /^\d+$/.test(text);
}

/** The lock's holder as written (an older version wrote its pid alone), or null when it is gone. */
function readLock(file: string): { record: LockRecord; text: string; mtimeMs: number } | null {
  try {
    const text = readFileSync(file, 'utf8');
    const { mtimeMs } = statSync(file);
    if (isBarePid(text)) return { record: { pid: Number(text), ns: null, token: text }, text, mtimeMs };
    const parsed = JSON.parse(text) as Partial<LockRecord>;
    const record = {
      pid: Number(parsed.pid) || 0,
      ns: typeof parsed.ns === 'string' ? parsed.ns : null,
      token: String(parsed.token),
      dir: typeof parsed.dir === 'string' ? parsed.dir : null,
    };
    return { record, text, mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Half written (its writer is between open and write) or garbage: judged by whether it changes.
    return { record: { pid: 0, ns: null, token: '' }, text: '', mtimeMs: 0 };
  }
}

/** Removes the lock only if it is still the one judged stale: another opener may have taken it since. */
function removeIfUnchanged(file: string, text: string): void {
  try {
    if (readFileSync(file, 'utf8') === text) unlinkSync(file);
  } catch {
    // already gone
  }
}

/**
 * Touches the lock every `ms` from its own thread, until terminated, and first checks it is still
 * this holder's: a holder frozen past the stale period (SIGSTOP, a paused container or VM, a stalled
 * network volume) finds, when it runs again, that another process took the directory over. It must
 * then stop writing at once (`onLost`); serving on beside the new holder lost every event it accepted.
 * A heartbeat thread that dies is told the same way: without it, the directory would soon look free.
 */
function heartbeat(file: string, text: string, ms: number, onLost: (why: string) => void): { stop: () => void } {
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const { readFileSync, utimesSync } = require('node:fs');
     const timer = setInterval(() => {
       let now = null;
       try { now = readFileSync(workerData.file, 'utf8'); } catch (err) { if (err.code === 'ENOENT') now = ''; }
       if (now !== null && now !== workerData.text) { clearInterval(timer); parentPort.postMessage('taken'); return; }
       try { const t = new Date(); utimesSync(workerData.file, t, t); } catch {}
     }, workerData.ms);`,
    { eval: true, workerData: { file, text, ms }, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 } },
  );
  worker.unref();
  let stopped = false;
  const lost = (why: string) => {
    if (stopped) return;
    stopped = true;
    void worker.terminate();
    onLost(why);
  };
  worker.on('message', () => lost("another process took the data directory over (its lock was not this process's any more)"));
  worker.on('error', (err) => lost(`the lock's heartbeat thread failed: ${err.message}`));
  worker.on('exit', () => lost("the lock's heartbeat thread stopped"));
  return {
    stop: () => {
      stopped = true;
      void worker.terminate();
    },
  };
}

/** What a holder that lost its lock does by default: stop at once, before it writes again. */
function exitOnLost(why: string): void {
  console.error(`aegis-stream: ${why}; stopping at once so that one process alone writes the embedded database`);
  process.exit(1);
}

/**
 * Whose lock is watched: `older-version`, a bare pid written by a release before the lock recorded its
 * namespace (2026-12-03, 045755c) whose process does not run here, so either it is gone or it runs in
 * another container; `elsewhere`, a lock that names another PID namespace (or none, or cannot be read).
 */
export type WatchedLock = 'older-version' | 'elsewhere' | 'other-directory';

export interface LockOptions {
  /** Told when the lock of a process whose liveness cannot be checked from here is watched. */
  onWait?: (pid: number, waitMs: number, holder: WatchedLock) => void;
  /** Told when the lock held is lost (taken over, or its heartbeat stopped); by default the process exits. */
  onLost?: (why: string) => void;
  timing?: { heartbeatMs: number; staleMs: number };
  /**
   * Ends the watch of another namespace's lock early, rejecting with the signal's AbortError: a start
   * stopped by Ctrl-C leaves at once, and leaves that lock as it found it (it was never judged stale).
   */
  signal?: AbortSignal | undefined;
}

/**
 * Waits until a lock held from another namespace changes (in use: throws) or stays unchanged for
 * `staleMs` (stale: returns). Also returns when the lock is gone or replaced.
 */
async function waitForStale(
  file: string,
  seen: { text: string; mtimeMs: number; record: LockRecord },
  staleMs: number,
  opts: LockOptions,
  kind: WatchedLock = isBarePid(seen.text) ? 'older-version' : 'elsewhere',
): Promise<void> {
  opts.onWait?.(seen.record.pid, staleMs, kind);
  for (let waited = 0; waited < staleMs; waited += POLL_MS) {
    await sleep(POLL_MS, undefined, opts.signal ? { signal: opts.signal } : undefined);
    const now = readLock(file);
    if (now === null || now.text !== seen.text) return;
    if (now.mtimeMs !== seen.mtimeMs) throw new DatabaseBusyError(seen.record.pid, true);
  }
}

/** Takes the data directory's lock; resolves with its release. */
export async function acquireDirLock(dir: string, opts: LockOptions = {}): Promise<() => void> {
  const { heartbeatMs, staleMs } = opts.timing ?? LOCK_TIMING;
  const file = join(dir, LOCK_FILE);
  const ns = pidNamespace();
  const dirId = dirIdentity(dir);
  for (let i = 0; i < 3; i++) {
    const record: LockRecord = { pid: process.pid, ns, token: randomUUID(), dir: dirId };
    const text = JSON.stringify(record);
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, text);
      closeSync(fd);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = readLock(file);
      if (held === null) continue;
      const { pid, ns: holderNs } = held.record;
      // A lock that names another directory (device and inode): copied with the directory from a
      // running service, or the same directory seen through another mount (a FUSE or NFS volume
      // mounted twice shows it under another device). Its pid cannot tell which: judged as a lock
      // from elsewhere is, by whether its holder still touches it (a copy's never changes).
      const elsewhereDir = held.record.dir != null && dirId !== null && held.record.dir !== dirId;
      if (holderNs !== null && holderNs === ns && !elsewhereDir) {
        // Same namespace: the pid is exact. Our own pid is a process that had it before us and died.
        if (pid !== process.pid && alive(pid)) throw new DatabaseBusyError(pid);
      } else {
        // An older version's lock in this namespace can still be read by its pid.
        if (holderNs === null && isBarePid(held.text) && pid !== process.pid && alive(pid)) throw new DatabaseBusyError(pid);
        await waitForStale(file, held, staleMs, opts, elsewhereDir ? 'other-directory' : undefined);
      }
      removeIfUnchanged(file, held.text);
      continue;
    }
    const beat = heartbeat(file, text, heartbeatMs, opts.onLost ?? exitOnLost);
    return () => {
      beat.stop();
      removeIfUnchanged(file, text);
    };
  }
  throw new Error(`could not lock ${file}`);
}
