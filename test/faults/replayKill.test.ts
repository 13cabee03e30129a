// Issue 12: a background range replay survives its worker process being killed with SIGKILL mid-walk.
// A real `aegis-stream start --role worker` process walks the replay; it is killed mid-batch, and
// another worker process takes the replay over when the lease (5 s) runs out and walks on from the
// cursor the killed one last committed: every event queued once, no batch walked twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { spawnWorker, stopWorkers, type WorkerProcess } from '../support/workerProcess.js';
import { jobRows, seedEvents } from '../integration/delivery/support.js';
import { eventAt, holdEvent, type EventGate } from '../support/eventGate.js';

const BATCH = 50;
// 20 transactions; where the worker is killed does not depend on the machine's speed (an event gate).
const EVENTS = 1000;

describe('faults: a range replay whose worker is killed (postgres)', () => {
  let tdb: TestDb;
  let api: TestService;
  const workers: WorkerProcess[] = [];
  let gate: EventGate | null = null;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    // The API process has no replay runner: only the spawned workers walk the replay.
    api = await startTestService(tdb.db, { AEGIS_REPLAY_BATCH: String(BATCH) }, 'api');
  });
  afterAll(async () => {
    await gate?.open();
    await stopWorkers(workers);
    await api?.stop();
    await tdb?.close();
  });

  const worker = () => {
    const w = spawnWorker({ schema: tdb.schema!, encryptionKey: api.config.encryptionKey!, env: { AEGIS_REPLAY_BATCH: String(BATCH) } });
    workers.push(w);
    return w;
  };
  const progress = async (id: string) =>
    (
      await tdb.db.query<{ status: string; scanned: number; queued: number }>(
        'SELECT status, scanned::int AS scanned, queued::int AS queued FROM replays WHERE id = $1',
        [id],
      )
    ).rows[0]!;

  it('another worker resumes it from the last committed cursor after SIGKILL', async () => {
    const org = await api.newOrg();
    const ids = await seedEvents(tdb.db, org.orgId, EVENTS);
    const created = await api.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: 'https://127.0.0.1:9/hook', enabled: false },
    });
    expect(created.status, created.text).toBe(201);
    const dest = created.body.destination_id as string;
    const res = await api.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations/${dest}/replay`, {
      apiKey: org.apiKey,
      body: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(res.status, res.text).toBe(202);
    const id = res.body.replay_id as string;

    // The API queued the first batch. The gate holds an event of the sixth: worker A commits
    // batches two to five, then waits in the sixth with its transaction open, and is killed there.
    gate = await holdEvent(tdb.db, org.orgId, await eventAt(tdb.db, org.orgId, 5 * BATCH + BATCH / 2));
    const a = worker();
    await expect.poll(() => gate!.waiting(), { timeout: 60_000, interval: 50 }).toBeGreaterThan(0);
    expect(await progress(id)).toMatchObject({ status: 'running', scanned: 5 * BATCH });
    a.kill('SIGKILL');
    await a.exited;
    // The killed process's transaction never commits: its batch is walked again by the next worker.
    await gate.open();
    const atKill = await progress(id);
    expect(atKill).toMatchObject({ status: 'running', scanned: 5 * BATCH, queued: 5 * BATCH });

    const b = worker();
    await expect.poll(async () => (await progress(id)).status, { timeout: 150_000, interval: 200 }).toBe('done');
    expect(await progress(id)).toMatchObject({ scanned: EVENTS, queued: EVENTS });
    const jobs = await jobRows(tdb.db, dest);
    expect(jobs).toHaveLength(EVENTS);
    expect(new Set(jobs.map((j) => j.event_id))).toEqual(new Set(ids));
    expect(b.lines.some((l) => l.includes('range replay claimed') && l.includes('"resumed":true'))).toBe(true);
  });
});
