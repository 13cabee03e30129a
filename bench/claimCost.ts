// `BENCH_DB=aegis_claimcost npx tsx bench/claimCost.ts [--events N] [--repeat N]`
//
// The PostgreSQL cost of delivering a backlog, without a worker or a receiver: a backlog of N
// events for one destination is drained by calling the service's own claimJobs and settleClaim
// (src/queue) on one connection, as a lane does with every request answered 200. Measured per event:
// the backend's CPU time (/proc/<pid>/stat of the connection's backend, so a busy machine delays the
// run but hardly changes the figure), WAL bytes (pg_current_wal_lsn) and statements. Shapes:
//   custom-64-per-request: claims of 64, one delivery log row per request (the custom webhook before)
//   custom-64-compact:     claims of 64, the requests' log rows compacted (the custom webhook now)
//   custom-256-compact:    claims of 256, compacted (measured, not shipped: see docs/BENCHMARKS.md)
//   batch-1000:            claims of 1,000, one request (Splunk HEC and the other batching presets)
// Needs the bench database server on this machine (BENCH_ADMIN_URL, BENCH_DB like the bench).
import { randomUUID } from 'node:crypto';
import type { AttemptRecord } from '../src/queue/attempts.js';
import { claimJobs } from '../src/queue/claimJobs.js';
import { settleClaim } from '../src/queue/settleJobs.js';
import { numArg, stringArg } from './lib/args.js';
import { cpuSeconds } from './lib/proc.js';
import { seedDirectQueue } from './lib/queueDirect.js';

const argv = process.argv.slice(2);
const EVENTS = numArg(argv, '--events', 20_000);
const REPEAT = numArg(argv, '--repeat', 2);

interface Shape {
  name: string;
  claim: number;
  /** Log rows per claim as written before compaction (one per request) or after. */
  logRows: (jobs: number) => number;
}
const ONLY = stringArg(argv, '--shape');
const SHAPES_ALL: Shape[] = [
  { name: 'custom-64-per-request', claim: 64, logRows: (n) => n },
  { name: 'custom-64-compact', claim: 64, logRows: () => 1 },
  { name: 'custom-256-compact', claim: 256, logRows: () => 1 },
  { name: 'batch-1000', claim: 1000, logRows: () => 1 },
];
const SHAPES = ONLY ? SHAPES_ALL.filter((s) => ONLY.split(',').includes(s.name)) : SHAPES_ALL;

async function drain(shape: Shape) {
  const { client: c, q, orgId, destinationId: dest, configVersion } = await seedDirectQueue('custom', EVENTS);
  const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const lsn0 = (await c.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l;
  const cpu0 = cpuSeconds(pid) ?? 0;
  const t0 = performance.now();
  let delivered = 0;
  let statements = 0;
  for (;;) {
    const claimId = randomUUID();
    const jobs = await claimJobs(q, {
      orgId,
      destinationId: dest,
      limit: shape.claim,
      leaseMs: 60_000,
      claimId,
      configVersion,
    });
    statements++;
    if (jobs.length === 0) break;
    const rows = shape.logRows(jobs.length);
    // Rows compactAttempts would not merge (distinct status codes) stand for the old per-request log.
    const attempts: AttemptRecord[] = Array.from({ length: rows }, (_, i) => ({
      orgId,
      destinationId: dest,
      eventCount: rows === 1 ? jobs.length : 1,
      deliveredCount: rows === 1 ? jobs.length : 1,
      failedCount: 0,
      statusCode: rows === 1 ? 200 : 200 + i,
      durationMs: 3,
      error: null,
      responseSnippet: null,
    }));
    await settleClaim(q, {
      orgId,
      claimId,
      outcomes: jobs.map((j) => ({ id: j.id, outcome: 'done' as const })),
      report: { destinationId: dest, attempts, last: { ok: true, error: null }, delivered: true },
    });
    statements++;
    delivered += jobs.length;
  }
  const cpu = (cpuSeconds(pid) ?? 0) - cpu0;
  const wal = Number((await c.query<{ b: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS b', [lsn0])).rows[0]!.b);
  const logRows = Number((await c.query<{ n: number }>('SELECT count(*)::int AS n FROM delivery_attempts WHERE destination_id = $1', [dest])).rows[0]!.n);
  await c.end();
  return {
    shape: shape.name,
    delivered,
    postgresCpuUsPerEvent: Math.round((cpu * 1e6) / delivered),
    walBytesPerEvent: Math.round(wal / delivered),
    statementsPerThousandEvents: Math.round((statements * 1000) / delivered),
    logRows,
    wallS: Math.round((performance.now() - t0) / 100) / 10,
  };
}

async function main() {
  for (let r = 1; r <= REPEAT; r++) {
    for (const s of SHAPES) process.stdout.write(`${JSON.stringify({ round: r, ...(await drain(s)) })}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
