// `BENCH_DB=aegis_explain npx tsx bench/explainQueue.ts [--events N] [--claim N] [--rounds N]`
//
// The plans of the worker's own claim and settle statements, as the service runs them: a backlog of
// N events for one destination is seeded (as the drain scenario does), then claimJobs and settleClaim
// (src/queue) are called on one connection with auto_explain on, so every statement's
// EXPLAIN (ANALYZE, BUFFERS, WAL) comes back as a NOTICE and is printed. Rounds after the first show
// the steady state (dead index entries of the previous claims included). Uses BENCH_ADMIN_URL /
// BENCH_DB like the bench; the database is reset first.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Queryable } from '../src/db/types.js';
import { claimJobs } from '../src/queue/claimJobs.js';
import { settleClaim } from '../src/queue/settleJobs.js';
import { BENCH_URL, createBenchOrg, ensureDatabase, openBenchDb, resetDatabase, seedBacklog } from './lib/setup.js';

const argv = process.argv.slice(2);
const num = (name: string, def: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const events = num('--events', 20_000);
const claimSize = num('--claim', 1000);
const rounds = num('--rounds', 3);

async function main() {
  await ensureDatabase();
  const db = openBenchDb();
  await resetDatabase(db);
  // Port 1: nothing is sent; only the rows matter.
  const org = await createBenchOrg(db, 1, ['splunk_hec'], false);
  const dest = org.destinations[0]!.id;
  await seedBacklog(db, org.orgId, [dest], events);
  await db.query(`UPDATE destinations SET enabled = true WHERE org_id = $1`, [org.orgId]);
  await db.close();

  const c = new pg.Client({ connectionString: BENCH_URL });
  await c.connect();
  c.on('notice', (n) => {
    if (/Query Text/.test(n.message ?? '')) process.stdout.write(`${n.message}\n\n`);
  });
  await c.query(`LOAD 'auto_explain'`);
  for (const s of ['log_min_duration = 0', 'log_analyze = on', 'log_buffers = on', 'log_wal = on', 'log_timing = on', "log_level = 'notice'"]) {
    await c.query(`SET auto_explain.${s}`);
  }
  const q: Queryable = {
    query: async <R>(text: string, values?: readonly unknown[]) => {
      const res = await c.query(text, values as unknown[]);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
    },
    exec: async (script: string) => void (await c.query(script)),
  };
  const { rows: conf } = await c.query<{ updated_at: Date }>(`SELECT updated_at FROM destinations WHERE id = $1`, [dest]);
  for (let r = 1; r <= rounds; r++) {
    process.stdout.write(`==== round ${r}: claim ${claimSize}, settle them delivered ====\n`);
    const claimId = randomUUID();
    const jobs = await claimJobs(q, { orgId: org.orgId, destinationId: dest, limit: claimSize, leaseMs: 30_000, claimId, configVersion: conf[0]!.updated_at });
    await settleClaim(q, {
      orgId: org.orgId,
      claimId,
      outcomes: jobs.map((j) => ({ id: j.id, outcome: 'done' as const })),
      retryDelaysS: [60, 120, 240],
      report: {
        destinationId: dest,
        attempts: [
          {
            orgId: org.orgId,
            destinationId: dest,
            eventCount: jobs.length,
            deliveredCount: jobs.length,
            failedCount: 0,
            statusCode: 200,
            durationMs: 5,
            error: null,
            responseSnippet: null,
          },
        ],
        last: { ok: true, error: null },
        delivered: true,
      },
    });
  }
  await c.end();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
