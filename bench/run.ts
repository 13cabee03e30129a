// `npm run bench [-- --quick] [-- --scenario detection,latency,drain,ingest,rss,baseline,scale] [-- --presets splunk_hec,custom]`
// (named only: replay, retention, noisy, fairness, many, idle, api-noisy). Every option, with what it
// does: docs/BENCHMARKS.md, its first block.
//
// Starts the real service (separate `--role api` / `--role worker` processes) against the real
// PostgreSQL server (database aegis_bench, reset between scenarios), a lean HTTPS receiver process
// (bench/lib/receiver.ts) and, for the comparison, a pg-boss + fetch baseline process; measures
// end-to-end latency, backlog drain rates per preset, ingest rates, worker peak RSS, the baseline and
// two-worker scale-out, with the CPU each process used, and (scenario `detection`, no database) the
// detectors' recall and false-positive rate per type on the labelled corpus; prints one table and writes the raw results
// to bench/results/.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import pg from 'pg';
import type { SiemId } from '../src/siem/catalog.js';
import { buildWireEvent, fieldsFromAgentRecord, type AgentDecisionRecord } from '../src/events/contract.js';
import type { Db } from '../src/db/types.js';
import { FilterRouter } from '../src/filters/router.js';
import { checkOptions, leadingComment, numArg } from './lib/args.js';
import { buildService } from './lib/build.js';
import { CpuMeter, countsPerEvent, cpuPerEvent, cpuPressure, machine, memoryMiB } from './lib/proc.js';
import { detectionRows, detectionScenario, type DetectionResult } from './lib/detection.js';
import { apiRefusals, quietClient, startFlood, type QuietResult } from './lib/apiNoisy.js';
import {
  benchClient,
  createBareOrg,
  createBenchDestinations,
  BENCH_APP_NAME,
  BENCH_DB,
  BENCH_URL,
  ENCRYPTION_KEY,
  agentRecord,
  PREFLIGHT_BODY,
  createBenchOrg,
  ensureDatabase,
  openBenchDb,
  resetDatabase,
  type Migrate,
  seedBacklog,
  seedHistory,
} from './lib/setup.js';
import { pruneOnce } from '../src/queue/prune.js';
import { openPg } from '../src/db/pg.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CA = `${ROOT}test/fixtures/tls/ca.pem`;

// ---- options ------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
checkOptions(argv, {
  flags: ['--quick', '--cpu-prof', '--runtime=tsx', '--tree-migrations'],
  valued: [
    '--scenario',
    '--presets',
    '--latency-presets',
    '--out',
    '--src-rev',
    '--worker-env',
    '--events',
    '--drain-events',
    '--seconds',
    '--warmup',
    '--idle-seconds',
    '--fairness-events',
    '--many-destinations',
    '--many-rate',
    '--api-noisy-clients',
    '--api-noisy-records',
  ],
  usage: leadingComment(readFileSync(fileURLToPath(import.meta.url), 'utf8')),
});
const quick = argv.includes('--quick');
const scenarioArg = argv.find((a, i) => a.startsWith('--scenario=') || argv[i - 1] === '--scenario');
const ALL = [
  'detection',
  'latency',
  'drain',
  'ingest',
  'rss',
  'baseline',
  'scale',
  'replay',
  'retention',
  'noisy',
  'fairness',
  'many',
  'idle',
  'api-noisy',
] as const;
// Scenarios run only when named, so they do not add minutes to every full run: replay (a background
// range replay of a large history), retention (pruning two histories), the isolation scenarios
// (`--scenario noisy,fairness,many`), idle (what an API and a worker cost with nothing to do) and
// api-noisy (one organization's flood of the API beside another's requests, with and without the gate).
const OPT_IN: readonly Scenario[] = ['replay', 'retention', 'noisy', 'fairness', 'many', 'idle', 'api-noisy'];
type Scenario = (typeof ALL)[number];
const scenarios = new Set<Scenario>(
  scenarioArg
    ? (scenarioArg
        .replace(/^--scenario=/, '')
        .split(',')
        .map((s) => s.trim()) as Scenario[])
    : ALL.filter((s) => !OPT_IN.includes(s)),
);
for (const s of scenarios) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s}; choose from ${ALL.join(',')}`);
// --cpu-prof: every service process (API and workers) writes a V8 CPU profile when it exits.
const cpuProf = argv.includes('--cpu-prof');
// Services run as production runs them (compiled JavaScript, `node dist/cli/main.js`), built by the
// bench into a private directory so the repository's dist/ is left alone; --runtime=tsx runs the
// TypeScript sources through tsx instead (about 90 MB more RSS per process, for the loader).
const runtime = argv.includes('--runtime=tsx') ? 'tsx' : 'built';
// --src-rev <commit>: build the service from that commit's src/ and migrations/ (git archive) instead
// of the working tree, to measure before/after back to back on the same machine state; its databases
// get that commit's migrations unless --tree-migrations.
const srcRev = argv.find((a, i) => argv[i - 1] === '--src-rev') ?? null;
const BUILD_DIR = `${tmpdir()}/aegis-bench-build-${process.pid}`;
/** How each scenario's fresh database is migrated (resetDatabase): the working tree's migrations unless --src-rev. */
let migrateWith: Migrate | undefined;
const presetArg = argv.find((a, i) => a.startsWith('--presets=') || argv[i - 1] === '--presets');
// --worker-env K=V (repeatable): extra environment for the worker processes, for experiments.
const WORKER_ENV: Record<string, string> = Object.fromEntries(
  argv.filter((a, i) => argv[i - 1] === '--worker-env').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

const SIZES = quick
  ? { latencySeconds: 10, latencyRate: 1000, drainEvents: 10_000, rssEvents: 50_000, baselineEvents: 5_000, ingestSeconds: 4 }
  : { latencySeconds: 60, latencyRate: 1000, drainEvents: 100_000, rssEvents: 1_000_000, baselineEvents: 100_000, ingestSeconds: 15 };
// Isolation scenarios' sizes: --seconds N (load duration of noisy, fairness and many, and each of
// api-noisy's windows; default 60),
// --fairness-events N (org A's backlog; default 1,000,000), --many-destinations N (default 50,000),
// --many-rate N (events/s of the busy destination; default 100).
const ISO = {
  seconds: numArg(argv, '--seconds', 60),
  fairnessEvents: numArg(argv, '--fairness-events', 1_000_000),
  manyDestinations: numArg(argv, '--many-destinations', 50_000),
  manyRate: numArg(argv, '--many-rate', 100),
};
// --api-noisy-clients N, --api-noisy-records N: org A's flood in the api-noisy scenario (default 64
// connections, each posting 500 records and again as soon as it is answered); its windows last --seconds.
const API_NOISY = { clients: numArg(argv, '--api-noisy-clients', 64), records: numArg(argv, '--api-noisy-records', 500) };
// --warmup S: seconds the latency scenario sends before its measured minute (default 3), to tell a
// cold start's tail from the steady state's.
const LATENCY_WARMUP_MS = numArg(argv, '--warmup', 3) * 1000;
// --idle-seconds N: the idle scenario's measured window (default 30), after IDLE_SETTLE_S.
const IDLE_SECONDS = numArg(argv, '--idle-seconds', 30);
// Start-up's last work is done by then: V8's memory reducer collects the start-up garbage 15-25 s
// after a process starts (tens of milliseconds), which the window would otherwise count as idle cost.
const IDLE_SETTLE_S = 35;
// --drain-events N: backlog size of the drain scenario (e.g. a profile long enough to outweigh start-up).
SIZES.drainEvents = numArg(argv, '--drain-events', SIZES.drainEvents);
// --events N: history size of the replay scenario, and the larger of the retention scenario's two
// (default 1,000,000; 100,000 with --quick).
const REPLAY_EVENTS = numArg(argv, '--events', quick ? 100_000 : 1_000_000);
const PRESETS: SiemId[] = presetArg
  ? (presetArg.replace(/^--presets=/, '').split(',') as SiemId[])
  : ['custom', 'splunk_hec', 'datadog', 'elastic', 'sumo_logic', 'new_relic'];
// --latency-presets splunk_hec|custom|splunk_hec,custom: the latency scenario's destinations (default
// both), to tell the cost of each apart. The receiver reports receipt times for these two.
const LATENCY_PRESETS = latencyPresets(argv.find((a, i) => argv[i - 1] === '--latency-presets'));
function latencyPresets(arg: string | undefined): SiemId[] {
  if (arg === undefined) return ['splunk_hec', 'custom'];
  const list = arg.split(',');
  const bad = list.filter((p) => p !== 'splunk_hec' && p !== 'custom');
  if (bad.length > 0) throw new Error(`--latency-presets takes splunk_hec and/or custom, not ${bad.join(', ')}`);
  return list as SiemId[];
}
const LABEL: Record<SiemId, string> = {
  custom: 'custom webhook',
  splunk_hec: 'Splunk HEC',
  datadog: 'Datadog',
  elastic: 'Elastic',
  sumo_logic: 'Sumo Logic',
  new_relic: 'New Relic',
  microsoft_sentinel: 'Microsoft Sentinel',
};

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- processes ----------------------------------------------------------------------------------
interface Receiver {
  proc: ChildProcess;
  port: number;
  stats(): Promise<{ counts: Record<string, number>; requests: Record<string, number> }>;
  reset(): void;
  latency(on: boolean, onReceipts?: (items: Array<[string, string, number]>) => void): void;
}

async function startReceiver(): Promise<Receiver> {
  const proc = fork(`${ROOT}bench/lib/receiver.ts`, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let onReceipts: ((items: Array<[string, string, number]>) => void) | undefined;
  const waiters: Array<(m: { counts: Record<string, number>; requests: Record<string, number> }) => void> = [];
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('error', reject);
    proc.on(
      'message',
      (m: { type: string; port?: number; items?: Array<[string, string, number]>; counts?: Record<string, number>; requests?: Record<string, number> }) => {
        if (m.type === 'ready') resolve(m.port!);
        else if (m.type === 'receipts') onReceipts?.(m.items!);
        else if (m.type === 'stats') waiters.shift()?.({ counts: m.counts!, requests: m.requests! });
      },
    );
  });
  return {
    proc,
    port,
    stats: () =>
      new Promise((resolve) => {
        waiters.push(resolve);
        proc.send({ cmd: 'stats' });
      }),
    reset: () => proc.send({ cmd: 'reset' }),
    latency(on, cb) {
      onReceipts = cb;
      proc.send({ cmd: 'latency', on });
    },
  };
}

/** Scenarios that send nothing to the receiver (detection needs no process at all). */
const SEND_NOTHING: readonly Scenario[] = ['detection', 'replay', 'retention', 'api-noisy'];

/**
 * The receiver stands in for a SIEM, which is warm when the service starts sending to it. Started cold
 * (and under tsx) it answered the first seconds' requests several times slower than later, and on a
 * 2-core machine that cold start was part of the tail the latency scenario measured. It is warmed once,
 * before any scenario, on both its paths (a gzip'd batch and one event per request), then reset.
 */
async function warmReceiver(r: Receiver): Promise<void> {
  const agent = new Agent({ connections: 48, connect: { ca: readFileSync(CA) } });
  const event = JSON.stringify({ '@timestamp': new Date().toISOString(), message: 'x'.repeat(900) });
  const batch = gzipSync(Array.from({ length: 50 }, () => JSON.stringify({ event })).join('\n'));
  const url = (path: string) => `https://127.0.0.1:${r.port}${path}`;
  const one = async (i: number) => {
    const gz = i % 10 === 0;
    const res = await request(url(gz ? '/warm-splunk' : '/warm'), {
      method: 'POST',
      dispatcher: agent,
      headers: gz ? { 'content-type': 'application/json', 'content-encoding': 'gzip' } : { 'content-type': 'application/json' },
      body: gz ? batch : event,
    });
    await res.body.text();
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: 48 }, async () => {
      while (next < 20_000) await one(next++);
    }),
  );
  await agent.close();
  r.reset();
}

