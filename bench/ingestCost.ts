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

type RecordModule = typeof import('../src/events/record.js');
type Validate = (record: unknown, path: string, memo: Map<string, unknown>) => unknown[];
type Fields = (record: unknown, now: Date) => { fields: unknown; occurredAt: Date };
type Build = (args: { orgId: string; fields: unknown; occurredAt: Date }) => unknown;

/**
 * The batch's events as the revision makes them: its own agentEvents (events/record.ts), or, for a
 * revision from before that was split out of recordAgentDecisions (2026-12-02), the same steps it
 * took there, composed here.
 */
async function eventsOfBatch(): Promise<(orgId: string, records: unknown[]) => Array<{ payload: unknown }>> {
  const { agentEvents } = (await import(`${DIST}/events/record.js`)) as Partial<RecordModule>;
  if (agentEvents) return agentEvents;
  const { validateAgentRecord } = (await import(`${DIST}/events/validate.js`)) as { validateAgentRecord: Validate };
  const { fieldsFromAgentRecord, buildWireEvent } = (await import(`${DIST}/events/contract.js`)) as { fieldsFromAgentRecord: Fields; buildWireEvent: Build };
  return (orgId, records) => {
    const memo = new Map<string, unknown>();
    records.forEach((r, i) => {
      if (validateAgentRecord(r, `/events/${i}`, memo).length > 0) throw new Error(`record ${i} refused`);
    });
    const now = new Date();
    return records.map((r) => {
      const { fields, occurredAt } = fieldsFromAgentRecord(r, now);
      return { payload: buildWireEvent({ orgId, fields, occurredAt }) };
    });
  };
}
const eventsOf = await eventsOfBatch();

const bodies = Array.from({ length: BATCHES }, (_, b) =>
  JSON.stringify({
    events: Array.from({ length: PER_BATCH }, (_, i) => agentRecord(`pflt_lat${String(b * PER_BATCH + i).padStart(19, '0')}`, b * PER_BATCH + i)),
  }),
);

function run(): number {
  const t0 = process.cpuUsage();
  for (const text of bodies) {
    const { events } = JSON.parse(text) as { events: unknown[] };
    // The payloads as the recording statement takes them (queue/enqueue.ts).
    JSON.stringify(eventsOf('org_bench', events).map((e) => e.payload));
  }
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / (BATCHES * PER_BATCH);
}

run();
run(); // warm-up
const perEvent = [run(), run(), run()].map((x) => Math.round(x * 100) / 100);
console.log(JSON.stringify({ dist: DIST, events: BATCHES * PER_BATCH, cpuUsPerEvent: perEvent }));
