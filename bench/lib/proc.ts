// /proc readers: process CPU time (utime + stime) and memory (VmRSS, VmHWM), and the PIDs of the
// local PostgreSQL server's processes (postmaster, backends, background workers).
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux x86_64

/** CPU seconds (user + system) used so far by a process, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / CLK_TCK;
  } catch {
    return null;
  }
}

/**
 * Seconds a process's threads spent runnable but waiting for a CPU (run-queue delay, from
 * /proc/<pid>/task/<tid>/schedstat), or 0 when unavailable. High values mean the process was
 * starved by other processes on the machine, not slow itself.
 */
export function runQueueSeconds(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1] ?? 0);
      } catch {
        // thread exited
      }
    }
  } catch {
    return 0;
  }
  return ns / 1e9;
}

/**
 * Voluntary context switches of all a process's threads so far (each is a sleep that ended in a
 * wake-up), or null when it is gone. On the virtual machines the bench runs on, a wake-up costs a
 * few hundred µs of CPU whatever follows it (docs/BENCHMARKS.md, seventeenth session), so wake-ups
 * per event explain a paced scenario's CPU per event across machines better than the CPU itself.
 */
export function wakeups(pid: number): number | null {
  let n = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? 0);
      } catch {
        // thread exited
      }
    }
  } catch {
    return null;
  }
  return n;
}

/**
 * Read and write system calls of a process so far (/proc/<pid>/io syscr + syscw: read, write and
 * their vector forms, the calls a socket costs), or null when unreadable (another user's process
 * without the rights, or gone).
 */
export function ioSyscalls(pid: number): number | null {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/^syscr:\s+(\d+)/m.exec(io)?.[1] ?? NaN) + Number(/^syscw:\s+(\d+)/m.exec(io)?.[1] ?? NaN);
  } catch {
    return null;
  }
}

/** The machine's CPU pressure (PSI): share of time at least one task waited for a CPU, last 10 s. */
export function cpuPressure(): number | null {
  try {
    return Number(/some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? NaN);
  } catch {
    return null;
  }
}

/** VmRSS, VmHWM (peak RSS) and RssAnon of a process in MiB, or null when it is gone. */
export function memoryMiB(pid: number): { rss: number; hwm: number; anon: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    // RssAnon: the process's own memory; VmRSS adds file pages (the node binary, ~45 MB, shared).
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024 };
  } catch {
    return null;
  }
}

/** Every process whose command name is `postgres` (the server and all its backends). */
export function postgresPids(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(d));
    } catch {
      // raced with an exit
    }
  }
  return pids;
}

/**
 * Measures CPU time used by a set of processes over a window. Postgres backends are enumerated at
 * both ends, so a backend that starts during the window counts from zero; one that exits during the
 * window loses its share (the bench keeps its pools open across a window, so this is rare).
 */
export class CpuMeter {
  private readonly start = new Map<string, Map<number, number>>();
  private readonly startWait = new Map<string, Map<number, number>>();
  private readonly startCounts = new Map<string, Map<number, { wakeups: number | null; syscalls: number | null }>>();
  private t0 = 0;
  /** Length of the last measured window (begin() to end()), in seconds. */
  windowSeconds = 0;
  /**
   * Wake-ups and read/write system calls per group over the last window (null where a process's
   * figures could not be read at both ends: a group's count then leaves that process out).
   */
  counts: Record<string, { wakeups: number; syscalls: number | null }> = {};

  constructor(private readonly groups: () => Promise<Record<string, number[]>>) {}

  async begin(): Promise<void> {
    const groups = await this.groups();
    this.t0 = performance.now();
    this.start.clear();
    this.startWait.clear();
    this.startCounts.clear();
    for (const [name, pids] of Object.entries(groups)) {
      const m = new Map<number, number>();
      const w = new Map<number, number>();
      const c = new Map<number, { wakeups: number | null; syscalls: number | null }>();
      for (const pid of pids) {
        m.set(pid, cpuSeconds(pid) ?? 0);
        w.set(pid, runQueueSeconds(pid));
        c.set(pid, { wakeups: wakeups(pid), syscalls: ioSyscalls(pid) });
      }
      this.start.set(name, m);
      this.startWait.set(name, w);
      this.startCounts.set(name, c);
    }
  }