interface ServiceProc {
  proc: ChildProcess;
  port: number;
  role: string;
  stderr: string[];
}

let nextPort = 18_400;
const serviceEnv = (port: number, extra: Record<string, string> = {}) => ({
  ...process.env,
  DATABASE_URL: BENCH_URL,
  AEGIS_ENCRYPTION_KEY: ENCRYPTION_KEY,
  PORT: String(port),
  AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1',
  NODE_EXTRA_CA_CERTS: CA,
  AEGIS_LOG_LEVEL: 'warn',
  ...extra,
});

async function startService(role: 'api' | 'worker', extraEnv: Record<string, string> = {}): Promise<ServiceProc> {
  const port = nextPort++;
  const nodeArgs = runtime === 'tsx' ? ['--import', 'tsx', 'src/cli/main.ts'] : [`${BUILD_DIR}/dist/cli/main.js`];
  if (cpuProf) nodeArgs.unshift('--cpu-prof', `--cpu-prof-dir=${ROOT}bench/results/profiles`);
  // The heap cap the shipped start command and the aegis-stream bin set (see package.json "start").
  nodeArgs.unshift('--max-old-space-size=160');
  const proc = spawn(process.execPath, [...nodeArgs, 'start', '--role', role], {
    cwd: ROOT,
    env: serviceEnv(port, role === 'worker' ? { ...WORKER_ENV, ...extraEnv } : extraEnv),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  proc.stderr.on('data', (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 200) stderr.shift();
  });
  // Generous: on a shared 2-core machine at load 30 a worker took over 30 s to load its modules.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${role} exited with ${proc.exitCode}: ${stderr.join('').slice(-2000)}`);
    try {
      const res = await request(`http://127.0.0.1:${port}/readyz`);
      await res.body.text();
      if (res.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      // Not left running behind a failed bench.
      proc.kill('SIGKILL');
      throw new Error(`${role} not ready after 180 s: ${stderr.join('').slice(-2000)}`);
    }
    await sleep(100);
  }
  return { proc, port, role, stderr };
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

// ---- measurement helpers ------------------------------------------------------------------------
let admin: pg.Client;

/**
 * `postgres`: the bench database's client backends (the statements the service runs); `pg-bg`: the
 * server's own processes (autovacuum, WAL writer, checkpointer, background writer), which work for
 * every database on the server. Backends of other databases (tests may be running) and the bench's
 * own connections (application_name aegis-bench: seeding, progress polling) are not counted.
 */
async function postgresGroups(): Promise<{ postgres: number[]; 'pg-bg': number[] }> {
  const { rows } = await admin.query<{ pid: number; client: boolean }>(
    `SELECT pid, backend_type = 'client backend' AS client FROM pg_stat_activity
      WHERE (datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name <> $2)
         OR backend_type <> 'client backend'`,
    [BENCH_DB, BENCH_APP_NAME],
  );
  return { postgres: rows.filter((r) => r.client).map((r) => r.pid), 'pg-bg': rows.filter((r) => !r.client).map((r) => r.pid) };
}

/**
 * Samples what the bench database's backends are doing every 100 ms (pg_stat_activity): active on
 * CPU, or waiting on a lock, on I/O (WAL flush at commit, data file reads) or idle in a transaction.
 * Tells a CPU-bound Postgres from a waiting one.
 */
function waitSampler(): { stop(): Promise<Record<string, number>> } {
  const counts: Record<string, number> = {};
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    const c = await benchClient();
    try {
      while (!stopped) {
        const { rows } = await c.query<{ state: string; w: string | null }>(
          `SELECT state, wait_event_type || ':' || wait_event AS w FROM pg_stat_activity
            WHERE datname = $1 AND pid <> pg_backend_pid() AND state <> 'idle'`,
          [BENCH_DB],
        );
        samples++;
        for (const r of rows) {
          const k = r.w ?? (r.state === 'active' ? 'CPU' : r.state);
          counts[k] = (counts[k] ?? 0) + 1;
        }
        await sleep(100);
      }
    } finally {
      await c.end();
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      // Average number of backends in each state per sample.
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6))
        out[k] = round(v / Math.max(1, samples), 2);
      return out;
    },
  };
}

/**
 * The statements the service ran in a window, from pg_stat_statements, when the server preloads it
 * (`shared_preload_libraries`; the stock server does not, so this is null there). The extension is
 * created in the admin database, whose view covers every database; the bench database is dropped and
 * migrated per scenario, which would drop an extension created there.
 */
interface StatementStat {
  query: string;
  calls: number;
  rows: number;
  totalMs: number;
  meanMs: number;
  /** Execution time per event, in microseconds (wall time inside the executor, not only CPU). */
  usPerEvent: number;
  /** Planning time per call (ms): a generic plan costs ~0, a custom plan per call does not. */
  planMs: number;
  /** Shared buffers touched per call (hit + read): grows with bloat or a worse plan, not with waits. */
  blocksPerCall: number;
  /** WAL bytes per call: grows when an update stops being HOT (every index gets a new entry). */
  walBytesPerCall: number;
}

let statStatements = false;

async function enableStatementStats(): Promise<void> {
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await admin.query('SELECT 1 FROM pg_stat_statements LIMIT 1');
    statStatements = true;
    log('pg_stat_statements: on (top statements per scenario in the results)');
  } catch (err) {
    log(`pg_stat_statements: unavailable (${(err as Error).message.split('\n')[0]}); no per-statement figures`);
  }
}

async function resetStatementStats(): Promise<void> {
  if (statStatements) await admin.query('SELECT pg_stat_statements_reset()');
}

async function topStatements(events: number, limit = 8): Promise<StatementStat[] | null> {
  if (!statStatements) return null;
  const { rows } = await admin.query<{
    query: string;
    calls: string;
    rows: string;
    total: number;
    mean: number;
    plan: number;
    blocks: string;
    wal: string;
  }>(
    `SELECT s.query, s.calls, s.rows, s.total_exec_time AS total, s.mean_exec_time AS mean,
            s.total_plan_time AS plan, s.shared_blks_hit + s.shared_blks_read AS blocks, s.wal_bytes AS wal
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = $1 AND s.query NOT LIKE '%pg_stat_activity%'
      ORDER BY s.total_exec_time DESC LIMIT $2`,
    [BENCH_DB, limit],
  );
  return rows.map((r) => ({
    query: r.query.replace(/\s+/g, ' ').slice(0, 240),
    calls: Number(r.calls),
    rows: Number(r.rows),
    totalMs: round(r.total, 1),
    meanMs: round(r.mean, 3),
    usPerEvent: round((r.total * 1000) / Math.max(1, events), 2),
    planMs: round(r.plan / Math.max(1, Number(r.calls)), 3),
    blocksPerCall: round(Number(r.blocks) / Math.max(1, Number(r.calls)), 1),
    walBytesPerCall: round(Number(r.wal) / Math.max(1, Number(r.calls))),
  }));
}

/** Updates and HOT updates per table so far (pg_stat_user_tables), to tell a window's non-HOT share. */
async function tableUpdates(): Promise<Record<string, { upd: number; hot: number }>> {
  const { rows } = await db.query<{ relname: string; upd: string; hot: string }>(
    `SELECT relname, n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname IN ('destinations', 'forwarding_jobs')`,
  );
  return Object.fromEntries(rows.map((r) => [r.relname, { upd: Number(r.upd), hot: Number(r.hot) }]));
}

function meter(groups: Record<string, () => number[]>): CpuMeter {
  return new CpuMeter(async () => {
    const out: Record<string, number[]> = {};
    for (const [k, f] of Object.entries(groups)) out[k] = f();
    return { ...out, ...(await postgresGroups()) };
  });
}

function pctl(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (n: number, d = 0) => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : n);
type Cores = Record<string, number>;
/** "worker 0.45 (+0.30)": cores used, and in brackets cores more it was runnable but waiting for a CPU. */
const fmtCores = (c: Cores) =>
  Object.entries(c)
    .filter(([k]) => !k.endsWith('~wait') && k !== 'bench')
    .map(([k, v]) => `${k} ${round(v, 2)}${(c[`${k}~wait`] ?? 0) >= 0.05 ? ` (+${round(c[`${k}~wait`]!, 2)})` : ''}`)
    .join(', ');
/** "api 95, worker 30, postgres 80, pg-bg 4 = 209 (receiver 12)": CPU microseconds per event. */
const fmtUs = (u: Record<string, number> | undefined) => {
  if (!u || u.total === undefined) return '';
  const parts = Object.entries(u).filter(([k]) => k !== 'total' && k !== 'receiver');
  const rec = u.receiver !== undefined ? ` (receiver ${round(u.receiver)})` : '';
  return `${parts.map(([k, v]) => `${k} ${round(v)}`).join(', ')} = ${round(u.total)}${rec}`;
};
/** Wake-ups and read/write system calls per event, our processes only (the receiver's are the SIEM's). */
const fmtCounts = (c: PerEventCounts | undefined) => {
  if (!c) return '';
  const ours = Object.entries(c).filter(([k]) => k !== 'receiver');
  if (ours.length === 0) return '';
  return `; wake-ups (syscalls) per event: ${ours.map(([k, v]) => `${k} ${v.wakeups}${v.syscalls === null ? '' : ` (${v.syscalls})`}`).join(', ')}`;
};
type PerEventCounts = ReturnType<typeof countsPerEvent>;

