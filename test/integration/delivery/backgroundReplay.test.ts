// Issue 12, background range replays: a window larger than one batch answers 202 and is walked by a
// worker process (progress, cancel, resume after a restart, per-organization caps), through the real
// service and a real HTTPS receiver, on both databases.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { allDelivered, jobRows, receivedCounts, seedEvents } from './support.js';
import { loadConfig } from '../../../src/config/env.js';
import { replayDestination } from '../../../src/cli/replay.js';

const BATCH = 50;
const EVENTS = 400; // eight batches
const ENV = { AEGIS_REPLAY_BATCH: String(BATCH), AEGIS_WORKER_INTERVAL_MS: '500' };
const window = () => ({ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() });

describe.each(DB_KINDS)('background range replay (%s)', (kind) => {
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

  /** A service on the test database; role api has no replay runner, so its replays wait. */
  async function service(role: 'all' | 'api' | 'worker', env: Record<string, string> = {}): Promise<TestService> {
    const s = await startTestService(tdb.db, { ...ENV, ...env }, role);
    services.push(s);
    return s;
  }

  /** A fresh organization with EVENTS recorded events (before any destination: no jobs yet). */
  async function orgWithHistory(svc: TestService) {
    const org = await svc.newOrg();
    const ids = await seedEvents(tdb.db, org.orgId, EVENTS);
    return { ...org, ids };
  }

  async function createDestination(svc: TestService, org: { orgId: string; apiKey: string }, body: Record<string, unknown> = {}) {
    const r = await startReceiver(ok());
    receivers.push(r);
    const path = body.siem === 'datadog' ? '/api/v2/logs' : '/hook';
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey, body: { url: `${r.url}${path}`, ...body } });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    return { id, r, path: `/api/orgs/${org.orgId}/forwarding-destinations/${id}` };
  }

  const replay = (svc: TestService, apiKey: string, path: string) => svc.request('POST', `${path}/replay`, { apiKey, body: window() });
  const getReplay = async (svc: TestService, apiKey: string, path: string, id: string) => {
    const res = await svc.request('GET', `${path}/replays/${id}`, { apiKey });
    expect(res.status, res.text).toBe(200);
    return res.body;
  };

  it('answers 202 with a replay id and walks the window in the background to done; the SIEM gets every event once', async () => {
    const svc = await service('all');
    const org = await orgWithHistory(svc);
    // A batching preset: the receiver gets the window in a few requests rather than one per event.
    const d = await createDestination(svc, org, { siem: 'datadog', auth_header_name: 'DD-API-KEY', auth_header_value: 'dd-key-0123456789abcdef' });
    const res = await replay(svc, org.apiKey, d.path);
    expect(res.status, res.text).toBe(202);
    expect(res.body.replay_id).toMatch(/^rpl_[a-z0-9]{20}$/);
    expect(res.headers.get('location')).toBe(`${d.path}/replays/${res.body.replay_id}`);
    // The brief's fields are all there: the first batch is queued before answering.
    expect(res.body.replayed).toBeGreaterThanOrEqual(BATCH);
    expect(res.body.skipped_too_old).toBe(0);
    expect(res.body.message).toContain(res.body.replay_id);
    expect(res.body.replay).toMatchObject({ replay_id: res.body.replay_id, destination_id: d.id, total_estimate: EVENTS, created_by: 'api_key' });

    await expect.poll(async () => (await getReplay(svc, org.apiKey, d.path, res.body.replay_id)).status, { timeout: 60_000, interval: 200 }).toBe('done');
    const done = await getReplay(svc, org.apiKey, d.path, res.body.replay_id);
    expect(done).toMatchObject({ replayed: EVENTS, scanned: EVENTS, total_estimate: EVENTS, progress: 1, already_pending: 0, filtered_out: 0, error: null });
    expect(done.finished_at).not.toBeNull();
    expect(done.position_at).not.toBeNull();
    // Every event delivered (a settle deletes a delivered job; a retried or dead-lettered one stays),
    // each exactly once: one job per event was queued, none twice.
    await expect.poll(() => allDelivered(tdb.db, d.id, org.ids, d.r.requests), { timeout: 60_000 }).toBe(true);
    expect(await jobRows(tdb.db, d.id)).toEqual([]);
    const counts = receivedCounts(d.r.requests);
    expect(new Set(counts.keys())).toEqual(new Set(org.ids));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    const list = await svc.request('GET', `${d.path}/replays`, { apiKey: org.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.replays.map((r: { replay_id: string }) => r.replay_id)).toEqual([res.body.replay_id]);
    // A finished replay cannot be cancelled; an unknown one, or another destination's, is not found.
    const late = await svc.request('POST', `${d.path}/replays/${res.body.replay_id}/cancel`, { apiKey: org.apiKey });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('conflict');
    expect((await svc.request('GET', `${d.path}/replays/rpl_aaaaaaaaaaaaaaaaaaaa`, { apiKey: org.apiKey })).status).toBe(404);
    const other = await createDestination(svc, org, { enabled: false });
    expect((await svc.request('GET', `${other.path}/replays/${res.body.replay_id}`, { apiKey: org.apiKey })).status).toBe(404);
    // Asked as "…/replay/" (a trailing slash), the answer's Location still leads to the replay (an
    // attacker's review: it read "…/replay//replays/…", a 404).
    const slashed = await svc.request('POST', `${other.path}/replay/`, { apiKey: org.apiKey, body: window() });
    expect(slashed.status, slashed.text).toBe(202);
    expect(slashed.headers.get('location')).toBe(`${other.path}/replays/${slashed.body.replay_id}`);
    await svc.stop();
  });

  it('cancel stops a replay: no batch is queued after it, and the jobs already queued stay', async () => {
    // An API-only process has no replay runner: the replay holds still at its first batch.
    const api = await service('api');
    const org = await orgWithHistory(api);
    const d = await createDestination(api, org, { enabled: false });
    const res = await replay(api, org.apiKey, d.path);
    expect(res.status, res.text).toBe(202);
    const id = res.body.replay_id as string;
    const cancel = await api.request('POST', `${d.path}/replays/${id}/cancel`, { apiKey: org.apiKey });
    expect(cancel.status, cancel.text).toBe(200);
    expect(cancel.body).toMatchObject({ replay_id: id, status: 'cancelled', replayed: BATCH, scanned: BATCH });
    // Again: the same answer (idempotent).
    expect((await api.request('POST', `${d.path}/replays/${id}/cancel`, { apiKey: org.apiKey })).body.status).toBe('cancelled');

    // A worker process starts; it runs a later replay to the end and never the cancelled one.
    const worker = await service('worker');
    const later = await createDestination(api, org, { enabled: false });
    const second = await replay(api, org.apiKey, later.path);
    expect(second.status, second.text).toBe(202);
    await expect
      .poll(async () => (await getReplay(api, org.apiKey, later.path, second.body.replay_id)).status, { timeout: 60_000, interval: 200 })
      .toBe('done');
    expect(await getReplay(api, org.apiKey, d.path, id)).toMatchObject({ status: 'cancelled', replayed: BATCH, scanned: BATCH });
    expect(await jobRows(tdb.db, d.id)).toHaveLength(BATCH);
    await worker.stop();
    await api.stop();
  });

  it('resumes after a restart from its cursor, and takes over a dead process’s replay when its lease runs out', async () => {
    const api = await service('api');
    const org = await orgWithHistory(api);
    const d = await createDestination(api, org, { enabled: false });
    const res = await replay(api, org.apiKey, d.path);
    expect(res.status, res.text).toBe(202);
    const org2 = await orgWithHistory(api);
    const d2 = await createDestination(api, org2, { enabled: false });
    const res2 = await replay(api, org2.apiKey, d2.path);
    expect(res2.status, res2.text).toBe(202);
    // The second one is held by a process that died mid-walk: its lease is still running.
    await tdb.db.query(`UPDATE replays SET claim_id = 'dead-process', lease_until = now() + interval '2 seconds' WHERE id = $1`, [res2.body.replay_id]);
    await api.stop();

    // Another process on the same database picks both up.
    const next = await service('all', { AEGIS_LEASE_S: '5' });
    for (const [o, dest, r] of [
      [org, d, res],
      [org2, d2, res2],
    ] as const) {
      await expect.poll(async () => (await getReplay(next, o.apiKey, dest.path, r.body.replay_id)).status, { timeout: 60_000, interval: 200 }).toBe('done');
      // Walked once: from the cursor the first process left, not from the window's start again.
      expect(await getReplay(next, o.apiKey, dest.path, r.body.replay_id)).toMatchObject({ scanned: EVENTS, replayed: EVENTS, already_pending: 0 });
      expect((await jobRows(tdb.db, dest.id)).map((j) => j.event_id).sort()).toEqual([...o.ids].sort());
    }
    await next.stop();
  });

  it("one organization's long replays never hold every slot: another organization's replay is walked in the meantime", async () => {
    // A process walks two replays at once, and an organization may run two: organization A's two
    // replays of 120 batches each must not keep B's replay of 8 waiting until one of them ends.
    const BIG = 6_000;
    const api = await service('api');
    const a = await api.newOrg();
    await seedEvents(tdb.db, a.orgId, BIG);
    const b = await orgWithHistory(api);
    const a1 = await createDestination(api, a, { enabled: false });
    const a2 = await createDestination(api, a, { enabled: false });
    const b1 = await createDestination(api, b, { enabled: false });
    const ra1 = await replay(api, a.apiKey, a1.path);
    const ra2 = await replay(api, a.apiKey, a2.path);
    expect([ra1.status, ra2.status]).toEqual([202, 202]);
    const worker = await service('worker');
    // A's replays both walking before B asks: B's arrives while every slot is A's.
    await expect
      .poll(
        async () =>
          Math.min(
            ...(await Promise.all(
              [[a1, ra1] as const, [a2, ra2] as const].map(async ([d, r]) => (await getReplay(api, a.apiKey, d.path, r.body.replay_id)).scanned as number),
            )),
          ),
        {
          timeout: 60_000,
          interval: 50,
        },
      )
      .toBeGreaterThan(BATCH);
    const rb = await replay(api, b.apiKey, b1.path);
    expect(rb.status, rb.text).toBe(202);
    const all = [[a1, ra1, a] as const, [a2, ra2, a] as const, [b1, rb, b] as const];
    for (const [d, r, o] of all) {
      await expect.poll(async () => (await getReplay(api, o.apiKey, d.path, r.body.replay_id)).status, { timeout: 120_000, interval: 200 }).toBe('done');
    }
    const [doneA1, doneA2, doneB] = await Promise.all(all.map(([d, r, o]) => getReplay(api, o.apiKey, d.path, r.body.replay_id)));
    // B's few batches were walked while A's were still going, not after one of them ended.
    const finished = (v: Record<string, unknown>) => Date.parse(v.finished_at as string);
    expect(finished(doneB)).toBeLessThan(Math.min(finished(doneA1), finished(doneA2)));
    // Turns cost nothing of the walk: each window queued once.
    expect(doneA1).toMatchObject({ scanned: BIG, replayed: BIG, already_pending: 0 });
    expect(doneA2).toMatchObject({ scanned: BIG, replayed: BIG, already_pending: 0 });
    expect(doneB).toMatchObject({ scanned: EVENTS, replayed: EVENTS, already_pending: 0 });
    await worker.stop();
    await api.stop();
  });

  it('refuses a replay past the per-organization caps with limit_reached naming the cap, queuing nothing', async () => {
    const api = await service('api', { AEGIS_MAX_RUNNING_REPLAYS_PER_ORG: '2' });
    const org = await orgWithHistory(api);
    const ds = [];
    for (let i = 0; i < 3; i++) ds.push(await createDestination(api, org, { enabled: false }));
    const [a, b, c] = [await replay(api, org.apiKey, ds[0]!.path), await replay(api, org.apiKey, ds[1]!.path), await replay(api, org.apiKey, ds[2]!.path)];
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(c.status, c.text).toBe(409);
    expect(c.body.error.code).toBe('limit_reached');
    expect(c.body.error.message).toMatch(/AEGIS_MAX_RUNNING_REPLAYS_PER_ORG = 2/);
    expect(await jobRows(tdb.db, ds[2]!.id)).toHaveLength(0);
    // A small window is still answered at once: it is not a background replay.
    const small = await api.request('POST', `${ds[2]!.path}/replay`, {
      apiKey: org.apiKey,
      body: { from: new Date(Date.now() - 7_200_000).toISOString(), to: new Date(Date.now() - 3_600_000).toISOString() },
    });
    expect(small.status, small.text).toBe(200);
    // Another organization is not held back; cancelling one makes room again.
    const other = await orgWithHistory(api);
    const od = await createDestination(api, other, { enabled: false });
    expect((await replay(api, other.apiKey, od.path)).status).toBe(202);
    expect((await api.request('POST', `${ds[0]!.path}/replays/${a.body.replay_id}/cancel`, { apiKey: org.apiKey })).status).toBe(200);
    expect((await replay(api, org.apiKey, ds[2]!.path)).status).toBe(202);
    await api.stop();

    const capped = await service('api', { AEGIS_MAX_REPLAY_EVENTS: String(EVENTS - 1) });
    const org3 = await orgWithHistory(capped);
    const d3 = await createDestination(capped, org3, { enabled: false });
    const big = await replay(capped, org3.apiKey, d3.path);
    expect(big.status, big.text).toBe(409);
    expect(big.body.error).toMatchObject({ code: 'limit_reached' });
    expect(big.body.error.message).toMatch(new RegExp(`holds more than ${EVENTS - 1} recorded events.*AEGIS_MAX_REPLAY_EVENTS = ${EVENTS - 1}`));
    expect(await jobRows(tdb.db, d3.id)).toHaveLength(0);
    await capped.stop();
  });

  // A refused request used to queue its first batch and count the window inside one write
  // transaction, holding a transaction id (and with it every organization's pull API) while it
  // counted (an attacker review). Now the caps are read first: with the queue's and the replays'
  // tables locked against writes by another session, both refusals still come back as 409, where a
  // request that wrote first would wait for the lock until the API's statement limit answered 503.
  it.runIf(kind === 'postgres')('refuses over the caps before writing anything', async () => {
    const api = await service('api', { AEGIS_MAX_RUNNING_REPLAYS_PER_ORG: '1', AEGIS_MAX_REPLAY_EVENTS: String(EVENTS) });
    const org = await orgWithHistory(api);
    const [d1, d2] = [await createDestination(api, org, { enabled: false }), await createDestination(api, org, { enabled: false })];
    expect((await replay(api, org.apiKey, d1.path)).status).toBe(202);
    const big = await orgWithHistory(api);
    await seedEvents(tdb.db, big.orgId, 1);
    const d3 = await createDestination(api, big, { enabled: false });
    const locker = new pg.Client({ connectionString: tdb.url! });
    locker.on('error', () => undefined);
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE forwarding_jobs, replays IN EXCLUSIVE MODE');
      const [running, tooLarge] = await Promise.all([replay(api, org.apiKey, d2.path), replay(api, big.apiKey, d3.path)]);
      expect(running.status, running.text).toBe(409);
      expect(running.body.error.message).toMatch(/AEGIS_MAX_RUNNING_REPLAYS_PER_ORG = 1/);
      expect(tooLarge.status, tooLarge.text).toBe(409);
      expect(tooLarge.body.error.message).toMatch(/AEGIS_MAX_REPLAY_EVENTS/);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect(await jobRows(tdb.db, d2.id)).toHaveLength(0);
    expect(await jobRows(tdb.db, d3.id)).toHaveLength(0);
    await api.stop();
  });

  it('the CLI makes the same request and walks the replay itself when no worker runs it (or leaves it with --no-wait)', async () => {
    const api = await service('api');
    const org = await orgWithHistory(api);
    const d = await createDestination(api, org, { enabled: false });
    const config = loadConfig({ ...ENV, AEGIS_ENCRYPTION_KEY: api.config.encryptionKey! });
    const w = { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000), config };
    const left = await replayDestination(tdb.db, d.id, { ...w, wait: false });
    expect(left).toMatchObject({ replayed: BATCH, replay_id: expect.stringMatching(/^rpl_/) });
    expect(await getReplay(api, org.apiKey, d.path, left.replay_id!)).toMatchObject({ status: 'running', created_by: 'cli' });
    expect((await api.request('POST', `${d.path}/replays/${left.replay_id}/cancel`, { apiKey: org.apiKey })).status).toBe(200);

    const walked = await replayDestination(tdb.db, d.id, { ...w, wait: true });
    expect(walked.replay_id).not.toBe(left.replay_id);
    // The cancelled replay's first batch is still waiting: the second one does not queue it twice.
    expect(walked).toMatchObject({ replayed: EVENTS - BATCH });
    expect(walked.message).toMatch(new RegExp(`${BATCH} event\\(s\\) already waiting`));
    expect(await getReplay(api, org.apiKey, d.path, walked.replay_id!)).toMatchObject({ status: 'done', scanned: EVENTS, created_by: 'cli' });
    expect(await jobRows(tdb.db, d.id)).toHaveLength(EVENTS);
    await api.stop();
  });

  it('documents every answer of the replay endpoints in /openapi.json', async () => {
    const api = await service('api');
    const doc = (await api.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    const one = '/api/orgs/{org_id}/forwarding-destinations/{destination_id}';
    expect(Object.keys(doc.paths[`${one}/replay`]!.post!.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '401', '404', '409']));
    expect(Object.keys(doc.paths[`${one}/replays`]!.get!.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404']));
    expect(Object.keys(doc.paths[`${one}/replays/{replay_id}`]!.get!.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404']));
    expect(Object.keys(doc.paths[`${one}/replays/{replay_id}/cancel`]!.post!.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404', '409']));
    expect(JSON.stringify(doc.components.schemas)).toContain('total_estimate');
    await api.stop();
  });
});
