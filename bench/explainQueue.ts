// `BENCH_DB=aegis_explain npx tsx bench/explainQueue.ts [--events N] [--claim N] [--rounds N]`
//
// The plans of the worker's own claim and settle statements, as the service runs them: a backlog of
// N events for one destination is seeded (as the drain scenario does), then claimJobs and settleClaim
// (src/queue) are called on one connection with auto_explain on, so every statement's
// EXPLAIN (ANALYZE, BUFFERS, WAL) comes back as a NOTICE and is printed. Rounds after the first show
// the steady state (dead index entries of the previous claims included). Uses BENCH_ADMIN_URL /
// BENCH_DB like the bench; the database is reset first.
import { randomUUID } from 'node:crypto';
import { claimJobs } from '../src/queue/claimJobs.js';
import { settleClaim } from '../src/queue/settleJobs.js';
import { numArg } from './lib/args.js';
import { seedDirectQueue } from './lib/queueDirect.js';

const argv = process.argv.slice(2);
const events = numArg(argv, '--events', 20_000);
const claimSize = numArg(argv, '--claim', 1000);
const rounds = numArg(argv, '--rounds', 3);

async function main() {
  const { client: c, q, orgId, destinationId: dest, configVersion } = await seedDirectQueue('splunk_hec', events);
  c.on('notice', (n) => {
    if (/Query Text/.test(n.message ?? '')) process.stdout.write(`${n.message}\n\n`);
  });
  await c.query(`LOAD 'auto_explain'`);
  for (const s of ['log_min_duration = 0', 'log_analyze = on', 'log_buffers = on', 'log_wal = on', 'log_timing = on', "log_level = 'notice'"]) {
    await c.query(`SET auto_explain.${s}`);
  }
  for (let r = 1; r <= rounds; r++) {
    process.stdout.write(`==== round ${r}: claim ${claimSize}, settle them delivered ====\n`);
    const claimId = randomUUID();
    const jobs = await claimJobs(q, { orgId, destinationId: dest, limit: claimSize, leaseMs: 30_000, claimId, configVersion });
    await settleClaim(q, {
      orgId,
      claimId,
      outcomes: jobs.map((j) => ({ id: j.id, outcome: 'done' as const })),
      report: {
        destinationId: dest,
        attempts: [
          {
            orgId,
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
