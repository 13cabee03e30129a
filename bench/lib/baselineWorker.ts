// The baseline: how most teams would forward audit events with an off-the-shelf Postgres job queue.
// pg-boss 10, one job per event (the wire event as job data), one `fetch` POST per event to the same
// HTTPS receiver (trusting the test CA through NODE_EXTRA_CA_CERTS), completion handled by pg-boss.
// Tuned generously rather than left at defaults (batchSize 1 and a 2 s poll would do ~0.5 events/s):
// BASELINE_WORKERS work() loops, each fetching BASELINE_BATCH jobs and POSTing them concurrently,
// polling every 0.5 s (pg-boss's minimum).
//
// IPC: parent -> {cmd:'seed', events: object[]} (repeated) | {cmd:'go', url} | {cmd:'size'}
// child -> {type:'ready'} | {type:'seeded', n} | {type:'size', pending}
import PgBoss from 'pg-boss';

const QUEUE = 'siem-forward';
const WORKERS = Number(process.env.BASELINE_WORKERS ?? 8);
const BATCH = Number(process.env.BASELINE_BATCH ?? 100);

const boss = new PgBoss({ connectionString: process.env.DATABASE_URL!, max: 10 });
boss.on('error', (err: Error) => console.error('pg-boss error:', err.message));
await boss.start();
await boss.createQueue(QUEUE);

interface WireEvent {
  event: { id: string };
}

async function deliver(url: string, event: WireEvent): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': event.event.id, authorization: 'Bearer bench-token' },
    body: JSON.stringify(event),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

process.on('message', (m: { cmd: string; events?: WireEvent[]; url?: string }) => {
  void (async () => {
    if (m.cmd === 'seed') {
      await boss.insert(m.events!.map((data) => ({ name: QUEUE, data })));
      process.send!({ type: 'seeded', n: m.events!.length });
    } else if (m.cmd === 'go') {
      for (let i = 0; i < WORKERS; i++) {
        await boss.work<WireEvent>(QUEUE, { batchSize: BATCH, pollingIntervalSeconds: 0.5 }, async (jobs) => {
          await Promise.all(jobs.map((j) => deliver(m.url!, j.data)));
        });
      }
    } else if (m.cmd === 'size') {
      const pending = await boss.getQueueSize(QUEUE, { before: 'completed' });
      process.send!({ type: 'size', pending });
    }
  })().catch((err: unknown) => {
    console.error('baseline worker:', (err as Error).message);
    process.exit(1);
  });
});
process.on('disconnect', () => void boss.stop({ graceful: false }).finally(() => process.exit(0)));
process.send!({ type: 'ready' });
