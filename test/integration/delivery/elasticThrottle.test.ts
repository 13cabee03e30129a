import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { DECISIONS_ONLY, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { DEFAULT_LIMITS } from '../../../src/delivery/configuredLimits.js';
import { allDelivered, jobRows, receivedCounts, seedEvents } from './support.js';

const METRICS_TOKEN = 'elastic-throttle-metrics-token-0123456789';
/** One retry: an event is attempted at most twice before it is dead-lettered. */
const RETRY_DELAYS_S = '1';
/** How many times the cluster sheds each odd event: more than the attempts the schedule allows. */
const REJECTIONS = 3;

// Elastic's _bulk answers 200 with per-item 429 es_rejected_execution_exception when the cluster's
// write queue is full: a transient load condition. Those items are the SIEM pacing Aegis, as a
// request-level 429 is: they go back without an attempt (never dead-lettered for it, however long it
// lasts), the destination's limits are lowered, and the other items of the answer settle as ever.
describe.each(DB_KINDS)('Elastic items shed with 429 (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver | undefined;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: RETRY_DELAYS_S, AEGIS_METRICS_TOKEN: METRICS_TOKEN });
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('gives the shed items back without an attempt, delivers the rest, lowers the limits, dead-letters nothing', async () => {
    const org = await svc.newOrg();
    const seen = new Map<string, number>();
    // Each shed event's job as its last, accepted, sending arrives: claimed for it, with every attempt
    // it spent before settled (an attempt is counted when it settles). The worker holds no transaction
    // while a request is in flight, so the receiver can read it.
    const attemptsAtLastSending = new Map<string, number | undefined>();
    let destId = '';
    const rejected = { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation [shard_detail=[logs][0]]' };
    receiver = await startReceiver(async (req) => {
      const lines = req.body.toString('utf8').split('\n');
      const items = [];
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!).create;
        const n = (seen.get(action._id) ?? 0) + 1;
        seen.set(action._id, n);
        // Which seeded event this is: the odd ones are shed REJECTIONS times, then written.
        const which = Number(/\(#(\d+)\)/.exec(JSON.parse(lines[i + 1]!).aegis.summary)![1]);
        const shed = which % 2 === 1 && n <= REJECTIONS;
        if (which % 2 === 1 && n === REJECTIONS + 1) {
          attemptsAtLastSending.set(action._id, (await jobRows(tdb.db, destId)).find((j) => j.event_id === action._id)?.attempts);
        }
        items.push({ create: { _index: action._index, _id: action._id, ...(shed ? { status: 429, error: rejected } : { status: 201, result: 'created' }) } });
      }
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ took: 3, errors: items.some((x) => x.create.status >= 300), items }),
      };
    });
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { filter: DECISIONS_ONLY, siem: 'elastic', url: `${receiver.url}/_bulk`, auth_header_name: 'Authorization', auth_header_value: 'ApiKey aWQ6a2V5' },
    });
    expect(res.status, res.text).toBe(201);
    destId = res.body.destination_id as string;
    const ids = await seedEvents(tdb.db, org.orgId, 4);
    const shedIds = ids.filter((_, i) => i % 2 === 1);

    // Every event delivered; or, as before the fix, a shed event's attempts run out and it is
    // dead-lettered first (then fail at once, with the dead letters, not a timeout).
    const deadLetters = async () => (await jobRows(tdb.db, destId)).filter((j) => j.status === 'failed').map((j) => `${j.event_id}: ${j.last_error}`);
    await expect
      .poll(async () => (await allDelivered(tdb.db, destId, ids, receiver!.requests)) || (await deadLetters()).length > 0, { timeout: 120_000, interval: 100 })
      .toBe(true);
    expect(await deadLetters()).toEqual([]);
    // Refused REJECTIONS times, and not one attempt spent.
    expect(shedIds.map((id) => [id, attemptsAtLastSending.get(id)])).toEqual(shedIds.map((id) => [id, 0]));
    expect(await jobRows(tdb.db, destId)).toEqual([]);
    const failed = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${destId}/failed-events`, { apiKey: org.apiKey });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ events: [], total: 0 });
    // The shed events went again, alone; the others were written at the first request and never resent.
    const counts = receivedCounts(receiver.requests);
    expect(ids.map((id) => counts.get(id))).toEqual(ids.map((id) => (shedIds.includes(id) ? REJECTIONS + 1 : 1)));

    // The requests the cluster refused in full are the pacing kind, not failures (no breaker count),
    // and the destination's limits were lowered: this worker still sends below its configured rate.
    const { rows: dest } = await tdb.db.query<{ consecutive_failures: number; paused_until: Date | null }>(
      'SELECT consecutive_failures, paused_until FROM destinations WHERE id = $1',
      [destId],
    );
    expect(dest[0]).toMatchObject({ consecutive_failures: 0, paused_until: null });
    const metrics = await (await fetch(`${svc.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const rate = metrics.split('\n').find((l) => l.startsWith('aegis_delivery_limit_events_per_second{') && l.includes(destId));
    expect(rate, 'the limiter of the destination was never lowered').toBeDefined();
    expect(Number(rate!.split(' ').pop())).toBeLessThan(DEFAULT_LIMITS.elastic.eventsPerSecond);
    // Requests refused in full were given back (the first one also carried events written at once).
    const throttled = new RegExp(`aegis_delivery_requests_total\\{destination_id="${destId}",siem="elastic",result="throttled"\\} (\\d+)`).exec(metrics);
    expect(Number(throttled?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    // The delivery log shows every refusal with its reason.
    const { rows: log } = await tdb.db.query<{ error: string | null; failed_count: number }>(
      'SELECT error, failed_count FROM delivery_attempts WHERE destination_id = $1 AND event_count > 0 AND failed_count > 0 ORDER BY id',
      [destId],
    );
    expect(log.length).toBeGreaterThanOrEqual(REJECTIONS);
    expect(log.every((l) => /es_rejected_execution_exception/.test(l.error ?? ''))).toBe(true);
  });
});