// ---- scenarios ----------------------------------------------------------------------------------
let receiver: Receiver;
let db: Db;

async function freshOrg(presets: SiemId[], enabled: boolean) {
  await resetDatabase(db, migrateWith);
  return createBenchOrg(db, receiver.port, presets, enabled);
}

interface IdleResult {
  seconds: number;
  settleSeconds: number;
  /** Milliseconds of CPU per second of wall time, per process group (postgres: the bench database's backends). */
  cpuMsPerSecond: Record<string, number>;
  loadavg1: number;
}

/**
 * What the service costs with nothing to do: an API and a worker started on an organization with two
 * enabled destinations and no events, left to settle, then measured. Every second they spend here is
 * paid at any rate of events (at 1,000 events/s, 1 ms a second is 1 µs an event), and is the whole
 * cost of an installation whose tenants are quiet.
 */
async function idleScenario(seconds: number): Promise<IdleResult> {
  log(`idle: an API and a worker with nothing to do, ${IDLE_SETTLE_S} s to settle, then ${seconds} s measured`);
  await freshOrg(['splunk_hec', 'custom'], true);
  const api = await startService('api');
  const worker = await startService('worker');
  try {
    await sleep(IDLE_SETTLE_S * 1000);
    const cpu = meter({ api: () => [api.proc.pid!], worker: () => [worker.proc.pid!] });
    await cpu.begin();
    await sleep(seconds * 1000);
    const cores = await cpu.end();
    const cpuMsPerSecond = Object.fromEntries(
      Object.entries(cores)
        .filter(([k]) => !k.endsWith('~wait'))
        .map(([k, v]) => [k, round(v * 1000, 1)]),
    );
    const result = { seconds, settleSeconds: IDLE_SETTLE_S, cpuMsPerSecond, loadavg1: round(loadavg()[0]!, 2) };
    log(`idle: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await stopProc(api.proc);
    await stopProc(worker.proc);
  }
}

interface LatencyResult {
  workers: number;
  rate: number;
  seconds: number;
  /** Seconds sent before the measured window (--warmup). */
  warmupSeconds: number;
  perPreset: Record<string, { n: number; received: number; p50: number; p99: number; max: number; worstBySecond: number[] }>;
  cores: Cores;
  /** CPU microseconds per event recorded in the window (each event is delivered to both destinations). */
  cpuUsPerEvent: Record<string, number>;
  /** Wake-ups and read/write system calls per event recorded in the window, per process group. */
  countsPerEvent: PerEventCounts;
  statements: StatementStat[] | null;
  workerPeakRssMiB: number;
  pgWaits: Record<string, number>;
  loadavg1: number;
  cpuPressure: number | null;
  apiErrors: number;
}

async function latencyScenario(workers: number): Promise<LatencyResult> {
  const presets = LATENCY_PRESETS;
  log(`latency: ${workers} worker(s), ${SIZES.latencyRate} events/s for ${SIZES.latencySeconds} s, presets ${presets.join(', ')}`);
  const org = await freshOrg(presets, true);
  const api = await startService('api');
  const ws = await Promise.all(Array.from({ length: workers }, () => startService('worker')));
  const agent = new Agent({ connections: 32 });
  const sent = new Map<string, number>();
  const got = new Map<string, Map<string, number>>(presets.map((p) => [p === 'splunk_hec' ? 'splunk' : p, new Map<string, number>()]));
  receiver.reset();
  receiver.latency(true, (items) => {
    for (const [preset, id, at] of items) {
      const m = got.get(preset);
      if (m && !m.has(id)) m.set(id, at);
    }
  });
  const warmupMs = LATENCY_WARMUP_MS;
  const totalMs = warmupMs + SIZES.latencySeconds * 1000;
  const measured = new Set<string>();
  let rss = 0;
  const rssTimer = setInterval(() => {
    for (const w of ws) rss = Math.max(rss, memoryMiB(w.proc.pid!)?.rss ?? 0);
  }, 250);
  const cpu = meter({ api: () => [api.proc.pid!], worker: () => ws.map((w) => w.proc.pid!), receiver: () => [receiver.proc.pid!], bench: () => [process.pid] });
  const t0 = Date.now();
  let count = 0;
  let inflight = 0;
  let errors = 0;
  let cpuStarted = false;
  let countAtBegin = 0;
  let waits: ReturnType<typeof waitSampler> | null = null;
  const url = `http://127.0.0.1:${api.port}/api/orgs/${org.orgId}/audit-events`;
  while (Date.now() - t0 < totalMs) {
    const elapsed = Date.now() - t0;
    if (!cpuStarted && elapsed >= warmupMs) {
      cpuStarted = true;
      await resetStatementStats();
      await cpu.begin();
      countAtBegin = count;
      waits = waitSampler();
    }
    let due = Math.floor((elapsed / 1000) * SIZES.latencyRate) - count;
    while (due > 0 && inflight < 64) {
      const n = Math.min(due, 50);
      const events: Record<string, unknown>[] = [];
      const now = Date.now();
      for (let i = 0; i < n; i++) {
        const id = `pflt_lat${String(count + i).padStart(19, '0')}`;
        events.push(agentRecord(id, count + i));
        sent.set(id, now);
        if (now - t0 >= warmupMs) measured.add(id);
      }
      count += n;
      due -= n;
      inflight++;
      void request(url, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      })
        .then(async (res) => {
          await res.body.text();
          if (res.statusCode !== 200) errors++;
        })
        .catch(() => errors++)
        .finally(() => inflight--);
    }
    // Every 50 ms, as a producer flushing its buffer would: requests of about 50 events. (It slept
    // 5 ms until 2026-12-01, so requests carried 5-7 events and the API's and PostgreSQL's cost per
    // request, spread over few events, weighed up to seven times as much: docs/BENCHMARKS.md.)
    await sleep(50);
  }
  const cores = await cpu.end();
  const windowEvents = count - countAtBegin;
  const cpuUsPerEvent = cpuPerEvent(cores, cpu.windowSeconds, windowEvents);
  const perEventCounts = countsPerEvent(cpu.counts, windowEvents);
  const statements = await topStatements(windowEvents);
  const pgWaits = (await waits?.stop()) ?? {};
  // Let the tail arrive.
  const waitUntil = Date.now() + 15_000;
  while (Date.now() < waitUntil) {
    if ([...got.values()].every((m) => [...measured].every((id) => m.has(id)))) break;
    await sleep(200);
  }
  clearInterval(rssTimer);
  receiver.latency(false);
  if (errors) log(`latency: ${errors} API requests failed`);
  const perPreset: LatencyResult['perPreset'] = {};
  for (const [preset, m] of got) {
    const lat: number[] = [];
    for (const id of measured) {
      const at = m.get(id);
      if (at !== undefined) lat.push(at - sent.get(id)!);
    }
    lat.sort((a, b) => a - b);
    // The slowest event of each second of sending, warm-up included: a tail that comes from the cold
    // start looks different from one spread over the minute.
    const worstBySecond: number[] = [];
    for (const [id, sentAt] of sent) {
      const second = Math.floor((sentAt - t0) / 1000);
      const waited = (m.get(id) ?? Date.now()) - sentAt;
      worstBySecond[second] = Math.max(worstBySecond[second] ?? 0, waited);
    }
    perPreset[preset] = {
      n: measured.size,
      received: lat.length,
      p50: pctl(lat, 50),
      p99: pctl(lat, 99),
      max: lat[lat.length - 1] ?? NaN,
      worstBySecond: Array.from(worstBySecond, (v) => v ?? 0),
    };
  }
  await Promise.all([stopProc(api.proc), ...ws.map((w) => stopProc(w.proc))]);
  await agent.close();
  const r = {
    workers,
    rate: SIZES.latencyRate,
    seconds: SIZES.latencySeconds,
    warmupSeconds: warmupMs / 1000,
    perPreset,
    cores,
    cpuUsPerEvent,
    countsPerEvent: perEventCounts,
    statements,
    workerPeakRssMiB: round(rss),
    pgWaits,
    loadavg1: round(loadavg()[0]!, 2),
    cpuPressure: cpuPressure(),
    apiErrors: errors,
  };
  log(`latency: ${JSON.stringify({ ...r, statements: undefined })}`);
  return r;
}

interface DrainResult {
  preset: SiemId;
  workers: number;
  events: number;
  seconds: number;
  rate: number;
  received: number;
  requests: number;
  cores: Cores;
  /** CPU microseconds per event delivered. */
  cpuUsPerEvent: Record<string, number>;
  /** Wake-ups and read/write system calls per event delivered, per process group. */
  countsPerEvent: PerEventCounts;
  statements: StatementStat[] | null;
  workerPeakRssMiB: number;
  workerHwmMiB: number;
  /** Peak RssAnon: the worker's own pages, without the node binary's shared file pages. */
  workerPeakAnonMiB: number;
  complete: boolean;
  /** Average bench-database backends per state (CPU, Lock:..., IO:..., LWLock:...). */
  pgWaits: Record<string, number>;
  /** The machine's 1-minute load average at the end (other tenants share the 2 cores). */
  loadavg1: number;
  cpuPressure: number | null;
  /** V8 heap and external memory of the (first) worker at the end, from its /metrics. */
  workerHeapMiB: Record<string, number>;
}

/** The worker's own view of its memory (prom-client default metrics on its /metrics). */
async function workerHeap(w: ServiceProc): Promise<Record<string, number>> {
  try {
    const res = await request(`http://127.0.0.1:${w.port}/metrics`);
    const text = await res.body.text();
    const out: Record<string, number> = {};
    for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes']) {
      const m = new RegExp(`^aegis_${name} (\\S+)`, 'm').exec(text);
      if (m) out[name.replace(/_bytes$/, '')] = round(Number(m[1]) / 1048576, 1);
    }
    return out;
  } catch {
    return {};
  }
}

