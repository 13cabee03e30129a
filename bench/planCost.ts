// `npx tsx bench/planCost.ts --dist DIR [--preset splunk_hec|custom] [--events N] [--repeat N]`
//
// The worker's own CPU per event between a claim's rows and its requests' bodies, without a network,
// a database or another process: what a lane does with a claim once its rows are read (make the
// claimed jobs, plan the claim, encode each request; gzip for the presets that send it). DIR is a
// compiled service (`dist/` of `npm run build`, or of a git worktree of another revision built with
// `npx tsc -p tsconfig.build.json`), so two revisions are compared on the same events, alternated. Busy machines make the run slower but hardly change CPU time.
// The events are the latency scenario's records (bench/lib/setup.ts agentRecord), built and stored as
// the API builds them.
import { gzipSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildWireEvent, fieldsFromAgentRecord, type AgentDecisionRecord } from '../src/events/contract.js';
import type { ClaimedJob } from '../src/queue/types.js';
import { isSiemId } from '../src/siem/catalog.js';
import type { EncodeContext } from '../src/siem/types.js';
import { numArg, stringArg } from './lib/args.js';
import { agentRecord } from './lib/setup.js';

const argv = process.argv.slice(2);
const DIST = resolve(stringArg(argv, '--dist') ?? 'dist');
const PRESET = stringArg(argv, '--preset') ?? 'splunk_hec';
if (!isSiemId(PRESET)) throw new Error(`--preset: not a preset: ${PRESET}`);
const EVENTS = numArg(argv, '--events', 100_000);
const REPEAT = numArg(argv, '--repeat', 3);

/** A claimed job as the claim makes it; a revision from before StoredEvent also took the parsed payload. */
type Job = ClaimedJob & { payload?: unknown };
type ClaimPlanModule = typeof import('../src/delivery/claimPlan.js');
type RegistryModule = typeof import('../src/siem/registry.js');

// Typed by this checkout's modules; another revision's have the same shape where this script uses them.
const { planClaim } = (await import(`${DIST}/delivery/claimPlan.js`)) as ClaimPlanModule;
const { getEncoder } = (await import(`${DIST}/siem/registry.js`)) as RegistryModule;
// Before StoredEvent (2026-12-02) the claim parsed every payload into the job.
const parses = !existsSync(`${DIST}/siem/storedEvent.js`);

/** Event `g` as the API stores it: the latency scenario's record, made a wire event by the API's own code. */
function text(g: number, now: Date): string {
  const record = agentRecord(`pflt_bench${String(g).padStart(19, '0')}`, g) as unknown as AgentDecisionRecord;
  return JSON.stringify(buildWireEvent({ orgId: 'org_bench', ...fieldsFromAgentRecord(record, now) }));
}

const texts = Array.from({ length: EVENTS }, (_, g) => text(g + 1, new Date(Date.now() - 1000)));
const encoder = getEncoder(PRESET);
const claimSize = encoder.maxBatchEvents === 1 ? 64 : 1000;
const ctx: EncodeContext = { hostname: 'aegis-bench', userAgent: 'aegis-bench', options: {}, format: 'ecs' };

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
      shedSince: null,
      shedDueAt: null,
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