// A document the cluster sheds every time (a hostile or broken answer, a hot shard) must not come back
// for ever: once its job is older than AEGIS_RATE_LIMITED_FAILING_AFTER_S a shed spends an attempt, so
// it ends as a dead letter on the schedule, and the events beside it are delivered once each.
describe.each(DB_KINDS)('an Elastic document shed every time (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver | undefined;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: RETRY_DELAYS_S, AEGIS_RATE_LIMITED_FAILING_AFTER_S: '3' });
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('ends as a dead letter after its attempts, and the others arrive once', async () => {
    const org = await svc.newOrg();
    receiver = await startReceiver((req) => {
      const lines = req.body.toString('utf8').split('\n');
      const items = [];
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!).create;
        const poisoned = /\(#0\)/.test(JSON.parse(lines[i + 1]!).aegis.summary);
        // A 429 without an error type: shed for load, as far as Aegis can tell.
        items.push({ create: { _index: action._index, _id: action._id, ...(poisoned ? { status: 429 } : { status: 201, result: 'created' }) } });
      }
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ took: 1, errors: true, items }) };
    });
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { filter: DECISIONS_ONLY, siem: 'elastic', url: `${receiver.url}/_bulk`, auth_header_name: 'Authorization', auth_header_value: 'ApiKey aWQ6a2V5' },
    });
    expect(res.status, res.text).toBe(201);
    const destId = res.body.destination_id as string;
    const ids = await seedEvents(tdb.db, org.orgId, 5);
    const [poisoned, ...others] = ids;

    await expect
      .poll(async () => (await jobRows(tdb.db, destId)).map((j) => `${j.event_id}:${j.status}`), { timeout: 120_000, interval: 200 })
      .toEqual([`${poisoned}:failed`]);
    const [dead] = await jobRows(tdb.db, destId);
    // Both attempts the schedule allows (AEGIS_RETRY_DELAYS_S=1) were spent, and the reason says why.
    expect(dead).toMatchObject({ attempts: 2 });
    expect(dead!.last_error).toMatch(/Elasticsearch 429.*Dead-lettered after 2 attempts/);
    const counts = receivedCounts(receiver.requests);
    expect(others.map((id) => counts.get(id))).toEqual(others.map(() => 1));
    expect(counts.get(poisoned!)).toBeGreaterThanOrEqual(3);
  });
});