  /** Cores used per group over the window (CPU seconds / wall seconds). */
  async end(): Promise<Record<string, number>> {
    const wall = (performance.now() - this.t0) / 1000;
    this.windowSeconds = wall;
    const out: Record<string, number> = {};
    for (const [name, pids] of Object.entries(await this.groups())) {
      const before = this.start.get(name) ?? new Map<number, number>();
      let used = 0;
      for (const pid of pids) {
        const now = cpuSeconds(pid);
        if (now === null) continue;
        used += now - (before.get(pid) ?? 0);
      }
      out[name] = wall > 0 ? used / wall : 0;
      // Run-queue wait, in the same unit: how many more cores the group wanted and did not get.
      const beforeWait = this.startWait.get(name) ?? new Map<number, number>();
      let waited = 0;
      for (const pid of pids) waited += runQueueSeconds(pid) - (beforeWait.get(pid) ?? 0);
      out[`${name}~wait`] = wall > 0 ? Math.max(0, waited) / wall : 0;
      // A process that started in the window (a new backend) counts from zero, as its CPU does.
      const beforeCounts = this.startCounts.get(name) ?? new Map<number, { wakeups: number | null; syscalls: number | null }>();
      let woke = 0;
      let calls: number | null = 0;
      for (const pid of pids) {
        const was = beforeCounts.get(pid) ?? { wakeups: 0, syscalls: 0 };
        const w = wakeups(pid);
        if (w !== null && was.wakeups !== null) woke += w - was.wakeups;
        const c = ioSyscalls(pid);
        if (c === null || was.syscalls === null) calls = null;
        else if (calls !== null) calls += c - was.syscalls;
      }
      this.counts[name] = { wakeups: woke, syscalls: calls };
    }
    return out;
  }
}

/**
 * CPU microseconds per event for each group over a window (cores x window seconds / events), and
 * `total`: the service's own processes (every group but the load generator and the receiver, whose
 * cost is the SIEM's, not ours). Unlike a rate, this hardly depends on how much of a shared machine
 * the run was given, so it compares across machines and runs.
 */
export function cpuPerEvent(cores: Record<string, number>, windowSeconds: number, events: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (events <= 0 || windowSeconds <= 0) return out;
  let total = 0;
  for (const [k, v] of Object.entries(cores)) {
    if (k.endsWith('~wait') || k === 'bench') continue;
    const us = (v * windowSeconds * 1e6) / events;
    out[k] = Math.round(us * 10) / 10;
    if (k !== 'receiver') total += us;
  }
  out.total = Math.round(total * 10) / 10;
  return out;
}

/**
 * Wake-ups and read/write system calls per event for each group over a window (CpuMeter.counts), the
 * load generator's left out as in cpuPerEvent. A count is machine-independent where CPU per event is
 * not, so runs on different machines compare by it.
 */
export function countsPerEvent(counts: CpuMeter['counts'], events: number): Record<string, { wakeups: number; syscalls: number | null }> {
  const out: Record<string, { wakeups: number; syscalls: number | null }> = {};
  if (events <= 0) return out;
  const per = (n: number) => Math.round((n / events) * 100) / 100;
  for (const [k, v] of Object.entries(counts)) {
    if (k === 'bench') continue;
    out[k] = { wakeups: per(v.wakeups), syscalls: v.syscalls === null ? null : per(v.syscalls) };
  }
  return out;
}

export function machine(): { nproc: number; memGiB: number; cpu: string; kernel: string } {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const cpu = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const nproc = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  return { nproc, memGiB: Math.round((memKb / 1024 / 1024) * 10) / 10, cpu, kernel };
}