async function drainScenario(preset: SiemId, n: number, workers: number, extraEnv: Record<string, string> = {}): Promise<DrainResult> {
  log(`drain: ${LABEL[preset]}, ${n} events, ${workers} worker(s)`);
  const org = await freshOrg([preset], false);
  const ts = Date.now();
  await seedBacklog(db, org.orgId, [org.destinations[0]!.id], n);
  log(`drain: seeded ${n} events in ${round((Date.now() - ts) / 1000, 1)} s`);
  const ws = await Promise.all(Array.from({ length: workers }, () => startService('worker', extraEnv)));
  const path = preset === 'splunk_hec' ? 'splunk' : preset === 'sumo_logic' ? 'sumo' : preset === 'new_relic' ? 'newrelic' : preset;
  receiver.reset();
  let rss = 0;
  let anon = 0;
  const rssTimer = setInterval(() => {
    for (const w of ws) {
      const m = memoryMiB(w.proc.pid!);
      rss = Math.max(rss, m?.rss ?? 0);
      anon = Math.max(anon, m?.anon ?? 0);
    }
  }, 100);
  const cpu = meter({ worker: () => ws.map((w) => w.proc.pid!), receiver: () => [receiver.proc.pid!], bench: () => [process.pid] });
  await resetStatementStats();
  await cpu.begin();
  const waits = waitSampler();
  const t0 = performance.now();
  await db.query(`UPDATE destinations SET enabled = true WHERE org_id = $1`, [org.orgId]);
  await db.query(`SELECT pg_notify('aegis_jobs', '')`);
  const limitMs = quick ? 120_000 : 600_000;
  let received = 0;
  let requests = 0;
  let complete = false;
  while (performance.now() - t0 < limitMs) {
    const s = await receiver.stats();
    received = s.counts[path] ?? 0;
    requests = s.requests[path] ?? 0;
    if (received >= n) {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM forwarding_jobs WHERE status = 'pending'`);
      if (rows[0]!.n === 0) {
        complete = true;
        break;
      }
    }
    await sleep(received >= n ? 20 : 50);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cores = await cpu.end();
  const delivered = complete ? n : received;
  const cpuUsPerEvent = cpuPerEvent(cores, cpu.windowSeconds, delivered);
  const perEventCounts = countsPerEvent(cpu.counts, delivered);
  const statements = await topStatements(delivered);
  const pgWaits = await waits.stop();
  clearInterval(rssTimer);
  let hwm = 0;
  for (const w of ws) hwm = Math.max(hwm, memoryMiB(w.proc.pid!)?.hwm ?? 0);
  const heap = await workerHeap(ws[0]!);
  const complaints = ws.flatMap((w) => w.stderr.join('').split('\n')).filter((l) => /"level":(40|50|60)/.test(l) && !l.includes('AEGIS_ALLOW_PRIVATE'));
  if (complaints.length > 0) log(`drain: worker warnings (${complaints.length}): ${complaints.slice(0, 5).join('\n')}`);
  await Promise.all(ws.map((w) => stopProc(w.proc)));
  const { rows: left } = await db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM forwarding_jobs GROUP BY status`);
  const r: DrainResult = {
    preset,
    workers,
    events: n,
    seconds: round(seconds, 2),
    rate: round(delivered / seconds),
    received,
    requests,
    cores,
    cpuUsPerEvent,
    countsPerEvent: perEventCounts,
    statements,
    workerPeakRssMiB: round(rss),
    workerHwmMiB: round(hwm),
    workerPeakAnonMiB: round(anon),
    complete,
    pgWaits,
    loadavg1: round(loadavg()[0]!, 2),
    cpuPressure: cpuPressure(),
    workerHeapMiB: heap,
  };
  log(`drain: ${JSON.stringify({ ...r, statements: undefined })} jobs: ${JSON.stringify(left)}`);
  return r;
}

interface IngestResult {
  auditEventsPerS: number;
  auditBatchesPerS: number;
  preflightPerS: number;
  auditCores: Cores;
  preflightCores: Cores;
  /** CPU microseconds per event recorded through POST /audit-events. */
  auditCpuUsPerEvent: Record<string, number>;
  /** CPU microseconds per POST /preflight (one event each). */
  preflightCpuUsPerEvent: Record<string, number>;
  auditStatements: StatementStat[] | null;
  preflightStatements: StatementStat[] | null;
  /** POST /audit-events again with BENCH_FILTERS.length more destinations, each with a filter. */
  filteredAuditEventsPerS: number;
  filteredAuditCores: Cores;
  filteredAuditCpuUsPerEvent: Record<string, number>;
  /** The filters' own cost, in this process: compiled predicates over 1,000-event batches (FilterRouter.route). */
  filterRouteUsPerEventPerFilter: number;
  errors: number;
}

/** Filters of the shapes teams write (docs/filters.md): the ingest scenario's filtered destinations. */
const BENCH_FILTERS: Record<string, unknown>[] = [
  { 'aegis.decision': 'BLOCKED' },
  { 'aegis.decision': { $in: ['BLOCKED', 'ALLOWED_WITH_MASKING'] }, 'aegis.finding_counts_by_type.SSN': { $gte: 1 } },
  { $or: [{ 'aegis.finding_counts_by_type.SSN': { $gte: 1 } }, { 'aegis.finding_counts_by_type.IBAN': { $gte: 1 } }] },
  { 'aegis.source_type': { $nin: ['api'] }, 'aegis.actor_id': { $exists: true } },
  { 'aegis.input_size_bytes': { $gt: 500 }, 'aegis.decision': { $not: { $eq: 'ALLOWED' } } },
];

/**
 * Microseconds per event per filter for FilterRouter.route over batches of 1,000 wire events, with
 * the organization's filtered destinations read from the database as the API reads them.
 */
async function filterRouteCost(orgId: string): Promise<number> {
  const router = new FilterRouter();
  await router.refresh(db, [orgId]);
  const now = new Date();
  const events = Array.from({ length: 1000 }, (_, i) => {
    const { fields, occurredAt } = fieldsFromAgentRecord(agentRecord(`pflt_route${String(i).padStart(19, '0')}`, i) as unknown as AgentDecisionRecord, now);
    return { orgId, id: fields.preflight_id, payload: buildWireEvent({ orgId, fields, occurredAt }) };
  });
  for (let i = 0; i < 20; i++) await router.route(events); // warm-up (compile, JIT)
  const rounds = 200;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await router.route(events);
  return round(((performance.now() - t0) * 1000) / (rounds * events.length * BENCH_FILTERS.length), 3);
}

async function ingestScenario(): Promise<IngestResult> {
  log(`ingest: POST /audit-events (batches of 1,000) and POST /preflight, ${SIZES.ingestSeconds} s each`);
  const org = await freshOrg(['custom'], true);
  const api = await startService('api');
  const agent = new Agent({ connections: 32 });
  const base = `http://127.0.0.1:${api.port}/api/orgs/${org.orgId}`;
  const headers = { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' };
  let errors = 0;
  const post = async (path: string, body: string) => {
    const res = await request(`${base}${path}`, { method: 'POST', dispatcher: agent, headers, body });
    await res.body.text();
    if (res.statusCode !== 200) {
      errors++;
      if (errors < 3) log(`ingest: ${path} answered ${res.statusCode}`);
    }
  };
  const run = async (concurrency: number, seconds: number, eventsPerRequest: number, next: () => [string, string]) => {
    const cpu = meter({ api: () => [api.proc.pid!], bench: () => [process.pid] });
    await resetStatementStats();
    await cpu.begin();
    const t0 = performance.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() - t0 < seconds * 1000) {
          const [p, b] = next();
          await post(p, b);
          done++;
        }
      }),
    );
    const s = (performance.now() - t0) / 1000;
    const cores = await cpu.end();
    const events = done * eventsPerRequest;
    return { perS: done / s, cores, cpuUsPerEvent: cpuPerEvent(cores, cpu.windowSeconds, events), statements: await topStatements(events) };
  };
  let seq = 0;
  // Warm-up (JIT, connections) then measure.
  const batch = () => {
    const events = Array.from({ length: 1000 }, () => agentRecord(`pflt_ing${String(seq++).padStart(19, '0')}`, seq));
    return ['/audit-events', JSON.stringify({ events })] as [string, string];
  };
  await run(2, 1, 1000, batch);
  const a = await run(4, SIZES.ingestSeconds, 1000, batch);
  const pre = () => ['/preflight', PREFLIGHT_BODY] as [string, string];
  await run(4, 1, 1, pre);
  const p = await run(16, SIZES.ingestSeconds, 1, pre);
  // The filters' cost at ingest: the same batches with five more destinations, each filtered.
  for (const [i, filter] of BENCH_FILTERS.entries()) {
    const res = await request(`${base}/forwarding-destinations`, {
      method: 'POST',
      dispatcher: agent,
      headers,
      body: JSON.stringify({ url: `https://localhost:${receiver.port}/filtered/${i}`, siem: 'custom', enabled: true, filter }),
    });
    await res.body.text();
    if (res.statusCode !== 201) throw new Error(`ingest: creating a filtered destination answered ${res.statusCode}`);
  }
  await run(2, 1, 1000, batch);
  const f = await run(4, SIZES.ingestSeconds, 1000, batch);
  await stopProc(api.proc);
  await agent.close();
  const r: IngestResult = {
    auditEventsPerS: round(a.perS * 1000),
    auditBatchesPerS: round(a.perS, 1),
    preflightPerS: round(p.perS),
    auditCores: a.cores,
    preflightCores: p.cores,
    auditCpuUsPerEvent: a.cpuUsPerEvent,
    preflightCpuUsPerEvent: p.cpuUsPerEvent,
    auditStatements: a.statements,
    preflightStatements: p.statements,
    filteredAuditEventsPerS: round(f.perS * 1000),
    filteredAuditCores: f.cores,
    filteredAuditCpuUsPerEvent: f.cpuUsPerEvent,
    filterRouteUsPerEventPerFilter: await filterRouteCost(org.orgId),
    errors,
  };
  log(`ingest: ${JSON.stringify({ ...r, auditStatements: undefined, preflightStatements: undefined })}`);
  return r;
}

interface BaselineResult {
  events: number;
  seconds: number;
  rate: number;
  received: number;
  cores: Cores;
  cpuUsPerEvent: Record<string, number>;
  complete: boolean;
  config: string;
}

