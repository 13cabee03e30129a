// `npx tsx bench/planCost.ts --dist DIR [--preset splunk_hec|custom] [--events N] [--repeat N]`
//
// The worker's own CPU per event between a claim's rows and its requests' bodies, without a network,
// a database or another process: what a lane does with a claim once its rows are read (make the
// claimed jobs, plan the claim, encode each request; gzip for the presets that send it). DIR is a
// compiled service (`dist/` of `npm run build`, or of a bench build of another revision, which the
// bench leaves in /tmp/aegis-bench-build-*/dist), so two revisions are compared on the same events,
// alternated in one process's turn. Busy machines make the run slower but hardly change CPU time.
// The events are the drain's (bench/lib/setup.ts), as text in the API's form.
import { gzipSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { numArg, stringArg } from './lib/args.js';

const argv = process.argv.slice(2);
const DIST = resolve(stringArg(argv, '--dist') ?? 'dist');
const PRESET = stringArg(argv, '--preset') ?? 'splunk_hec';
const EVENTS = numArg(argv, '--events', 100_000);
const REPEAT = numArg(argv, '--repeat', 3);

interface Job {
  id: number;
  orgId: string;
  eventId: string;
  attempts: number;
  createdAt: Date;
  farewell: boolean;
  payload?: unknown;
  payloadJson: string;
  claimedAt: Date;
}
type Planner = (jobs: Job[], encoder: unknown, ctx: unknown, now: number) => { groups: unknown[][] };
interface Encoder {
  maxBatchEvents: number;
  gzip: boolean;
  encode(events: unknown[], ctx: unknown): { body: string };
}

const { planClaim } = (await import(`${DIST}/delivery/claimPlan.js`)) as { planClaim: Planner };
const { getEncoder } = (await import(`${DIST}/siem/registry.js`)) as { getEncoder: (id: string) => Encoder };
// Before StoredEvent (2026-12-02) the claim parsed every payload into the job.
const parses = !existsSync(`${DIST}/siem/storedEvent.js`);

function text(g: number): string {
  const dec = ['ALLOWED', 'ALLOWED_WITH_MASKING', 'ALLOWED_WITH_MASKING', 'BLOCKED'][g % 4]!;
  const id = `pflt_bench${String(g).padStart(19, '0')}`;
  return JSON.stringify({
    '@timestamp': new Date(Date.now() - 1000).toISOString().replace('Z', '000+00:00'),
    event: {
      id,
      kind: 'event',
      category: ['aegis', 'preflight'],
      type: [dec.toLowerCase()],
      action: 'preflight_check',
      outcome: dec === 'BLOCKED' ? 'failure' : 'success',
      dataset: 'aegis.preflight',
    },
    aegis: {
      preflight_id: id,
      decision: dec,
      destination: 'AI_TOOL',
      summary: dec === 'ALLOWED' ? 'No sensitive data detected.' : dec === 'BLOCKED' ? 'Detected AWS access key; blocked.' : 'Detected SSN; masked.',
      policy_version: 'v1.0',
      policy_id: 'pol_xyz',
      source_type: 'api',
      input_type: 'text',
      input_size_bytes: 200 + (g % 800),
      finding_counts_by_type: dec === 'ALLOWED' ? {} : dec === 'BLOCKED' ? { AWS_ACCESS_KEY: 1 } : { SSN: 1, EMAIL: 2 },
      actor_id: `user${g % 5000}@example.com`,
    },
    organization: { id: 'org_bench' },
  });
}

const texts = Array.from({ length: EVENTS }, (_, g) => text(g + 1));
const encoder = getEncoder(PRESET);
const claimSize = encoder.maxBatchEvents === 1 ? 64 : 1000;
const ctx = { hostname: 'aegis-bench', userAgent: 'aegis-bench', options: {}, format: 'ecs' };

function run(): { cpuUs: number; bodies: number } {
  const t0 = process.cpuUsage();
  let bodies = 0;
  for (let from = 0; from < texts.length; from += claimSize) {
    const now = Date.now();
    const jobs: Job[] = texts.slice(from, from + claimSize).map((t, i) => ({
      id: from + i,
      orgId: 'org_bench',
      eventId: `e${from + i}`,
      attempts: 0,
      createdAt: new Date(now),
      farewell: false,
      ...(parses ? { payload: JSON.parse(t) as unknown } : {}),
      payloadJson: t,
      claimedAt: new Date(now),
    }));
    const plan = planClaim(jobs, encoder, ctx, now);
    for (const group of plan.groups) {
      const { body } = encoder.encode(group, ctx);
      bodies += encoder.gzip ? gzipSync(body).length : body.length;
    }
  }
  const used = process.cpuUsage(t0);
  return { cpuUs: used.user + used.system, bodies };
}

run(); // warm-up
const perEvent: number[] = [];
for (let r = 0; r < REPEAT; r++) perEvent.push(run().cpuUs / EVENTS);
console.log(JSON.stringify({ dist: DIST, preset: PRESET, parses, events: EVENTS, cpuUsPerEvent: perEvent.map((x) => Math.round(x * 100) / 100) }));
