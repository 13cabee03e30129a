// `npx tsx bench/ingestCost.ts --dist DIR [--batches N]`
//
// The API's own CPU per event for what it does with a batch of agent records besides HTTP and the
// database: parse the body, check every record against the schema and the privacy guard (with the
// batch's memo), build each wire event and serialise the payloads as the recording statement takes
// them. DIR is a compiled service (`dist/` of `npm run build`, or of a git worktree of another
// revision built the same way), so revisions compare on the same records; the records are the latency
// scenario's (bench/lib/setup.ts agentRecord), 50 to a request as there.
import { resolve } from 'node:path';
import { numArg, stringArg } from './lib/args.js';
import { agentRecord } from './lib/setup.js';

const argv = process.argv.slice(2);
const DIST = resolve(stringArg(argv, '--dist') ?? 'dist');
const BATCHES = numArg(argv, '--batches', 400);
const PER_BATCH = 50;

type Validate = (record: unknown, path: string, memo: Map<string, unknown>) => unknown[];
type Fields = (record: unknown, now: Date) => { fields: unknown; occurredAt: Date };
type Build = (args: { orgId: string; fields: unknown; occurredAt: Date }) => unknown;
const { validateAgentRecord } = (await import(`${DIST}/events/validate.js`)) as { validateAgentRecord: Validate };
const { fieldsFromAgentRecord, buildWireEvent } = (await import(`${DIST}/events/contract.js`)) as { fieldsFromAgentRecord: Fields; buildWireEvent: Build };

const bodies = Array.from({ length: BATCHES }, (_, b) =>
  JSON.stringify({
    events: Array.from({ length: PER_BATCH }, (_, i) => agentRecord(`pflt_lat${String(b * PER_BATCH + i).padStart(19, '0')}`, b * PER_BATCH + i)),
  }),
);

function run(): number {
  const t0 = process.cpuUsage();
  for (const text of bodies) {
    const memo = new Map<string, unknown>();
    const { events } = JSON.parse(text) as { events: unknown[] };
    events.forEach((r, i) => {
      if (validateAgentRecord(r, `/events/${i}`, memo).length > 0) throw new Error(`record ${i} refused`);
    });
    const now = new Date();
    const payloads = events.map((r) => {
      const { fields, occurredAt } = fieldsFromAgentRecord(r, now);
      return buildWireEvent({ orgId: 'org_bench', fields, occurredAt });
    });
    JSON.stringify(payloads);
  }
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / (BATCHES * PER_BATCH);
}

run();
run(); // warm-up
const perEvent = [run(), run(), run()].map((x) => Math.round(x * 100) / 100);
console.log(JSON.stringify({ dist: DIST, events: BATCHES * PER_BATCH, cpuUsPerEvent: perEvent }));