async function baselineScenario(n: number): Promise<BaselineResult> {
  log(`baseline: pg-boss + fetch, ${n} events`);
  await resetDatabase(db, migrateWith);
  const env = { ...serviceEnv(0), BASELINE_WORKERS: process.env.BASELINE_WORKERS ?? '8', BASELINE_BATCH: process.env.BASELINE_BATCH ?? '100' };
  const proc = fork(`${ROOT}bench/lib/baselineWorker.ts`, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: Array<{ type: string; n?: number; pending?: number }> = [];
  const wait = async (type: string) => {
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return inbox.splice(i, 1)[0]!;
      if (proc.exitCode !== null) throw new Error('baseline worker exited');
      await sleep(5);
    }
  };
  proc.on('message', (m: { type: string }) => inbox.push(m));
  await wait('ready');
  const orgId = 'org_bench_baseline';
  const now = new Date();
  for (let from = 0; from < n; from += 5000) {
    const events = [];
    for (let i = from; i < Math.min(n, from + 5000); i++) {
      const rec = agentRecord(`pflt_base${String(i).padStart(19, '0')}`, i) as unknown as AgentDecisionRecord;
      const { fields, occurredAt } = fieldsFromAgentRecord(rec, now);
      events.push(buildWireEvent({ orgId, fields, occurredAt }));
    }
    proc.send({ cmd: 'seed', events });
    await wait('seeded');
  }
  await admin.query(`ANALYZE`).catch(() => undefined);
  receiver.reset();
  const cpu = meter({ baseline: () => [proc.pid!], receiver: () => [receiver.proc.pid!], bench: () => [process.pid] });
  await cpu.begin();
  const t0 = performance.now();
  proc.send({ cmd: 'go', url: `https://localhost:${receiver.port}/baseline/hook` });
  const limitMs = quick ? 120_000 : 900_000;
  let received = 0;
  let complete = false;
  while (performance.now() - t0 < limitMs) {
    const s = await receiver.stats();
    received = s.counts.baseline ?? 0;
    if (received >= n) {
      proc.send({ cmd: 'size' });
      const m = await wait('size');
      if (m.pending === 0) {
        complete = true;
        break;
      }
    }
    await sleep(100);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cores = await cpu.end();
  const cpuUsPerEvent = cpuPerEvent(cores, cpu.windowSeconds, complete ? n : received);
  proc.disconnect();
  await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
  const r: BaselineResult = {
    events: n,
    seconds: round(seconds, 2),
    rate: round((complete ? n : received) / seconds),
    received,
    cores,
    cpuUsPerEvent,
    complete,
    config: `pg-boss 10, ${env.BASELINE_WORKERS} work() loops x batchSize ${env.BASELINE_BATCH}, POSTs of a batch concurrent, poll 0.5 s`,
  };
  log(`baseline: ${JSON.stringify(r)}`);
  return r;
}

interface ReplayBenchResult {
  events: number;
  /** Time until POST .../replay answered (its first batch queued, 202). */
  answerMs: number;
  status: number;
  /** From the request to the background replay's status done. */
  seconds: number;
  /** Events replayed (jobs queued) per second. */
  rate: number;
  replayed: number;
  complete: boolean;
  cores: Cores;
  /** CPU microseconds per event replayed. */
  cpuUsPerEvent: Record<string, number>;
  statements: StatementStat[] | null;
  pgWaits: Record<string, number>;
  loadavg1: number;
  cpuPressure: number | null;
}

/**
 * Range replay of a recorded history to one destination (issue 12): the API answers after the first
 * batch and a worker process walks the rest in the background. Measures events queued per second
 * and the CPU per event of the API, the worker and PostgreSQL. The destination is disabled, so the
 * figure is the replay's own cost, not delivery's (the drain scenarios measure that).
 */
async function replayScenario(n: number): Promise<ReplayBenchResult> {
  log(`replay: a history of ${n.toLocaleString('en-US')} events to one destination`);
  const org = await freshOrg(['splunk_hec'], false);
  const dest = org.destinations[0]!.id;
  const ts = Date.now();
  await seedBacklog(db, org.orgId, [], n);
  log(`replay: recorded ${n} events in ${round((Date.now() - ts) / 1000, 1)} s`);
  const env = { AEGIS_MAX_REPLAY_EVENTS: String(Math.max(n, 5_000_000)) };
  const api = await startService('api', env);
  const worker = await startService('worker', env);
  const base = `http://127.0.0.1:${api.port}/api/orgs/${org.orgId}/forwarding-destinations/${dest}`;
  const headers = { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' };
  const cpu = meter({ api: () => [api.proc.pid!], worker: () => [worker.proc.pid!], bench: () => [process.pid] });
  await resetStatementStats();
  await cpu.begin();
  const waits = waitSampler();
  const t0 = performance.now();
  const body = JSON.stringify({ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() });
  const res = await request(`${base}/replay`, { method: 'POST', headers, body });
  const answer = (await res.body.json()) as { replayed: number; replay_id?: string };
  const answerMs = performance.now() - t0;
  if (res.statusCode !== 200 && res.statusCode !== 202) throw new Error(`replay: POST answered ${res.statusCode}: ${JSON.stringify(answer)}`);
  let replayed = answer.replayed;
  let complete = res.statusCode === 200;
  const limitMs = quick ? 120_000 : 900_000;
  while (!complete && performance.now() - t0 < limitMs) {
    await sleep(100);
    const r = await request(`${base}/replays/${answer.replay_id}`, { headers });
    const view = (await r.body.json()) as { status: string; replayed: number };
    replayed = view.replayed;
    if (view.status === 'done') complete = true;
    else if (view.status !== 'running') throw new Error(`replay: the replay ended ${view.status}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cores = await cpu.end();
  const cpuUsPerEvent = cpuPerEvent(cores, cpu.windowSeconds, replayed);
  const statements = await topStatements(replayed);
  const pgWaits = await waits.stop();
  await Promise.all([stopProc(api.proc), stopProc(worker.proc)]);
  const r: ReplayBenchResult = {
    events: n,
    answerMs: round(answerMs),
    status: res.statusCode,
    seconds: round(seconds, 2),
    rate: round(replayed / seconds),
    replayed,
    complete,
    cores,
    cpuUsPerEvent,
    statements,
    pgWaits,
    loadavg1: round(loadavg()[0]!, 2),
    cpuPressure: cpuPressure(),
  };
  log(`replay: ${JSON.stringify({ ...r, statements: undefined })}`);
  return r;
}

interface RetentionRun {
  /** Events recorded over the 30 days. */
  events: number;
  deleted: { events: number; jobs: number; attempts: number };
  /** pruneOnce passes until one deleted nothing (that last one included). */
  passes: number;
  /** Wall time per pass (three DELETEs of up to a batch each), over the passes that deleted a full batch of events. */
  passMs: { median: number; p95: number; max: number };
  seedSeconds: number;
  cores: Cores;
  /** CPU microseconds per event deleted (its job and log share included). */
  cpuUsPerEvent: Record<string, number>;
  loadavg1: number;
}

interface RetentionResult {
  retentionDays: number;
  batch: number;
  runs: RetentionRun[];
  cpuPressure: number | null;
}

const RETENTION_DAYS = 7;
const RETENTION_HISTORY_DAYS = 30;
const RETENTION_BATCH = 5000;

/**
 * Retention (issue 12): a history recorded over 30 days (bench/lib/seedHistory: jobs for three in
 * four events, a delivery log) pruned to 7 days by the service's own pruneOnce with its default
 * batch, on one connection, pass after pass until nothing is left. Run at two history sizes (n/10
 * and n): the cost of a pass, and PostgreSQL's CPU per deleted event, must not grow with the
 * history (docs/BENCHMARKS.md has the plans).
 */
async function retentionScenario(n: number): Promise<RetentionResult> {
  const runs: RetentionRun[] = [];
  for (const size of [Math.max(1, Math.round(n / 10)), n]) {
    log(`retention: a history of ${size.toLocaleString('en-US')} events over ${RETENTION_HISTORY_DAYS} days`);
    const org = await freshOrg(['custom'], false);
    const ts = Date.now();
    await seedHistory(db, org.orgId, org.destinations[0]!.id, size, RETENTION_HISTORY_DAYS);
    const seedSeconds = round((Date.now() - ts) / 1000, 1);
    log(`retention: recorded in ${seedSeconds} s`);
    // Not the bench's application name: this connection's backend is the "postgres" CPU measured.
    // One connection (a pool of one), so one backend does all of retention's work.
    const q = openPg({ connectionString: BENCH_URL, max: 1 });
    const cpu = meter({ bench: () => [process.pid] });
    const deleted = { events: 0, jobs: 0, attempts: 0 };
    const fullPassMs: number[] = [];
    let passes = 0;
    await cpu.begin();
    for (;;) {
      const t0 = performance.now();
      const r = await pruneOnce(q, RETENTION_DAYS, RETENTION_BATCH);
      const ms = performance.now() - t0;
      passes++;
      deleted.events += r.events;
      deleted.jobs += r.jobs;
      deleted.attempts += r.attempts;
      if (r.events === RETENTION_BATCH) fullPassMs.push(ms);
      if (r.events + r.jobs + r.attempts === 0) break;
    }
    const cores = await cpu.end();
    await q.close();
    fullPassMs.sort((a, b) => a - b);
    const run: RetentionRun = {
      events: size,
      deleted,
      passes,
      passMs: { median: round(pctl(fullPassMs, 50), 1), p95: round(pctl(fullPassMs, 95), 1), max: round(fullPassMs.at(-1) ?? NaN, 1) },
      seedSeconds,
      cores,
      cpuUsPerEvent: cpuPerEvent(cores, cpu.windowSeconds, deleted.events),
      loadavg1: round(loadavg()[0]!, 2),
    };
    log(`retention: ${JSON.stringify(run)}`);
    runs.push(run);
  }
  return { retentionDays: RETENTION_DAYS, batch: RETENTION_BATCH, runs, cpuPressure: cpuPressure() };
}

// ---- isolation scenarios (issue #10) ------------------------------------------------------------
interface Stream {
  orgId: string;
  apiKey: string;
  rate: number;
  /** Event id prefix: tells the streams' events apart at the receiver. */
  tag: string;
}

/**
 * Posts each stream's events through the API at its rate (batches every 50 ms, paced by wall clock)
 * for `seconds` after a 3 s warm-up; `onWindow` runs when the measured window starts. Returns when
 * each event was sent and which were sent inside the window, per stream tag.
 */
async function pacedLoad(apiPort: number, streams: Stream[], seconds: number, onWindow: () => Promise<void>) {
  const agent = new Agent({ connections: 16 });
  const sent = new Map<string, number>();
  const measured = new Map<string, Set<string>>(streams.map((st) => [st.tag, new Set<string>()]));
  const counts = new Map<string, number>(streams.map((st) => [st.tag, 0]));
  const warmupMs = 3000;
  const t0 = Date.now();
  let inWindow = false;
  let windowEvents = 0;
  let inflight = 0;
  let errors = 0;
  while (Date.now() - t0 < warmupMs + seconds * 1000) {
    const elapsed = Date.now() - t0;
    if (!inWindow && elapsed >= warmupMs) {
      inWindow = true;
      await onWindow();
    }
    for (const st of streams) {
      const done = counts.get(st.tag)!;
      const n = Math.min(Math.floor((elapsed / 1000) * st.rate) - done, 200);
      if (n <= 0 || inflight >= 64) continue;
      const now = Date.now();
      const events = Array.from({ length: n }, (_, k) => {
        const id = `pflt_${st.tag}${String(done + k).padStart(16, '0')}`;
        sent.set(id, now);
        if (inWindow) measured.get(st.tag)!.add(id);
        return agentRecord(id, done + k);
      });
      if (inWindow) windowEvents += n;
      counts.set(st.tag, done + n);
      inflight++;
      void request(`http://127.0.0.1:${apiPort}/api/orgs/${st.orgId}/audit-events`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${st.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      })
        .then(async (res) => {
          await res.body.text();
          if (res.statusCode !== 200) errors++;
        })
        .catch(() => errors++)
        .finally(() => inflight--);
    }
    await sleep(50);
  }
  await agent.close();
  return { sent, measured, windowEvents, errors };
}

/** Latencies (receipt minus send, ms, sorted) of the given events at every receiver key listed. */
function latencies(got: Map<string, Map<string, number>>, keys: string[], ids: Set<string>, sent: Map<string, number>): { lat: number[]; missing: number } {
  const lat: number[] = [];
  let missing = 0;
  for (const key of keys) {
    const m = got.get(key) ?? new Map<string, number>();
    for (const id of ids) {
      const at = m.get(id);
      if (at === undefined) missing++;
      else lat.push(at - sent.get(id)!);
    }
  }
  return { lat: lat.sort((a, b) => a - b), missing };
}

/** Collects first receipts per receiver key while latency mode is on. */
function collectReceipts(): Map<string, Map<string, number>> {
  const got = new Map<string, Map<string, number>>();
  receiver.reset();
  receiver.latency(true, (items) => {
    for (const [key, id, at] of items) {
      let m = got.get(key);
      if (!m) got.set(key, (m = new Map()));
      if (!m.has(id)) m.set(id, at);
    }
  });
  return got;
}

async function awaitReceipts(got: Map<string, Map<string, number>>, keys: string[], ids: Set<string>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !keys.every((k) => [...ids].every((id) => got.get(k)?.has(id)))) await sleep(250);
}

const summary = (lat: number[], missing: number) => ({
  n: lat.length + missing,
  received: lat.length,
  p50: pctl(lat, 50),
  p99: pctl(lat, 99),
  max: lat[lat.length - 1] ?? NaN,
});

interface IsolationResult {
  scenario: string;
  params: Record<string, number>;
  figures: Record<string, unknown>;
  cores: Cores;
  cpuUsPerEvent: Record<string, number>;
  loadavg1: number;
  apiErrors: number;
}

/** noisy: 50 destinations that accept and never answer beside 10 healthy ones; the healthy ones' latency. */
async function noisyScenario(seconds: number): Promise<IsolationResult> {
  const rate = 10;
  log(`noisy: 50 hanging + 10 healthy destinations, ${rate} events/s for ${seconds} s`);
  await resetDatabase(db, migrateWith);
  const org = await createBareOrg(db, 'noisy');
  const healthy = Array.from({ length: 10 }, (_, i) => `healthy${i}`);
  // The silent SIEMs on another origin than the healthy ones, as different customers' SIEMs are: the
  // outbound client keeps 16 connections per origin, shared by every destination on that origin.
  await createBenchDestinations(
    db,
    org.orgId,
    receiver.port,
    Array.from({ length: 50 }, (_, i) => `/hang${i}/hook`),
    true,
    '127.0.0.1',
  );
  await createBenchDestinations(
    db,
    org.orgId,
    receiver.port,
    healthy.map((h) => `/${h}/hook`),
  );
  const api = await startService('api');
  const worker = await startService('worker');
  const got = collectReceipts();
  const cpu = meter({ api: () => [api.proc.pid!], worker: () => [worker.proc.pid!], receiver: () => [receiver.proc.pid!], bench: () => [process.pid] });
  const load = await pacedLoad(api.port, [{ ...org, rate, tag: 'nsy' }], seconds, async () => {
    await resetStatementStats();
    await cpu.begin();
  });
  const cores = await cpu.end();
  // What the silent destinations cost Postgres (claims, settles of timeouts, breaker updates).
  const statements = await topStatements(load.windowEvents, 12);
  const ids = load.measured.get('nsy')!;
  await awaitReceipts(got, healthy, ids);
  receiver.latency(false);
  const { lat, missing } = latencies(got, healthy, ids, load.sent);
  const inFlight = await metricValue(worker.port, 'aegis_delivery_requests_in_flight');
  await Promise.all([stopProc(api.proc), stopProc(worker.proc)]);
  const r: IsolationResult = {
    scenario: 'noisy',
    params: { seconds, rate, hanging: 50, healthy: 10 },
    figures: { healthyLatencyMs: summary(lat, missing), workerRequestsInFlightAtEnd: inFlight, statements },
    cores,
    cpuUsPerEvent: cpuPerEvent(cores, cpu.windowSeconds, load.windowEvents),
    loadavg1: round(loadavg()[0]!, 2),
    apiErrors: load.errors,
  };
  log(`noisy: ${JSON.stringify(r)}`);
  return r;
}

/** fairness: org A drains a large backlog while org B records 50 events/s; B's latency, A's drain rate. */
async function fairnessScenario(backlog: number, seconds: number): Promise<IsolationResult> {
  const rateB = 50;
  log(`fairness: org A backlog ${backlog.toLocaleString('en-US')} events, org B ${rateB} events/s for ${seconds} s`);
  await resetDatabase(db, migrateWith);
  const a = await createBareOrg(db, 'fairness A');
  const b = await createBareOrg(db, 'fairness B');
  const [destA] = await createBenchDestinations(db, a.orgId, receiver.port, ['/orgA/hook'], false);
  await createBenchDestinations(db, b.orgId, receiver.port, ['/orgB/hook']);
  await seedBacklog(db, a.orgId, [destA!], backlog);
  const api = await startService('api');
  const worker = await startService('worker');
  const got = collectReceipts();
  const cpu = meter({ api: () => [api.proc.pid!], worker: () => [worker.proc.pid!], receiver: () => [receiver.proc.pid!], bench: () => [process.pid] });
  let aAtBegin = 0;
  await db.query(`UPDATE destinations SET enabled = true WHERE id = $1`, [destA]);
  await db.query(`SELECT pg_notify('aegis_jobs', '')`);
  const t0 = Date.now();
  const load = await pacedLoad(api.port, [{ ...b, rate: rateB, tag: 'fab' }], seconds, async () => {
    aAtBegin = (await receiver.stats()).counts.orgA ?? 0;
    await cpu.begin();
  });
  const cores = await cpu.end();
  const aInWindow = ((await receiver.stats()).counts.orgA ?? 0) - aAtBegin;
  const ids = load.measured.get('fab')!;
  await awaitReceipts(got, ['orgB'], ids);
  receiver.latency(false);
  const { lat, missing } = latencies(got, ['orgB'], ids, load.sent);
  await Promise.all([stopProc(api.proc), stopProc(worker.proc)]);
  const windowS = cpu.windowSeconds;
  const r: IsolationResult = {
    scenario: 'fairness',
    params: { backlog, seconds, rateB },
    figures: {
      orgBLatencyMs: summary(lat, missing),
      orgADrainEventsPerSecond: round(aInWindow / windowS),
      orgADeliveredInWindow: aInWindow,
      orgABacklogLeft: Math.max(0, backlog - ((await receiver.stats()).counts.orgA ?? 0)),
      elapsedS: round((Date.now() - t0) / 1000, 1),
    },
    cores,
    // Per event delivered in the window, both orgs together.
    cpuUsPerEvent: cpuPerEvent(cores, windowS, aInWindow + load.windowEvents),
    loadavg1: round(loadavg()[0]!, 2),
    apiErrors: load.errors,
  };
  log(`fairness: ${JSON.stringify(r)}`);
  return r;
}

/**
 * many: one busy destination at `rate` events/s, first alone, then beside `quiet` configured, enabled
 * destinations of other organizations that never get an event (bulk-inserted: 10 per organization).
 */
async function manyScenario(quiet: number, rate: number, seconds: number): Promise<IsolationResult> {
  const runs: Record<
    string,
    {
      latencyMs: ReturnType<typeof summary>;
      postgresUsPerEvent: number;
      cpuUsPerEvent: Record<string, number>;
      cores: Cores;
      statements: StatementStat[] | null;
      /** Updates in the window per table, and how many of them were not HOT. */
      updates: Record<string, { updates: number; notHot: number }>;
    }
  > = {};
  let lastCores: Cores = {};
  let lastUs: Record<string, number> = {};
  let errors = 0;
  for (const configured of [1, quiet + 1]) {
    log(`many: 1 busy destination at ${rate} events/s for ${seconds} s, ${configured.toLocaleString('en-US')} destinations configured`);
    await resetDatabase(db, migrateWith);
    const org = await createBareOrg(db, 'many busy');
    await createBenchDestinations(db, org.orgId, receiver.port, ['/busy/hook']);
    if (configured > 1) {
      await db.query(`INSERT INTO orgs (id, name) SELECT 'org_quiet' || g, 'quiet' FROM generate_series(1, ceil($1::numeric / 10)::int) g`, [quiet]);
      await db.query(
        `INSERT INTO destinations (org_id, id, siem, url, enabled)
         SELECT 'org_quiet' || (1 + (g - 1) / 10), 'fwd_quiet' || g, 'custom', $2, true FROM generate_series(1, $1::int) g`,
        [quiet, `https://localhost:${receiver.port}/quiet/hook`],
      );
      await db.exec('VACUUM (ANALYZE) destinations');
    }
    const api = await startService('api');
    const worker = await startService('worker');
    const got = collectReceipts();
    const cpu = meter({ api: () => [api.proc.pid!], worker: () => [worker.proc.pid!], receiver: () => [receiver.proc.pid!], bench: () => [process.pid] });
    // Per case, so the two cases' statements can be compared (what grows with the quiet destinations).
    let updatesAtBegin: Record<string, { upd: number; hot: number }> = {};
    const load = await pacedLoad(api.port, [{ ...org, rate, tag: configured > 1 ? 'mny' : 'one' }], seconds, async () => {
      await resetStatementStats();
      updatesAtBegin = await tableUpdates();
      await cpu.begin();
    });
    const cores = await cpu.end();
    const statements = await topStatements(load.windowEvents, 12);
    // Table statistics reach the view up to a second after their transaction: wait that out.
    await new Promise((r) => setTimeout(r, 1500));
    const updatesAtEnd = await tableUpdates();
    const updates = Object.fromEntries(
      Object.entries(updatesAtEnd).map(([t, e]) => {
        const b = updatesAtBegin[t] ?? { upd: 0, hot: 0 };
        return [t, { updates: e.upd - b.upd, notHot: e.upd - b.upd - (e.hot - b.hot) }];
      }),
    );
    const ids = load.measured.get(configured > 1 ? 'mny' : 'one')!;
    await awaitReceipts(got, ['busy'], ids);
    receiver.latency(false);
    const { lat, missing } = latencies(got, ['busy'], ids, load.sent);
    await Promise.all([stopProc(api.proc), stopProc(worker.proc)]);
    const us = cpuPerEvent(cores, cpu.windowSeconds, load.windowEvents);
    runs[String(configured)] = {
      latencyMs: summary(lat, missing),
      postgresUsPerEvent: round(us.postgres ?? NaN),
      cpuUsPerEvent: us,
      cores,
      statements,
      updates,
    };
    lastCores = cores;
    lastUs = us;
    errors += load.errors;
  }
  const r: IsolationResult = {
    scenario: 'many',
    params: { quiet, rate, seconds },
    figures: { byConfiguredDestinations: runs },
    cores: lastCores,
    cpuUsPerEvent: lastUs,
    loadavg1: round(loadavg()[0]!, 2),
    apiErrors: errors,
  };
  log(`many: ${JSON.stringify(r)}`);
  return r;
}

interface ApiNoisyRun {
  /** AEGIS_API_MAX_CONCURRENT_PER_ORG as the API ran: 'default' (not set) or the value given. */
  gate: string;
  bAlone: QuietResult;
  bFlooded: QuietResult;
  /** A's requests answered (any status) and events recorded per second, in B's flooded window. */
  aRequestsPerS: number;
  aEventsPerS: number;
  /** A's answers by status code, the whole flood (its 3 s start and its stop included). */
  aCodes: Record<string, number>;
  /** 429s: A's (whole flood), B's (both windows), and the API's own count (aegis_api_requests_refused_total; null without it). */
  refused: { a: number; b: number; api: number | null };
  cores: Cores;
  /** CPU µs per event A recorded in B's flooded window (B's few requests ride along). */
  cpuUsPerAEvent: Record<string, number>;
  statements: StatementStat[] | null;
  loadavg1: number;
}

interface ApiNoisyResult {
  clients: number;
  records: number;
  seconds: number;
  runs: ApiNoisyRun[];
  cpuPressure: number | null;
}

/**
 * api-noisy: org A floods POST /audit-events (`clients` connections, `records` records each, posting
 * again as soon as answered) while org B, one client, sends a preflight and lists its destinations
 * 50 ms apart. B's times alone, then under the flood, and A's rate; run with the per-organization
 * admission gate as configured (default) and with it off, the API restarted between on the same
 * database. No worker: what is measured is the API's event loop, shared by every organization.
 */
async function apiNoisyScenario(clients: number, records: number, seconds: number): Promise<ApiNoisyResult> {
  log(`api-noisy: org A ${clients} clients x ${records} records, org B preflight + list; ${seconds} s alone and ${seconds} s flooded, gate on and off`);
  await resetDatabase(db, migrateWith);
  const a = await createBareOrg(db, 'api-noisy A');
  const b = await createBareOrg(db, 'api-noisy B');
  // B's list has a row to read; disabled, and A has none: nothing is queued, no worker runs.
  await createBenchDestinations(db, b.orgId, receiver.port, ['/apinoisyB/hook'], false);
  // A value in the bench's own environment reaches the API (serviceEnv) and is what "default" runs.
  const gates = [process.env.AEGIS_API_MAX_CONCURRENT_PER_ORG ?? 'default', '0'];
  const runs: ApiNoisyRun[] = [];
  for (const gate of gates) {
    const api = await startService('api', gate === 'default' ? {} : { AEGIS_API_MAX_CONCURRENT_PER_ORG: gate });
    try {
      await quietClient(api.port, b, 2); // warm-up (JIT, connections)
      const bAlone = await quietClient(api.port, b, seconds);
      const flood = startFlood(api.port, a, clients, records);
      let bFlooded: QuietResult;
      let cores: Cores;
      let aRequests: number;
      let aEvents: number;
      let statements: StatementStat[] | null;
      const cpu = meter({ api: () => [api.proc.pid!], bench: () => [process.pid] });
      try {
        // Every connection busy and the queue (if any) built before B's window starts.
        await sleep(3000);
        await resetStatementStats();
        await cpu.begin();
        const r0 = flood.requests();
        const e0 = flood.events();
        bFlooded = await quietClient(api.port, b, seconds);
        cores = await cpu.end();
        aRequests = flood.requests() - r0;
        aEvents = flood.events() - e0;
        statements = await topStatements(aEvents);
      } finally {
        await flood.stop();
      }
      const aCodes = flood.codes();
      const run: ApiNoisyRun = {
        gate,
        bAlone,
        bFlooded,
        aRequestsPerS: round(aRequests / cpu.windowSeconds, 1),
        aEventsPerS: round(aEvents / cpu.windowSeconds),
        aCodes,
        refused: {
          a: aCodes['429'] ?? 0,
          b: (bAlone.codes['429'] ?? 0) + (bFlooded.codes['429'] ?? 0),
          api: await apiRefusals(api.port),
        },
        cores,
        cpuUsPerAEvent: cpuPerEvent(cores, cpu.windowSeconds, aEvents),
        statements,
        loadavg1: round(loadavg()[0]!, 2),
      };
      log(`api-noisy: ${JSON.stringify({ ...run, statements: undefined })}`);
      runs.push(run);
    } finally {
      await stopProc(api.proc);
    }
  }
  return { clients, records, seconds, runs, cpuPressure: cpuPressure() };
}

/** One unlabelled gauge's value from a process's /metrics (sum over its series), or null. */
async function metricValue(port: number, name: string): Promise<number | null> {
  try {
    const res = await request(`http://127.0.0.1:${port}/metrics`);
    const text = await res.body.text();
    const values = text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .map((l) => Number(l.split(' ').pop()));
    return values.length ? values.reduce((x, y) => x + y, 0) : null;
  } catch {
    return null;
  }
}

// ---- main ---------------------------------------------------------------------------------------
async function main() {
  const m = machine();
  const started = new Date();
  log(`CPU pressure (PSI some avg10): ${cpuPressure() ?? 'n/a'}%`);
  log(
    `machine: ${m.nproc} CPUs (${availableParallelism()} available), ${m.memGiB} GiB, ${m.cpu}; load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  log(`scenarios: ${[...scenarios].join(', ')}${quick ? ' (quick)' : ''}`);
  // Detection is pure CPU in this process: it runs first, and alone needs no database or service.
  const detection = scenarios.has('detection') ? detectionScenario() : null;
  if (detection) log(`detection: ${JSON.stringify({ ...detection, perType: undefined })}`);
  if (scenarios.size === 1 && detection) {
    mkdirSync(`${ROOT}bench/results`, { recursive: true });
    const out = argv.find((a, i) => argv[i - 1] === '--out') ?? 'detection-latest';
    writeFileSync(
      `${ROOT}bench/results/${out}.json`,
      JSON.stringify({ machine: m, date: started.toISOString(), node: process.version, detection }, null, 2) + '\n',
    );
    printTable({
      machine: m,
      date: started.toISOString(),
      detection,
      latency: [],
      drain: [],
      ingest: null,
      rss: null,
      baseline: null,
      scale: { drain: [], latency: null },
      replay: null,
      retention: null,
    });
    return;
  }
  // Retention drives pruneOnce itself: no service process to build for it.
  if (runtime === 'built' && [...scenarios].some((x) => x !== 'detection' && x !== 'retention')) {
    buildService({ root: ROOT, buildDir: BUILD_DIR, srcRev, log });
    // That commit's schema too: its migrations, applied by its own code (until 2026-12-01 the
    // working tree's were, so a before/after across a migration measured the new schema twice).
    // --tree-migrations keeps the working tree's, for a commit whose schema today's bench setup
    // cannot fill (e9f0cb9, before destinations had deleted_at).
    if (srcRev && !argv.includes('--tree-migrations')) migrateWith = ((await import(`${BUILD_DIR}/dist/db/migrate.js`)) as { migrate: Migrate }).migrate;
  }
  await ensureDatabase();
  admin = await benchClient();
  await enableStatementStats();
  db = openBenchDb();
  receiver = await startReceiver();
  // Only for scenarios that send to it: replay and retention deliver nothing.
  if ([...scenarios].some((x) => !SEND_NOTHING.includes(x))) await warmReceiver(receiver);
  mkdirSync(`${ROOT}bench/results`, { recursive: true });

  const results: {
    machine: ReturnType<typeof machine>;
    date: string;
    quick: boolean;
    node: string;
    runtime: string;
    srcRev: string;
    postgres: string;
    latency: LatencyResult[];
    drain: DrainResult[];
    ingest: IngestResult | null;
    rss: DrainResult | null;
    baseline: BaselineResult | null;
    scale: { drain: DrainResult[]; latency: LatencyResult | null };
    replay: ReplayBenchResult | null;
    retention: RetentionResult | null;
    detection: DetectionResult | null;
    isolation: IsolationResult[];
    idle: IdleResult | null;
    apiNoisy: ApiNoisyResult | null;
    loadavg: number[];
  } = {
    machine: m,
    date: started.toISOString(),
    quick,
    node: process.version,
    runtime,
    srcRev: srcRev ?? `working tree at ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim()}`,
    postgres: (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v,
    latency: [],
    drain: [],
    ingest: null,
    rss: null,
    baseline: null,
    scale: { drain: [], latency: null },
    replay: null,
    retention: null,
    detection,
    isolation: [],
    idle: null,
    apiNoisy: null,
    loadavg: loadavg(),
  };
  const out = argv.find((a, i) => argv[i - 1] === '--out') ?? `${quick ? 'quick' : 'full'}-latest`;
  const save = () => writeFileSync(`${ROOT}bench/results/${out}.json`, JSON.stringify(results, null, 2) + '\n');

  try {
    if (scenarios.has('latency')) results.latency.push(await latencyScenario(1));
    save();
    if (scenarios.has('drain')) for (const p of PRESETS) results.drain.push(await drainScenario(p, SIZES.drainEvents, 1));
    save();
    if (scenarios.has('ingest')) results.ingest = await ingestScenario();
    save();
    if (scenarios.has('rss')) results.rss = await drainScenario('splunk_hec', SIZES.rssEvents, 1);
    save();
    if (scenarios.has('baseline')) results.baseline = await baselineScenario(SIZES.baselineEvents);
    save();
    if (scenarios.has('scale')) {
      for (const p of ['splunk_hec', 'custom'] as SiemId[]) results.scale.drain.push(await drainScenario(p, SIZES.drainEvents, 2));
      results.scale.latency = await latencyScenario(2);
    }
    save();
    if (scenarios.has('replay')) results.replay = await replayScenario(REPLAY_EVENTS);
    save();
    if (scenarios.has('retention')) results.retention = await retentionScenario(REPLAY_EVENTS);
    if (scenarios.has('noisy')) results.isolation.push(await noisyScenario(ISO.seconds));
    save();
    if (scenarios.has('fairness')) results.isolation.push(await fairnessScenario(ISO.fairnessEvents, ISO.seconds));
    save();
    if (scenarios.has('many')) results.isolation.push(await manyScenario(ISO.manyDestinations, ISO.manyRate, ISO.seconds));
    save();
    if (scenarios.has('idle')) results.idle = await idleScenario(IDLE_SECONDS);
    save();
    if (scenarios.has('api-noisy')) results.apiNoisy = await apiNoisyScenario(API_NOISY.clients, API_NOISY.records, ISO.seconds);
    save();
  } finally {
    receiver.proc.disconnect();
    await db.close();
    await admin.end();
    rmSync(BUILD_DIR, { recursive: true, force: true });
  }
  printTable(results);
  for (const r of results.isolation) printIsolation(r);
}

function printIsolation(r: IsolationResult): void {
  const lines = [
    `\n${r.scenario} (${Object.entries(r.params)
      .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
      .join(', ')})`,
  ];
  for (const [k, v] of Object.entries(r.figures)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
  lines.push(`  cores: ${fmtCores(r.cores)}`, `  CPU us/event: ${fmtUs(r.cpuUsPerEvent)}`, `  load ${r.loadavg1}, API errors ${r.apiErrors}`);
  process.stdout.write(lines.join('\n') + '\n');
}

function printTable(r: {
  machine: ReturnType<typeof machine>;
  date: string;
  latency: LatencyResult[];
  drain: DrainResult[];
  ingest: IngestResult | null;
  rss: DrainResult | null;
  baseline: BaselineResult | null;
  scale: { drain: DrainResult[]; latency: LatencyResult | null };
  replay: ReplayBenchResult | null;
  retention: RetentionResult | null;
  detection: DetectionResult | null;
  idle?: IdleResult | null;
  apiNoisy?: ApiNoisyResult | null;
}) {
  const rows: string[][] = [];
  const add = (metric: string, value: string, goal: string, cores: string, us = '') => rows.push([metric, value, goal, cores, us]);
  if (r.detection) for (const [metric, value, goal] of detectionRows(r.detection)) add(metric!, value!, goal!, '1 (this process)');
  for (const l of [...r.latency, ...(r.scale.latency ? [r.scale.latency] : [])]) {
    for (const [preset, s] of Object.entries(l.perPreset)) {
      add(
        `latency ${preset}, ${l.rate}/s for ${l.seconds} s, ${l.workers} worker(s)`,
        `p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms (${s.received}/${s.n} received; measured after ${l.warmupSeconds} s; slowest by second from the start: ${s.worstBySecond.slice(0, 10).join(', ')} ms)`,
        'p50 < 250 ms, p99 < 1 s',
        fmtCores(l.cores),
        fmtUs(l.cpuUsPerEvent) + fmtCounts(l.countsPerEvent),
      );
    }
  }
  const drains = [...r.drain, ...r.scale.drain];
  for (const d of drains) {
    add(
      `drain ${LABEL[d.preset]}, ${d.events.toLocaleString('en-US')} events, ${d.workers} worker(s)`,
      `${d.rate.toLocaleString('en-US')} events/s (${d.seconds} s${d.complete ? '' : ', INCOMPLETE'}), RSS peak ${d.workerPeakRssMiB} MiB`,
      d.preset === 'custom' ? '-' : '>= 20,000/s',
      fmtCores(d.cores),
      fmtUs(d.cpuUsPerEvent) + fmtCounts(d.countsPerEvent),
    );
  }
  if (r.ingest) {
    add(
      'ingest POST /audit-events (1,000/batch, 4 concurrent)',
      `${r.ingest.auditEventsPerS.toLocaleString('en-US')} events/s`,
      '-',
      fmtCores(r.ingest.auditCores),
      fmtUs(r.ingest.auditCpuUsPerEvent),
    );
    add(
      `ingest POST /audit-events, ${BENCH_FILTERS.length} more destinations with filters`,
      `${r.ingest.filteredAuditEventsPerS.toLocaleString('en-US')} events/s (filter evaluation ${r.ingest.filterRouteUsPerEventPerFilter} µs per event per filter)`,
      '-',
      fmtCores(r.ingest.filteredAuditCores),
      fmtUs(r.ingest.filteredAuditCpuUsPerEvent),
    );
    add(
      'ingest POST /preflight (16 concurrent)',
      `${r.ingest.preflightPerS.toLocaleString('en-US')} requests/s`,
      '-',
      fmtCores(r.ingest.preflightCores),
      fmtUs(r.ingest.preflightCpuUsPerEvent),
    );
  }
  if (r.rss) {
    add(
      `worker RSS draining ${r.rss.events.toLocaleString('en-US')} (${LABEL[r.rss.preset]})`,
      `VmRSS peak ${r.rss.workerPeakRssMiB} MiB (anonymous ${r.rss.workerPeakAnonMiB} MiB), VmHWM ${r.rss.workerHwmMiB} MiB; ${r.rss.rate.toLocaleString('en-US')} events/s`,
      '< 256 MB',
      fmtCores(r.rss.cores),
      fmtUs(r.rss.cpuUsPerEvent),
    );
  }
  if (r.baseline) {
    const b = r.baseline;
    add(
      `baseline pg-boss + fetch, ${b.events.toLocaleString('en-US')} events`,
      `${b.rate.toLocaleString('en-US')} events/s (${b.seconds} s${b.complete ? '' : ', INCOMPLETE'})`,
      '-',
      fmtCores(b.cores),
      fmtUs(b.cpuUsPerEvent),
    );
    for (const d of drains.filter((x) => x.workers === 1)) {
      const byCpu = b.cpuUsPerEvent.total && d.cpuUsPerEvent.total ? `, ${round(b.cpuUsPerEvent.total / d.cpuUsPerEvent.total, 1)}x by CPU per event` : '';
      add(`ratio ${LABEL[d.preset]} / baseline`, `${round(d.rate / b.rate, 1)}x by rate${byCpu}`, d.preset === 'custom' ? '-' : '>= 10x', '');
    }
  }
  if (r.replay) {
    const p = r.replay;
    add(
      `range replay of ${p.events.toLocaleString('en-US')} recorded events (background, 1 worker)`,
      `${p.rate.toLocaleString('en-US')} events/s (${p.seconds} s${p.complete ? '' : ', INCOMPLETE'}; answered ${p.status} in ${p.answerMs} ms)`,
      '-',
      fmtCores(p.cores),
      fmtUs(p.cpuUsPerEvent),
    );
  }
  for (const p of r.retention?.runs ?? []) {
    add(
      `retention ${r.retention!.retentionDays} days of ${p.events.toLocaleString('en-US')} events over ${RETENTION_HISTORY_DAYS} days (batch ${r.retention!.batch.toLocaleString('en-US')})`,
      `${p.deleted.events.toLocaleString('en-US')} events (${p.deleted.jobs.toLocaleString('en-US')} jobs, ${p.deleted.attempts.toLocaleString('en-US')} log rows) in ${p.passes} passes; pass median ${p.passMs.median} ms, p95 ${p.passMs.p95} ms`,
      'flat across sizes',
      fmtCores(p.cores),
      fmtUs(p.cpuUsPerEvent),
    );
  }
  if (r.idle) {
    const ms = r.idle.cpuMsPerSecond;
    add(
      `idle API and worker (${r.idle.seconds} s, after ${r.idle.settleSeconds} s)`,
      Object.entries(ms)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') + ' ms of CPU per second',
      '-',
      '',
    );
  }
  for (const run of r.apiNoisy?.runs ?? []) {
    const q = (s: QuietResult['preflightMs']) => `${s.p50}/${s.p99}`;
    add(
      `api-noisy: org A ${r.apiNoisy!.clients} clients x ${r.apiNoisy!.records} records, AEGIS_API_MAX_CONCURRENT_PER_ORG ${run.gate}`,
      `org B p50/p99 alone, flooded: preflight ${q(run.bAlone.preflightMs)}, ${q(run.bFlooded.preflightMs)} ms; list ${q(run.bAlone.listMs)}, ${q(run.bFlooded.listMs)} ms; A ${run.aRequestsPerS} requests/s; 429s: A ${run.refused.a}, B ${run.refused.b}`,
      '-',
      fmtCores(run.cores),
      fmtUs(run.cpuUsPerAEvent),
    );
  }
  const header = ['metric', 'measured', 'goal', 'cores used', 'CPU µs per event'];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${r.machine.nproc} CPUs, ${r.machine.memGiB} GiB, ${r.machine.cpu}; ${r.date}\n`);
  process.stdout.write([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n');
}

main().catch((err: unknown) => {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
