// Range replays against what else happens to a destination and its events: a delete, a refused
// request, a dead-letter replay, backfilled events, retention pruning ahead of the walk, on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { jobRows, makeEvent, seedEvents, sleep } from './support.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import { queueReplayBatch, REVIVE_REPLAYED_SQL, takeReplayTurn } from '../../../src/queue/replayRange.js';
import * as replayRepo from '../../../src/replays/repository.js';
import { releasePause, runClaimedReplay } from '../../../src/replays/runner.js';
import { resumeHeld } from '../../../src/queue/deliveryState.js';
import { replayFailed } from '../../../src/queue/deadLetters.js';
import type { Queryable } from '../../../src/db/types.js';

const BATCH = 50;
const EVENTS = 400; // eight batches
const HOUR = 3_600_000;
const ENV = { AEGIS_REPLAY_BATCH: String(BATCH), AEGIS_RETENTION_DAYS: '3' };
const window = () => ({ from: new Date(Date.now() - HOUR).toISOString(), to: new Date(Date.now() + 60_000).toISOString() });

describe.each(DB_KINDS)('range replay integrity (%s)', (kind) => {
  let tdb: TestDb;
  const services: TestService[] = [];
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    for (const s of services) await s.stop();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  /** An API-only process: no worker delivers or walks replays, so the test decides what runs. */
  async function api(env: Record<string, string> = {}): Promise<TestService> {
    const s = await startTestService(tdb.db, { ...ENV, ...env }, 'api');
    services.push(s);
    return s;
  }

  async function createDestination(svc: TestService, org: { orgId: string; apiKey: string }, body: Record<string, unknown> = {}) {
    const r = await startReceiver(ok());
    receivers.push(r);
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey, body: { url: `${r.url}/hook`, ...body } });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    return { id, path: `/api/orgs/${org.orgId}/forwarding-destinations/${id}` };
  }

  const replayStatus = async (id: string) => (await tdb.db.query<{ status: string }>('SELECT status FROM replays WHERE id = $1', [id])).rows[0]?.status ?? null;

  it('deleting a destination ends its background replay: the slot is freed and no step queues jobs for it', async () => {
    const svc = await api({ AEGIS_MAX_RUNNING_REPLAYS_PER_ORG: '1' });
    const org = await svc.newOrg();
    await seedEvents(tdb.db, org.orgId, EVENTS);
    // Enabled: its farewell keeps the deleted row (no worker delivers it here), the case where a replay outlived it.
    const d = await createDestination(svc, org);
    const res = await svc.request('POST', `${d.path}/replay`, { apiKey: org.apiKey, body: window() });
    expect(res.status, res.text).toBe(202);
    const replayId = res.body.replay_id as string;
    expect((await svc.request('DELETE', d.path, { apiKey: org.apiKey })).status).toBe(200);
    expect(await tdb.db.query('SELECT 1 FROM destinations WHERE id = $1', [d.id]).then((q) => q.rows.length)).toBe(1);
    expect(await replayStatus(replayId)).toBe('cancelled');
    // The organization's one replay slot is free again.
    const other = await createDestination(svc, org, { enabled: false });
    expect((await svc.request('POST', `${other.path}/replay`, { apiKey: org.apiKey, body: window() })).status).toBe(202);

    // A walker that claimed the replay before the delete: its next step queues nothing and stops.
    await tdb.db.query(`UPDATE replays SET status = 'running', finished_at = NULL WHERE id = $1`, [replayId]);
    const claim = await replayRepo.claimReplay(tdb.db, 'test-claim', 60_000, { orgId: org.orgId, id: replayId });
    expect(claim).not.toBeNull();
    expect(await runClaimedReplay(tdb.db, claim!, { batch: BATCH, leaseMs: 60_000 })).toBe('cancelled');
    expect(await replayStatus(replayId)).toBe('cancelled');
    // Nor does the batch step itself, called for the deleted destination.
    const b = await queueReplayBatch(tdb.db, {
      orgId: org.orgId,
      destinationId: d.id,
      from: new Date(Date.now() - HOUR),
      to: new Date(Date.now() + 60_000),
      after: null,
      batch: BATCH,
    });
    expect(b.queued).toBe(0);
    expect(await jobRows(tdb.db, d.id)).toEqual([]);
  });

  it('a refused replay (limit_reached) leaves a hold-paused destination paused', async () => {
    const svc = await api({ AEGIS_MAX_RUNNING_REPLAYS_PER_ORG: '1' });
    const org = await svc.newOrg();
    await seedEvents(tdb.db, org.orgId, EVENTS);
    const a = await createDestination(svc, org, { enabled: false });
    const held = await createDestination(svc, org);
    expect((await svc.request('POST', `${a.path}/replay`, { apiKey: org.apiKey, body: window() })).status).toBe(202);
    await tdb.db.query(`UPDATE destinations SET hold_paused_at = now(), failing_since = now() - interval '3 days' WHERE id = $1`, [held.id]);
    const refused = await svc.request('POST', `${held.path}/replay`, { apiKey: org.apiKey, body: window() });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body.error.code).toBe('limit_reached');
    const { rows } = await tdb.db.query<{ hold_paused_at: Date | null }>('SELECT hold_paused_at FROM destinations WHERE id = $1', [held.id]);
    expect(rows[0]!.hold_paused_at).not.toBeNull();
    expect(await jobRows(tdb.db, held.id)).toEqual([]);
  });

  it('a range replay and a dead-letter replay never make one event pending twice; a re-queued dead letter leaves the list', async () => {
    const svc = await api();
    const org = await svc.newOrg();
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    const d = await createDestination(svc, org, { enabled: false });
    // The first event was dead-lettered for this destination.
    await tdb.db.query(
      `INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status, attempts, settled_at, last_error) VALUES ($1, $2, $3, 'failed', 5, now(), 'HTTP 503')`,
      [org.orgId, d.id, ids[0]],
    );
    const range = await svc.request('POST', `${d.path}/replay`, { apiKey: org.apiKey, body: window() });
    expect(range.status, range.text).toBe(200);
    expect(range.body.replayed).toBe(3);
    const dead = await svc.request('POST', `${d.path}/replay`, { apiKey: org.apiKey });
    expect(dead.status, dead.text).toBe(200);
    expect(dead.body.replayed).toBe(0);
    const jobs = await jobRows(tdb.db, d.id);
    expect(jobs.map((j) => `${j.event_id}:${j.status}`).sort()).toEqual(ids.map((id) => `${id}:pending`).sort());
    const list = await svc.request('GET', `${d.path}/failed-events`, { apiKey: org.apiKey });
    expect(list.status, list.text).toBe(200);
    expect(list.body.events).toEqual([]);

    // The other order: a pending job from a range replay, then a stray dead letter of the same event.
    await tdb.db.query(`INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status, attempts, settled_at) VALUES ($1, $2, $3, 'failed', 5, now())`, [
      org.orgId,
      d.id,
      ids[1],
    ]);
    expect((await svc.request('POST', `${d.path}/replay`, { apiKey: org.apiKey })).body.replayed).toBe(0);
    const pending = (await jobRows(tdb.db, d.id)).filter((j) => j.status === 'pending').map((j) => j.event_id);
    expect(pending.sort()).toEqual([...ids].sort());
  });

  it('replays a backfilled event (old @timestamp, recorded now): retention is measured on recorded_at, never as a trim of @timestamp', async () => {
    const svc = await api();
    const org = await svc.newOrg();
    const d = await createDestination(svc, org, { enabled: false });
    const at = (ms: number) => {
      const e = makeEvent(org.orgId);
      return { orgId: org.orgId, id: e.event.id, occurredAt: new Date(Date.now() - ms), payload: e };
    };
    const backfilled = at(10 * 24 * HOUR);
    const stale = at(HOUR);
    await recordEvents(tdb.db, [backfilled, stale]);
    // Recorded 4 days ago, past AEGIS_RETENTION_DAYS = 3, but still here (not pruned yet): still replayable.
    await tdb.db.query(`UPDATE audit_events SET recorded_at = now() - interval '4 days' WHERE id = $1`, [stale.id]);
    const res = await svc.request('POST', `${d.path}/replay`, {
      apiKey: org.apiKey,
      body: { from: new Date(Date.now() - 11 * 24 * HOUR).toISOString(), to: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ replayed: 2, skipped_too_old: 0 });
    // The note names retention's own rule (recorded_at), and claims no event was left out as too old.
    expect(res.body.message).toMatch(/after they were recorded \(AEGIS_RETENTION_DAYS\), so events recorded before then are gone/);
    expect(res.body.message).not.toMatch(/too old|trimmed/);
    expect((await jobRows(tdb.db, d.id)).map((j) => j.event_id).sort()).toEqual([backfilled.id, stale.id].sort());
    // A window of only backfilled events, wholly before the horizon on @timestamp, is not refused.
    const old = await svc.request('POST', `${d.path}/replay`, {
      apiKey: org.apiKey,
      body: { from: new Date(Date.now() - 11 * 24 * HOUR).toISOString(), to: new Date(Date.now() - 9 * 24 * HOUR).toISOString() },
    });
    expect(old.status, old.text).toBe(200);
    expect(old.body).toMatchObject({ replayed: 0 });
    expect(old.body.message).toMatch(/already waiting/);
  });

  it('a background replay whose events retention removed ahead of its walk says how many', async () => {
    const svc = await api();
    const org = await svc.newOrg();
    const ids = await seedEvents(tdb.db, org.orgId, EVENTS);
    const d = await createDestination(svc, org, { enabled: false });
    const res = await svc.request('POST', `${d.path}/replay`, { apiKey: org.apiKey, body: window() });
    expect(res.status, res.text).toBe(202);
    const replayId = res.body.replay_id as string;
    // Retention prunes the events of the window ahead of the cursor (events without jobs, as the prune takes them).
    const { rowCount } = await tdb.db.query(
      `DELETE FROM audit_events e WHERE e.id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM forwarding_jobs j WHERE j.org_id = e.org_id AND j.event_id = e.id)`,
      [ids],
    );
    expect(rowCount).toBe(EVENTS - BATCH);
    const claim = await replayRepo.claimReplay(tdb.db, 'test-claim-2', 60_000, { orgId: org.orgId, id: replayId });
    expect(await runClaimedReplay(tdb.db, claim!, { batch: BATCH, leaseMs: 60_000 })).toBe('done');
    const view = await svc.request('GET', `${d.path}/replays/${replayId}`, { apiKey: org.apiKey });
    expect(view.body.status).toBe('done');
    expect(view.body.message).toMatch(new RegExp(`${EVENTS - BATCH} event\\(s\\).*removed by retention`));
  });

  it('cancelling a replay of an unknown or deleted destination answers 404 as the other destination routes do', async () => {
    const svc = await api();
    const org = await svc.newOrg();
    const d = await createDestination(svc, org, { enabled: false });
    const expected = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/fwd_aaaaaaaaaaaaaaaaaaaa`, { apiKey: org.apiKey });
    expect(expected.status).toBe(404);
    const unknown = await svc.request(
      'POST',
      `/api/orgs/${org.orgId}/forwarding-destinations/fwd_aaaaaaaaaaaaaaaaaaaa/replays/rpl_aaaaaaaaaaaaaaaaaaaa/cancel`,
      {
        apiKey: org.apiKey,
      },
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual(expected.body.error);
    expect((await svc.request('DELETE', d.path, { apiKey: org.apiKey })).status).toBe(200);
    const gone = await svc.request('POST', `${d.path}/replays/rpl_aaaaaaaaaaaaaaaaaaaa/cancel`, { apiKey: org.apiKey });
    expect(gone.status).toBe(404);
    expect(gone.body.error.message).toBe(expected.body.error.message);
  });
  /**
   * Holds a transaction open on its own connection (after `first`) until `release` is called; `pid` is
   * its backend, to tell when another statement waits for it. `then` runs before it commits.
   */
  async function holdOpen(first: (tx: Queryable) => Promise<unknown>, then: (tx: Queryable) => Promise<unknown> = async () => undefined) {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let pid!: number;
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const done = tdb.db.transaction(async (tx) => {
      pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await first(tx);
      ready();
      await released;
      await then(tx);
    });
    await Promise.race([started, done]);
    return { pid, release, done };
  }

  /** Waits (a generous ceiling, not a timing) until `settled` or until a statement waits for backend `pid`; true: one waits. */
  async function waitsFor(pid: number, settled: () => boolean): Promise<boolean> {
    for (let i = 0; i < 1200; i++) {
      if (settled()) return false;
      const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]);
      if (rows[0]!.n > 0) return true;
      await sleep(50);
    }
    throw new Error('neither settled nor waiting');
  }

  // A dead-letter replay resumes a hold-paused destination (its row) and then revives dead letters
  // (their rows); a range replay's first batch revived its dead letters before resuming the
  // destination: the opposite order, and PostgreSQL ended one of them as a deadlock (the request got 500).
  // Both now take the destination's replay turn first, as replayDeadLetters does here.
  it.runIf(kind === 'postgres')('a range replay and a dead-letter replay of a hold-paused destination at once: neither deadlocks', async () => {
    const svc = await api();
    const org = await svc.newOrg();
    const ids = await seedEvents(tdb.db, org.orgId, 5);
    const d = await createDestination(svc, org, { enabled: false });
    await tdb.db.query(
      `INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status, attempts, settled_at) SELECT $1, $2, x, 'failed', 5, now() FROM unnest($3::text[]) x`,
      [org.orgId, d.id, ids],
    );
    await tdb.db.query('UPDATE destinations SET hold_paused_at = now() WHERE id = $1', [d.id]);
    let deadLetters = 0;
    const dl = await holdOpen(
      async (tx) => {
        await takeReplayTurn(tx, d.id);
        await resumeHeld(tx, org.orgId, d.id);
      },
      async (tx) => (deadLetters = (await replayFailed(tx, org.orgId, d.id, null)).replayed),
    );
    let answered = false;
    const range = svc.request('POST', `${d.path}/replay`, { apiKey: org.apiKey, body: window() }).finally(() => (answered = true));
    expect(await waitsFor(dl.pid, () => answered)).toBe(true);
    dl.release();
    await dl.done;
    const res = await range;
    expect(res.status, res.text).toBe(200);
    expect(deadLetters).toBe(5);
    expect((await jobRows(tdb.db, d.id)).map((j) => `${j.event_id}:${j.status}`).sort()).toEqual(ids.map((id) => `${id}:pending`).sort());
  });

  // The revive's lock was taken under its OFFSET 0 fence, before the destination and status were
  // checked: it locked every job of each event, another destination's pending jobs and jobs the worker
  // was sending included, whose claim skipped them and whose settle waited (or deadlocked).
  it.runIf(kind === 'postgres')("a range replay's revive locks only its destination's dead letters", async () => {
    const svc = await api();
    const org = await svc.newOrg();
    const [e1, e2] = await seedEvents(tdb.db, org.orgId, 2);
    const a = await createDestination(svc, org, { enabled: false });
    const b = await createDestination(svc, org, { enabled: false });
    const insert = async (dest: string, event: string, status: 'pending' | 'failed') =>
      (
        await tdb.db.query<{ id: string }>(
          `INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status, attempts, settled_at)
           VALUES ($1, $2, $3, $4, 5, CASE WHEN $4 = 'failed' THEN now() END) RETURNING id::text`,
          [org.orgId, dest, event, status],
        )
      ).rows[0]!.id;
    const deadLetter = await insert(a.id, e1!, 'failed');
    const others = [await insert(b.id, e1!, 'pending'), await insert(a.id, e2!, 'pending')];
    let revived = 0;
    const revive = await holdOpen(async (tx) => {
      revived = (await tx.query<{ queued: number }>(REVIVE_REPLAYED_SQL, [org.orgId, a.id, [e1, e2]])).rows[0]!.queued;
    });
    try {
      expect(revived).toBe(1);
      // From another connection, while the revive's transaction is open: NOWAIT fails on a locked row.
      const free = await tdb.db.query('SELECT id FROM forwarding_jobs WHERE id = ANY($1::bigint[]) FOR UPDATE NOWAIT', [others]);
      expect(free.rowCount).toBe(2);
      await expect(tdb.db.query('SELECT id FROM forwarding_jobs WHERE id = $1 FOR UPDATE NOWAIT', [deadLetter])).rejects.toThrow(/lock/);
    } finally {
      revive.release();
      await revive.done;
    }
  });

  // The estimate is counted after the first batch was read; an event committed in between and dated
  // before that batch's end was counted but never walked, and the finished replay then said it had
  // been removed by retention.
  it.runIf(kind === 'postgres')('an event recorded behind the first batch while it runs is not called removed by retention', async () => {
    const svc = await api();
    const org = await svc.newOrg();
    const ids = await seedEvents(tdb.db, org.orgId, EVENTS);
    const d = await createDestination(svc, org, { enabled: false });
    // The first batch share-locks its events: a lock on the first makes it wait after reading the batch.
    const first = (await tdb.db.query<{ id: string }>('SELECT id FROM audit_events WHERE id = ANY($1::text[]) ORDER BY occurred_at, id LIMIT 1', [ids]))
      .rows[0]!.id;
    const blocker = await holdOpen((tx) => tx.query('SELECT 1 FROM audit_events WHERE id = $1 FOR UPDATE', [first]));
    let answered = false;
    const req = svc.request('POST', `${d.path}/replay`, { apiKey: org.apiKey, body: window() }).finally(() => (answered = true));
    expect(await waitsFor(blocker.pid, () => answered)).toBe(true);
    await tdb.db.query(
      `INSERT INTO audit_events (org_id, id, occurred_at, payload) SELECT org_id, 'evt_behind', occurred_at - interval '1 millisecond', '{}' FROM audit_events WHERE id = $1`,
      [first],
    );
    blocker.release();
    await blocker.done;
    const res = await req;
    expect(res.status, res.text).toBe(202);
    const replayId = res.body.replay_id as string;
    const claim = await replayRepo.claimReplay(tdb.db, 'test-claim-3', 60_000, { orgId: org.orgId, id: replayId });
    expect(await runClaimedReplay(tdb.db, claim!, { batch: BATCH, leaseMs: 60_000 })).toBe('done');
    const view = await svc.request('GET', `${d.path}/replays/${replayId}`, { apiKey: org.apiKey });
    expect(view.body).toMatchObject({ status: 'done', scanned: EVENTS, total_estimate: EVENTS });
    expect(view.body.message ?? '').not.toMatch(/removed by retention/);
  });

  // A batch that loses its connection every time (a proxy cutting long transactions) was released and
  // claimed again back to back, each try reading a batch of events again: the release now pauses it.
  it('a claim given up with a pause cannot be claimed by anyone until the pause ends; without one, at once', async () => {
    const svc = await api();
    const org = await svc.newOrg();
    await seedEvents(tdb.db, org.orgId, BATCH);
    const d = await createDestination(svc, org, { enabled: false });
    const res = await svc.request('POST', `${d.path}/replay`, { apiKey: org.apiKey, body: window() });
    expect(res.status, res.text).toBe(202);
    const only = { orgId: org.orgId, id: res.body.replay_id as string };
    const first = await replayRepo.claimReplay(tdb.db, 'claim-a', 60_000, only);
    expect(first).not.toBeNull();
    await replayRepo.releaseReplay(tdb.db, first!, HOUR);
    expect(await replayRepo.claimReplay(tdb.db, 'claim-b', 60_000, only)).toBeNull();
    // Nor by a scan for any replay (which may find others' replays of this file's tests).
    const any = await replayRepo.claimReplay(tdb.db, 'claim-any', 60_000);
    if (any) await replayRepo.releaseReplay(tdb.db, any);
    expect(any?.id).not.toBe(only.id);
    // The pause over (as the database's clock would have it), anyone may claim it; released without
    // a pause, at once.
    await tdb.db.query("UPDATE replays SET lease_until = now() - interval '1 second' WHERE id = $1", [only.id]);
    const second = await replayRepo.claimReplay(tdb.db, 'claim-b', 60_000, only);
    expect(second).toMatchObject({ claimId: 'claim-b' });
    await replayRepo.releaseReplay(tdb.db, second!);
    expect(await replayRepo.claimReplay(tdb.db, 'claim-c', 60_000, only)).toMatchObject({ claimId: 'claim-c' });
  });

  it.runIf(kind === 'pglite')('the pause after each loss in a row: 1 s doubling to a minute, never past the lease', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => releasePause(n, 3_600_000))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(releasePause(3, 2500)).toBe(2500);
  });

  // Two walkers of one deleted destination's replays: each held its own replay row and cancelled
  // every replay of the destination, so each waited for the other's row.
  it.runIf(kind === 'postgres')('a walker of a deleted destination ends its own replay without waiting for another walker’s', async () => {
    const svc = await api({ AEGIS_MAX_RUNNING_REPLAYS_PER_ORG: '5' });
    const org = await svc.newOrg();
    await seedEvents(tdb.db, org.orgId, EVENTS);
    const d = await createDestination(svc, org, { enabled: false });
    const replayIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await svc.request('POST', `${d.path}/replay`, { apiKey: org.apiKey, body: window() });
      expect(res.status, res.text).toBe(202);
      replayIds.push(res.body.replay_id as string);
    }
    const claims: replayRepo.ClaimedReplay[] = [];
    for (const id of replayIds) claims.push((await replayRepo.claimReplay(tdb.db, `test-claim-${id}`, 60_000, { orgId: org.orgId, id }))!);
    // Marked deleted, the replays left running (as a walk that outlived the delete finds them).
    await tdb.db.query('UPDATE destinations SET deleted_at = now() WHERE id = $1', [d.id]);
    // The other walker, inside its own batch: its replay's row locked.
    const other = await holdOpen((tx) => tx.query('SELECT 1 FROM replays WHERE id = $1 FOR UPDATE', [replayIds[1]]));
    let settled = false;
    const mine = tdb.db.transaction((tx) => replayRepo.lockForBatch(tx, claims[0]!)).finally(() => (settled = true));
    const waited = await waitsFor(other.pid, () => settled);
    other.release();
    await other.done;
    expect(await mine).toBe(false);
    expect(waited).toBe(false);
    expect(await replayStatus(replayIds[0]!)).toBe('cancelled');
  });
});
