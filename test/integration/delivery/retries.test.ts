import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import {
  DECISIONS_ONLY,
  hang,
  redirect,
  resetConnection,
  respondWith,
  slow,
  startReceiver,
  ok,
  trailEventCount,
  type Receiver,
} from '../../support/httpsReceiver.js';
import { logStatements, type StatementLog } from '../../support/statementLog.js';
import { CLAIM_JOBS_SQL, EXTEND_LEASE_SQL } from '../../../src/queue/claimJobs.js';
import { deliveryLog, eventIdsOf, jobRows, receivedCounts, seedEvents, sleep, statusCounts } from './support.js';

const METRICS_TOKEN = 'retries-metrics-token-0123456789';

// The retry schedule, dead letters, replay, Retry-After, redirects, network failures
// and /metrics, through the real service and real HTTPS receivers. Delays are shortened (1, 2, 3 s);
// assertions on time are loose lower bounds and orderings only.
describe.each(DB_KINDS)('delivery engine: retries, dead letters, replay (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // The metrics token turns on per-destination series, which this file reads.
    svc = await startTestService(tdb.db, {
      AEGIS_RETRY_DELAYS_S: '1,2,3',
      AEGIS_HTTP_TIMEOUT_MS: '4000',
      AEGIS_WORKER_INTERVAL_MS: '1000',
      AEGIS_METRICS_TOKEN: METRICS_TOKEN,
    });
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  async function setup(handler: Parameters<typeof startReceiver>[0], extra: Record<string, unknown> = {}) {
    const r = await startReceiver(handler);
    receivers.push(r);
    const org = await svc.newOrg();
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${r.url}/hook`, auth_header_name: 'Authorization', auth_header_value: 'Bearer t', ...extra },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    const path = `/api/orgs/${org.orgId}/forwarding-destinations/${id}`;
    const get = async (): Promise<Record<string, unknown>> => (await svc.request('GET', path, { apiKey: org.apiKey })).body as Record<string, unknown>;
    return { r, org, id, path, get };
  }

  // A secrets review: Elasticsearch refuses a mapping conflict quoting the value ("Preview of field's
  // value: 'alice@example.com'"), and the operator's warn line carried that text verbatim, an event's
  // personal data in the process log. The tenant reads it in its own views; the log gets the status.
  it("a SIEM quoting an event's value in its refusal: the tenant reads it, the operator's log line does not", async () => {
    const { r, org, id, get } = await setup((req) => {
      const event = JSON.parse(req.body.toString('utf8')) as { aegis?: { actor_id?: string } };
      return { status: 400, body: `failed to parse field [aegis.actor_id]. Preview of field's value: '${event.aegis?.actor_id ?? ''}'` };
    });
    await seedEvents(tdb.db, org.orgId, 1);
    await expect.poll(async () => (await jobRows(tdb.db, id))[0]?.status, { timeout: 60_000 }).toBe('failed');
    expect(r.requests.length).toBeGreaterThan(0);
    expect((await get()).last_error).toContain("Preview of field's value: 'alice@example.com'");
    const logged = svc.logs.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => String(l.msg).startsWith('events dead-lettered') && l.destination_id === id);
    expect(logged.length).toBeGreaterThan(0);
    for (const l of logged) expect(l).toMatchObject({ dead_lettered: 1, status_code: 400 });
    expect(svc.logs.text()).not.toContain('alice@example.com');
  });

  it('a failing event is tried 4 times on the schedule with the same id, dead-lettered, listed, replayed and delivered', async () => {
    const { r, org, id, path, get } = await setup(respondWith(503, 'maintenance'));
    const [eventId] = await seedEvents(tdb.db, org.orgId, 1);
    await r.waitFor((reqs) => reqs.length >= 4, 60_000);
    await expect.poll(async () => (await jobRows(tdb.db, id))[0]?.status, { timeout: 60_000 }).toBe('failed');
    await sleep(1500);
    expect(r.requests).toHaveLength(4); // no fifth attempt
    const t = r.requests.map((q) => q.receivedAt);
    const gaps = [t[1]! - t[0]!, t[2]! - t[1]!, t[3]! - t[2]!];
    // Schedule 1 s, 2 s, 3 s with ±10 % jitter: each gap at least 90 % of its delay (loose lower bounds).
    expect(gaps[0]).toBeGreaterThanOrEqual(850);
    expect(gaps[1]).toBeGreaterThanOrEqual(1750);
    expect(gaps[2]).toBeGreaterThanOrEqual(2650);
    for (const q of r.requests) expect(q.headers['idempotency-key']).toBe(eventId);

    const job = (await jobRows(tdb.db, id))[0]!;
    expect(job).toMatchObject({ status: 'failed', attempts: 4, claim_id: null });
    const dest = await get();
    expect(dest.status).toBe('failing');
    // The dead letter is surfaced through last_error (product page), which no longer promises a retry.
    const deadLettered = /^HTTP 503: .*\. Dead-lettered after 4 attempts: fix the destination, then replay its failed events\.$/;
    expect(dest.last_error).toMatch(deadLettered);
    expect(dest.last_error).not.toMatch(/will retry/i);
    expect(dest.failed_events).toBe(1);
    // The operator's log line says so too (a review's read "HTTP 503: ...; Aegis will retry.").
    const logged = svc.logs.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => String(l.msg).startsWith('events dead-lettered') && l.destination_id === id);
    expect(logged.length).toBeGreaterThan(0);
    for (const l of logged) expect(l).toMatchObject({ status_code: 503 });

    const failed = await svc.request('GET', `${path}/failed-events`, { apiKey: org.apiKey });
    expect(failed.status).toBe(200);
    expect(failed.body.events.map((e: { event_id: string }) => e.event_id)).toEqual([eventId]);
    expect(failed.body.events[0].attempts).toBe(4);
    expect(failed.body.events[0].last_error).toMatch(deadLettered);

    r.setHandler(ok());
    const replay = await svc.request('POST', `${path}/replay`, { apiKey: org.apiKey });
    expect(replay.status).toBe(200);
    expect(replay.body.replayed).toBe(1);
    await r.waitFor((reqs) => reqs.length >= 5, 60_000);
    expect(r.requests[4]!.headers['idempotency-key']).toBe(eventId);
    await expect.poll(async () => (await get()).status, { timeout: 60_000 }).toBe('active');
    // Delivered: its job is gone (a delivered job is deleted when settled), the receiver got it five
    // times (four refusals, one success) and the log shows the four failures and the delivery (beside
    // the configuration trail events the receiver absorbed).
    await expect.poll(async () => jobRows(tdb.db, id), { timeout: 60_000 }).toEqual([]);
    expect(receivedCounts(r.requests)).toEqual(new Map([[eventId, 5]]));
    await expect.poll(async () => deliveryLog(tdb.db, id), { timeout: 60_000 }).toEqual({ delivered: 1 + trailEventCount(r.trailRequests), failed: 4 });
    const after = await svc.request('GET', `${path}/failed-events`, { apiKey: org.apiKey });
    expect(after.body.events).toEqual([]);
  });

  it('429 with Retry-After waits at least that long; an absurd Retry-After is capped', async () => {
    let n = 0;
    const { r, org, id } = await setup(() => (n++ === 0 ? { status: 429, headers: { 'retry-after': '3' }, body: 'slow down' } : { status: 200, body: 'ok' }));
    const [first] = await seedEvents(tdb.db, org.orgId, 1);
    await r.waitFor((reqs) => reqs.length >= 2, 60_000);
    expect(r.requests[1]!.receivedAt - r.requests[0]!.receivedAt).toBeGreaterThanOrEqual(2900); // not the 1 s schedule
    // Delivered on the second request: its job is gone, the receiver got it twice (429, then 200), and
    // the log has the one refusal.
    await expect.poll(async () => jobRows(tdb.db, id)).toEqual([]);
    expect(receivedCounts(r.requests)).toEqual(new Map([[first, 2]]));
    await expect.poll(async () => (await deliveryLog(tdb.db, id)).failed).toBe(1);

    // 503 asking for a day: clamped to at most an hour.
    r.setHandler(respondWith(503, 'busy', { 'retry-after': '86400' }));
    const before = Date.now();
    const [second] = await seedEvents(tdb.db, org.orgId, 1);
    await r.waitFor((reqs) => reqs.length >= 3, 60_000);
    const secondJob = async () => (await jobRows(tdb.db, id)).find((j) => j.event_id === second);
    await expect.poll(async () => (await secondJob())?.attempts).toBe(1);
    const job = (await secondJob())!;
    const wait = new Date(job.next_attempt_at).getTime() - before;
    expect(wait).toBeGreaterThan(3_000_000);
    expect(wait).toBeLessThanOrEqual(3_600_000 + 60_000);
    expect(job.claim_id).toBeNull();
  });

  it('a redirect is a failure with a hint and is never followed', async () => {
    const target = await startReceiver(ok());
    receivers.push(target);
    // Decisions only: its own destination_created trail event, answered 200 by the receiver, could
    // share the claim with the redirected event, and a delivery in a claim clears last_error.
    const { r, org, id, get } = await setup(redirect(`${target.url}/final`, 302), { filter: DECISIONS_ONLY });
    await seedEvents(tdb.db, org.orgId, 1);
    await r.waitFor((reqs) => reqs.length >= 1, 60_000);
    // A failure that is retried, not dead-lettered at its first try. Read at any later point: a slow
    // poll may first see the job after its 1 s retry, or even once its retries ran out.
    await expect.poll(async () => (await jobRows(tdb.db, id))[0]?.attempts, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    const job = (await jobRows(tdb.db, id))[0]!;
    expect(job.status === 'pending' || (job.status === 'failed' && job.attempts > 1), `${job.status} after ${job.attempts} attempts`).toBe(true);
    expect(target.count).toBe(0);
    const dest = await get();
    expect(dest.last_error).toMatch(/redirect/i);
    expect(dest.last_error).toMatch(/final URL/i);
    expect(dest.status).toBe('failing');
  });

  it('timeouts and connection resets are retried; a slow but timely answer is a delivery', async () => {
    // Decisions only: their own trail event, delivered in the failing event's claim, clears last_error.
    const decisionsOnly = { filter: DECISIONS_ONLY };
    const hung = await setup(hang(), decisionsOnly);
    const reset = await setup(resetConnection(), decisionsOnly);
    const slowOne = await setup(slow(800));
    await seedEvents(tdb.db, hung.org.orgId, 1);
    await seedEvents(tdb.db, reset.org.orgId, 1);
    const [slowEvent] = await seedEvents(tdb.db, slowOne.org.orgId, 1);
    // Retried: a second try was made and settled. The reset one, failing at once, may have run out of
    // its retries by the time it is read (dead-lettered about 6 s after its first try); it was retried all the same.
    await expect.poll(async () => (await jobRows(tdb.db, hung.id))[0]?.attempts, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(async () => (await jobRows(tdb.db, reset.id))[0]?.attempts, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    // The slow answer delivered it: its job is gone, the receiver got it once, no failure was logged.
    await expect.poll(async () => jobRows(tdb.db, slowOne.id), { timeout: 60_000 }).toEqual([]);
    expect(receivedCounts(slowOne.r.requests)).toEqual(new Map([[slowEvent, 1]]));
    expect((await deliveryLog(tdb.db, slowOne.id)).failed).toBe(0);
    expect(['pending', 'failed']).toContain((await jobRows(tdb.db, hung.id))[0]!.status);
    expect(['pending', 'failed']).toContain((await jobRows(tdb.db, reset.id))[0]!.status);
    expect((await hung.get()).last_error).toMatch(/timeout/i);
    expect((await reset.get()).last_error).toMatch(/reset|closed/i);
    expect((await slowOne.get()).status).toBe('active');
  });

  it('an event the preset cannot encode is dead-lettered alone; the rest of its batch is delivered', async () => {
    const { r, org, id, get } = await setup(ok(), { siem: 'splunk_hec' });
    await svc.request('PATCH', `/api/orgs/${org.orgId}/forwarding-destinations/${id}`, { apiKey: org.apiKey, body: { enabled: false } });
    const ids = await seedEvents(tdb.db, org.orgId, 5);
    // A poison pill written around the API: Splunk's envelope needs a parsable @timestamp.
    const { rows: col } = await tdb.db.query<{ t: string }>(
      `SELECT data_type AS t FROM information_schema.columns WHERE table_name = 'audit_events' AND column_name = 'payload' LIMIT 1`,
    );
    const { rows: ev } = await tdb.db.query<{ p: unknown }>(`SELECT payload AS p FROM audit_events WHERE id = $1`, [ids[2]]);
    const bad = { ...(typeof ev[0]!.p === 'string' ? JSON.parse(ev[0]!.p) : ev[0]!.p), '@timestamp': 'not a time' };
    await tdb.db.query(`UPDATE audit_events SET payload = $2::text::${col[0]!.t === 'json' ? 'json' : 'jsonb'} WHERE id = $1`, [ids[2], JSON.stringify(bad)]);
    await tdb.db.query(`INSERT INTO forwarding_jobs (org_id, destination_id, event_id) SELECT org_id, $1, id FROM audit_events WHERE org_id = $2`, [
      id,
      org.orgId,
    ]);
    await svc.request('PATCH', `/api/orgs/${org.orgId}/forwarding-destinations/${id}`, { apiKey: org.apiKey, body: { enabled: true } });
    // All five settled (none pending): the poison pill dead-lettered, the other four delivered (their
    // jobs deleted), each received exactly once.
    await expect.poll(async () => statusCounts(tdb.db, id), { timeout: 60_000 }).toEqual({ failed: 1 });
    const rows = await jobRows(tdb.db, id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event_id: ids[2], status: 'failed', claim_id: null });
    const got = new Set(r.requests.flatMap((q) => [...q.body.toString('utf8').matchAll(/"id":"(pflt_[^"]+)"/g)].map((m) => m[1])));
    expect(got.has(ids[2])).toBe(false);
    expect(got.size).toBe(4);
    expect(receivedCounts(r.requests)).toEqual(new Map(ids.filter((_, i) => i !== 2).map((e) => [e, 1])));
    void get;
    const failed = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${id}/failed-events`, { apiKey: org.apiKey });
    expect(failed.body.events.map((e: { event_id: string }) => e.event_id)).toEqual([ids[2]]);
    expect(failed.body.events[0].last_error).toMatch(/cannot be encoded/);
  });

  it('/metrics: delivered, retried and dead-lettered per destination, queue depth, oldest due age, latency histogram', async () => {
    let n = 0;
    const { r, org, id } = await setup(() => (n++ < 4 ? { status: 500, body: 'boom' } : { status: 200, body: 'ok' }));
    // Event 1 fails 4 times (dead letter); then 2 more are delivered.
    await seedEvents(tdb.db, org.orgId, 1);
    await expect.poll(async () => (await statusCounts(tdb.db, id)).failed ?? 0, { timeout: 60_000 }).toBe(1);
    const delivered = await seedEvents(tdb.db, org.orgId, 2);
    // Both delivered at the first request: none pending, no second dead letter, each received once.
    await expect.poll(async () => statusCounts(tdb.db, id), { timeout: 60_000 }).toEqual({ failed: 1 });
    const counts = receivedCounts(r.requests);
    for (const e of delivered) expect(counts.get(e), e).toBe(1);
    // A held (disabled) destination with a job due 90 s ago: queue depth and oldest due age.
    const held = await setup(ok(), { enabled: false });
    const [heldEvent] = await seedEvents(tdb.db, held.org.orgId, 1);
    await tdb.db.query(`INSERT INTO forwarding_jobs (org_id, destination_id, event_id, next_attempt_at) VALUES ($1, $2, $3, now() - interval '90 seconds')`, [
      held.org.orgId,
      held.id,
      heldEvent,
    ]);

    // Its own destination_created event (the configuration trail, queued with the destination) was
    // delivered too: its job is gone (neither pending nor dead-lettered) and the receiver absorbed it.
    const trailJobs = async () =>
      (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1 AND left(event_id, 4) = 'cfg_'`, [id]))
        .rows[0]!.n;
    await expect.poll(trailJobs, { timeout: 60_000 }).toBe(0);
    expect(trailEventCount(r.trailRequests)).toBe(1);
    // The delivery log agrees with the counters below: 3 events delivered, 4 failed requests.
    expect(await deliveryLog(tdb.db, id)).toEqual({ delivered: 3, failed: 4 });
    const res = await fetch(`${svc.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const metric = (name: string, labels: string) => {
      const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(labels));
      return line ? Number(line.split(' ').pop()) : undefined;
    };
    expect(metric('aegis_events_delivered_total', `destination_id="${id}"`)).toBe(3);
    expect(metric('aegis_events_retried_total', `destination_id="${id}"`)).toBe(3);
    expect(metric('aegis_events_dead_lettered_total', `destination_id="${id}"`)).toBe(1);
    expect(metric('aegis_queue_depth', `destination_id="${id}",status="failed"`)).toBe(1);
    expect(text).toMatch(/aegis_delivery_latency_seconds_bucket\{le="[^"]+",siem="custom"\} \d+/);
    expect(metric('aegis_delivery_latency_seconds_count', 'siem="custom"')).toBeGreaterThanOrEqual(2);
    expect(metric('aegis_queue_depth', `destination_id="${held.id}",status="pending"`)).toBe(1);
    expect(metric('aegis_queue_oldest_due_age_seconds', `destination_id="${held.id}"`)).toBeGreaterThanOrEqual(89);
  });
});

// The settle committed but its answer was lost (the connection dropped after COMMIT): the worker sends
// it again (whileDatabaseAway), and every job is then fenced. The requests are logged and counted once
// (the delivery log, /stats), and the worker does not report a lease that never ran out.
describe.each(DB_KINDS)('delivery engine: a settle whose answer was lost (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let log: StatementLog;
  const receivers: Receiver[] = [];
  /** The destination whose next settle's answer is lost. */
  let loseNext: string | null = null;
  /** Settle statements the database answered, per destination. */
  const settles = new Map<string, number>();

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    log = logStatements(tdb.db);
    log.after = (st) => {
      if (!st.text.includes('INSERT INTO delivery_attempts')) return;
      const dest = st.values[7] as string;
      settles.set(dest, (settles.get(dest) ?? 0) + 1);
      if (dest === loseNext) {
        loseNext = null;
        throw new Error('Connection terminated unexpectedly');
      }
    };
    svc = await startTestService(log.db, { AEGIS_RETRY_DELAYS_S: '1,1,1', AEGIS_WORKER_INTERVAL_MS: '500' });
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  it.each([
    ['delivered', 200],
    ['retried, then dead-lettered', 400],
  ] as const)('%s: each request logged and counted once', async (_, status) => {
    const r = await startReceiver(respondWith(status, status === 200 ? 'ok' : 'bad'));
    receivers.push(r);
    const org = await svc.newOrg();
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${r.url}/hook`, auth_header_name: 'Authorization', auth_header_value: 'Bearer t' },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    const path = `/api/orgs/${org.orgId}/forwarding-destinations/${id}`;
    const pending = async () =>
      (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1 AND status = 'pending'`, [id])).rows[0]!.n;
    const stats = async () => {
      const hours = (await svc.request('GET', `${path}/stats`, { apiKey: org.apiKey })).body.hours as Array<{ delivered: number; failed: number }>;
      return { delivered: hours.reduce((n, h) => n + h.delivered, 0), failed: hours.reduce((n, h) => n + h.failed, 0) };
    };
    // Its trail event (destination_created) settled first.
    await expect.poll(pending, { timeout: 60_000 }).toBe(0);
    const before = { log: await deliveryLog(tdb.db, id), stats: await stats() };
    const logLines = svc.logs.lines.length;

    loseNext = id;
    settles.set(id, 0);
    const [ev] = await seedEvents(tdb.db, org.orgId, 1);
    await expect.poll(async () => (await jobRows(tdb.db, id)).map((j) => j.status), { timeout: 60_000 }).toEqual(status === 200 ? [] : ['failed']);
    expect(loseNext).toBeNull(); // the answer was lost
    const sent = receivedCounts(r.requests).get(ev!)!;
    expect(sent).toBe(status === 200 ? 1 : 4);
    // One settle a request, and the lost one sent again.
    await expect.poll(() => settles.get(id), { timeout: 60_000 }).toBe(sent + 1);
    const once = status === 200 ? { delivered: 1, failed: 0 } : { delivered: 0, failed: sent };
    const delta = (a: { delivered: number; failed: number }, b: { delivered: number; failed: number }) => ({
      delivered: a.delivered - b.delivered,
      failed: a.failed - b.failed,
    });
    expect(delta(await deliveryLog(tdb.db, id), before.log)).toEqual(once);
    expect(delta(await stats(), before.stats)).toEqual(once);
    expect(svc.logs.lines.slice(logLines).filter((l) => l.includes('lease expired'))).toEqual([]);
  });
});

// A worker whose lease ran out (its heartbeat lost) answers late, after another worker claimed the event
// again and delivered it. The late request stays in the delivery log, but it says nothing about the
// destination: still active, no error, no failing streak, breaker closed, no alert, nothing dead-lettered.
describe.each(DB_KINDS)('delivery engine: an answer after the lease ran out (%s)', (kind) => {
  let tdb: TestDb;
  const stops: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await tdb?.close();
  });

  it('a late 503 on the event’s last attempt, after another worker delivered it, changes nothing on the destination', async () => {
    const env = { AEGIS_LEASE_S: '5', AEGIS_RETRY_DELAYS_S: '1,1,1', AEGIS_WORKER_INTERVAL_MS: '500', AEGIS_HTTP_TIMEOUT_MS: '120000' };
    const log = logStatements(tdb.db);
    let openClaims!: () => void;
    const claimsHeld = new Promise<void>((resolve) => (openClaims = resolve));
    let id = '';
    let lateSettles = 0;
    log.before = async (st) => {
      if (st.text === EXTEND_LEASE_SQL) throw new Error('injected: the heartbeat is lost');
      if (st.text === CLAIM_JOBS_SQL) await claimsHeld;
    };
    log.after = (st) => {
      if (st.text.includes('INSERT INTO delivery_attempts') && st.values[7] === id) lateSettles++;
    };
    const a = await startTestService(log.db, env);
    let aStopped: Promise<void> | null = null;
    const stopA = () => (aStopped ??= a.stop());
    stops.push(stopA);
    let answerLate!: () => void;
    const late = new Promise<void>((resolve) => (answerLate = resolve));
    let first = true;
    const r = await startReceiver(async (req) => {
      if (eventIdsOf(req).length > 0 && first) {
        first = false;
        await late;
        return { status: 503, body: 'busy' };
      }
      return { status: 200, body: 'ok' };
    });
    stops.push(() => r.close());
    const org = await a.newOrg();
    const res = await a.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${r.url}/hook`, auth_header_name: 'Authorization', auth_header_value: 'Bearer t' },
    });
    expect(res.status, res.text).toBe(201);
    id = res.body.destination_id as string;
    const [ev] = await seedEvents(tdb.db, org.orgId, 1);
    // Its last attempt (3 made on the schedule 1,1,1), and only it queued.
    await tdb.db.query(`UPDATE forwarding_jobs SET attempts = 3 WHERE destination_id = $1 AND event_id = $2`, [id, ev]);
    await tdb.db.query(`DELETE FROM forwarding_jobs WHERE destination_id = $1 AND left(event_id, 4) = 'cfg_'`, [id]);
    openClaims();
    await r.waitFor((reqs) => reqs.some((q) => eventIdsOf(q).length > 0), 60_000);

    // Worker A's lease runs out; worker B claims the event again and delivers it.
    const b = await startTestService(tdb.db, { ...env, AEGIS_ENCRYPTION_KEY: a.config.encryptionKey! }, 'worker');
    stops.push(() => b.stop());
    await expect.poll(async () => jobRows(tdb.db, id), { timeout: 60_000 }).toEqual([]);
    expect(receivedCounts(r.requests).get(ev!)).toBe(2);
    const state = async () =>
      (
        await tdb.db.query(
          `SELECT last_attempt_ok, last_error, last_dead_letter_at, failing_since, consecutive_failures, paused_until FROM destinations WHERE id = $1`,
          [id],
        )
      ).rows[0];
    const delivered = await state();
    expect(delivered).toMatchObject({ last_attempt_ok: true, last_error: null, failing_since: null, consecutive_failures: 0 });

    // A's request is answered now: 503, the job's last attempt.
    answerLate();
    await expect.poll(() => lateSettles, { timeout: 60_000 }).toBe(1);
    const path = `/api/orgs/${org.orgId}/forwarding-destinations/${id}`;
    const view = (await a.request('GET', path, { apiKey: org.apiKey })).body;
    expect(view).toMatchObject({ status: 'active', last_error: null, failed_events: 0 });
    await stopA(); // its alerter's evaluations finished too
    expect(await state()).toEqual(delivered);
    // Both requests happened, and the log says so.
    expect(await deliveryLog(tdb.db, id)).toEqual({ delivered: 1, failed: 1 });
    const { rows: alerts } = await tdb.db.query<{ state: string }>(`SELECT state FROM destination_alert_state WHERE destination_id = $1`, [id]);
    expect(alerts.filter((x) => x.state !== 'ok')).toEqual([]);
  });
});