// The pacing window runs from a job's first shed, not from when it was queued: a backlog that waited
// out a long spell of whole-request 429s (or a breaker's pause) is still given back free when the
// cluster then sheds some of it.
describe.each(DB_KINDS)('Elastic sheds after a backlog waited (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver | undefined;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: RETRY_DELAYS_S, AEGIS_RATE_LIMITED_FAILING_AFTER_S: '3' });
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('gives back events queued longer than the window, shed for the first time', async () => {
    const org = await svc.newOrg();
    const seen = new Map<string, number>();
    let destId = '';
    // Whole requests refused with 429 until every job is older than the window (3 s)...
    let refuseUntilOlderThan: number | null = null;
    const attemptsAtLastSending = new Map<string, number | undefined>();
    receiver = await startReceiver(async (req) => {
      const lines = req.body.toString('utf8').split('\n');
      if (refuseUntilOlderThan === null || Date.now() < refuseUntilOlderThan) {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'retry-after': '1' };
        return { status: 429, headers, body: '{"error":"too many"}' };
      }
      // ...then event #1 is shed twice (two more than the retry schedule allows attempts for) and written.
      const items = [];
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!).create;
        const shedOne = /\(#1\)/.test(JSON.parse(lines[i + 1]!).aegis.summary);
        const n = shedOne ? (seen.get(action._id) ?? 0) + 1 : 1;
        seen.set(action._id, n);
        if (shedOne && n === 3) attemptsAtLastSending.set(action._id, (await jobRows(tdb.db, destId)).find((j) => j.event_id === action._id)?.attempts);
        const status = shedOne && n <= 2 ? { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } : { status: 201 };
        items.push({ create: { _index: action._index, _id: action._id, ...status } });
      }
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ took: 1, errors: true, items }) };
    });
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { filter: DECISIONS_ONLY, siem: 'elastic', url: `${receiver.url}/_bulk`, auth_header_name: 'Authorization', auth_header_value: 'ApiKey aWQ6a2V5' },
    });
    expect(res.status, res.text).toBe(201);
    destId = res.body.destination_id as string;
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    refuseUntilOlderThan = Date.now() + 4_000;

    const deadLetters = async () => (await jobRows(tdb.db, destId)).filter((j) => j.status === 'failed').map((j) => `${j.event_id}: ${j.last_error}`);
    await expect
      .poll(async () => (await allDelivered(tdb.db, destId, ids, receiver!.requests)) || (await deadLetters()).length > 0, { timeout: 120_000, interval: 100 })
      .toBe(true);
    expect(await deadLetters()).toEqual([]);
    expect([...attemptsAtLastSending.values()]).toEqual([0]);
  });
});

// A spell of sheds ends when the job goes a whole window without one (a pause, an outage, other
// failures): a shed after it starts a new spell, free again, instead of being charged for the old one.
describe.each(DB_KINDS)('Elastic sheds in two spells (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver | undefined;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: RETRY_DELAYS_S, AEGIS_RATE_LIMITED_FAILING_AFTER_S: '3' });
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('gives a shed back free after the destination was paused longer than the window', async () => {
    const org = await svc.newOrg();
    const sheds = new Map<string, number>();
    let destId = '';
    const attemptsAtLastSending = new Map<string, number | undefined>();
    // Event #1 is shed once, then (after the pause) twice more, then written.
    receiver = await startReceiver(async (req) => {
      const lines = req.body.toString('utf8').split('\n');
      const items = [];
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!).create;
        const shedOne = /\(#1\)/.test(JSON.parse(lines[i + 1]!).aegis.summary);
        const n = shedOne ? (sheds.get(action._id) ?? 0) + 1 : 1;
        sheds.set(action._id, n);
        if (shedOne && n === 4) attemptsAtLastSending.set(action._id, (await jobRows(tdb.db, destId)).find((j) => j.event_id === action._id)?.attempts);
        const status = shedOne && n <= 3 ? { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } : { status: 201 };
        items.push({ create: { _index: action._index, _id: action._id, ...status } });
      }
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ took: 1, errors: true, items }) };
    });
    const path = `/api/orgs/${org.orgId}/forwarding-destinations`;
    const res = await svc.request('POST', path, {
      apiKey: org.apiKey,
      body: { filter: DECISIONS_ONLY, siem: 'elastic', url: `${receiver.url}/_bulk`, auth_header_name: 'Authorization', auth_header_value: 'ApiKey aWQ6a2V5' },
    });
    expect(res.status, res.text).toBe(201);
    destId = res.body.destination_id as string;
    const ids = await seedEvents(tdb.db, org.orgId, 3);

    // The first shed recorded, the destination disabled until the job is due for more than a window.
    const shedAge = async () => {
      const { rows } = await tdb.db.query<{ s: number | null }>(
        'SELECT extract(epoch FROM now() - shed_due_at)::float8 AS s FROM forwarding_jobs WHERE destination_id = $1 AND event_id = $2',
        [destId, ids[1]],
      );
      return rows[0]?.s ?? null;
    };
    await expect.poll(shedAge, { timeout: 60_000, interval: 50 }).not.toBeNull();
    expect((await svc.request('PATCH', `${path}/${destId}`, { apiKey: org.apiKey, body: { enabled: false } })).status).toBe(200);
    await expect.poll(async () => (await shedAge())! > 4, { timeout: 60_000, interval: 200 }).toBe(true);
    expect((await svc.request('PATCH', `${path}/${destId}`, { apiKey: org.apiKey, body: { enabled: true } })).status).toBe(200);

    const deadLetters = async () => (await jobRows(tdb.db, destId)).filter((j) => j.status === 'failed').map((j) => `${j.event_id}: ${j.last_error}`);
    await expect
      .poll(async () => (await allDelivered(tdb.db, destId, ids, receiver!.requests)) || (await deadLetters()).length > 0, { timeout: 120_000, interval: 100 })
      .toBe(true);
    expect(await deadLetters()).toEqual([]);
    expect([...attemptsAtLastSending.values()]).toEqual([0]);
  });
});
