import { expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../../src/delivery/configuredLimits.js';
import { jobRows, receivedCounts } from './support.js';
import { attemptsOf, bulkReceiver, deadLettersOnceSettled, describeShedding, elasticDestination } from './elasticSupport.js';

const METRICS_TOKEN = 'elastic-throttle-metrics-token-0123456789';
/** How many times the cluster sheds each odd event: more than the attempts the schedule allows. */
const REJECTIONS = 3;
/** A pacing window (AEGIS_RATE_LIMITED_FAILING_AFTER_S) short enough to run out within a test. */
const SHORT_WINDOW_S = '3';
const SHED = {
  status: 429,
  error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation [shard_detail=[logs][0]]' },
};
const WRITTEN = { status: 201, result: 'created' };

// Elastic's _bulk answers 200 with per-item 429 es_rejected_execution_exception when the cluster's
// write queue is full: a transient load condition. Those items are the SIEM pacing Aegis, as a
// request-level 429 is: they go back without an attempt (never dead-lettered for it within the pacing
// window), a request the cluster took none of lowers the limits, and the other items settle as ever.
describeShedding('Elastic items shed with 429', { AEGIS_METRICS_TOKEN: METRICS_TOKEN }, (t) => {
  it('gives the shed items back without an attempt, delivers the rest, lowers the limits, dead-letters nothing', async () => {
    let destId = '';
    // Each shed event's job as its last, accepted, sending arrives: claimed for it, with every attempt
    // it spent before settled (an attempt is counted when it settles).
    const attemptsAtLastSending = new Map<string, number | undefined>();
    // The odd events are shed REJECTIONS times, then written.
    const d = await elasticDestination(
      t,
      bulkReceiver(async (seeded, n, eventId) => {
        if (seeded % 2 === 1 && n === REJECTIONS + 1) attemptsAtLastSending.set(eventId, await attemptsOf(t, destId, eventId));
        return seeded % 2 === 1 && n <= REJECTIONS ? SHED : WRITTEN;
      }),
      4,
    );
    destId = d.destId;
    const shedIds = d.ids.filter((_, i) => i % 2 === 1);

    expect(await deadLettersOnceSettled(t, destId, d.ids)).toEqual([]);
    // Refused REJECTIONS times, and not one attempt spent.
    expect(shedIds.map((id) => [id, attemptsAtLastSending.get(id)])).toEqual(shedIds.map((id) => [id, 0]));
    expect(await jobRows(t.tdb.db, destId)).toEqual([]);
    const failed = await t.svc.request('GET', `/api/orgs/${d.orgId}/forwarding-destinations/${destId}/failed-events`, { apiKey: d.apiKey });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ events: [], total: 0 });
    // The shed events went again, alone; the others were written at the first request and never resent.
    const counts = receivedCounts(t.receiver!.requests);
    expect(d.ids.map((id) => counts.get(id))).toEqual(d.ids.map((id) => (shedIds.includes(id) ? REJECTIONS + 1 : 1)));

    // The requests the cluster refused in full are the pacing kind, not failures (no breaker count),
    // and the destination's limits were lowered: this worker still sends below its configured rate.
    const { rows: dest } = await t.tdb.db.query<{ consecutive_failures: number; paused_until: Date | null }>(
      'SELECT consecutive_failures, paused_until FROM destinations WHERE id = $1',
      [destId],
    );
    expect(dest[0]).toMatchObject({ consecutive_failures: 0, paused_until: null });
    const metrics = await (await fetch(`${t.svc.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const rate = metrics.split('\n').find((l) => l.startsWith('aegis_delivery_limit_events_per_second{') && l.includes(destId));
    expect(rate, 'the limiter of the destination was never lowered').toBeDefined();
    expect(Number(rate!.split(' ').pop())).toBeLessThan(DEFAULT_LIMITS.elastic.eventsPerSecond);
    // Requests refused in full were given back (the first one also carried events written at once).
    const throttled = new RegExp(`aegis_delivery_requests_total\\{destination_id="${destId}",siem="elastic",result="throttled"\\} (\\d+)`).exec(metrics);
    expect(Number(throttled?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    // The delivery log shows every refusal with its reason.
    const { rows: log } = await t.tdb.db.query<{ error: string | null; failed_count: number }>(
      'SELECT error, failed_count FROM delivery_attempts WHERE destination_id = $1 AND event_count > 0 AND failed_count > 0 ORDER BY id',
      [destId],
    );
    expect(log.length).toBeGreaterThanOrEqual(REJECTIONS);
    expect(log.every((l) => /es_rejected_execution_exception/.test(l.error ?? ''))).toBe(true);
  });
});

// A document the cluster sheds every time (a hostile or broken answer, a hot shard) must not come back
// for ever: once the shedding has lasted AEGIS_RATE_LIMITED_FAILING_AFTER_S a shed spends an attempt,
// so it ends as a dead letter on the schedule, and the events beside it are delivered once each.
describeShedding('an Elastic document shed every time', { AEGIS_RATE_LIMITED_FAILING_AFTER_S: SHORT_WINDOW_S }, (t) => {
  it('ends as a dead letter after its attempts, and the others arrive once', async () => {
    // A 429 without an error type: shed for load, as far as Aegis can tell.
    const d = await elasticDestination(
      t,
      bulkReceiver((seeded) => (seeded === 0 ? { status: 429 } : WRITTEN)),
      5,
    );
    const [poisoned, ...others] = d.ids;

    await expect
      .poll(async () => (await jobRows(t.tdb.db, d.destId)).map((j) => `${j.event_id}:${j.status}`), { timeout: 120_000, interval: 200 })
      .toEqual([`${poisoned}:failed`]);
    const [dead] = await jobRows(t.tdb.db, d.destId);
    // Both attempts the schedule allows (AEGIS_RETRY_DELAYS_S=1) were spent, and the reason says why.
    expect(dead).toMatchObject({ attempts: 2 });
    expect(dead!.last_error).toMatch(/Elasticsearch 429.*Dead-lettered after 2 attempts/);
    const counts = receivedCounts(t.receiver!.requests);
    expect(others.map((id) => counts.get(id))).toEqual(others.map(() => 1));
    expect(counts.get(poisoned!)).toBeGreaterThanOrEqual(3);
  });
});

// The pacing window runs from a job's first shed, not from when it was queued: a backlog that waited
// out a long spell of whole-request 429s (or a breaker's pause) is still given back free when the
// cluster then sheds some of it.
describeShedding('Elastic sheds after a backlog waited', { AEGIS_RATE_LIMITED_FAILING_AFTER_S: SHORT_WINDOW_S }, (t) => {
  it('gives back events queued longer than the window, shed for the first time', async () => {
    let destId = '';
    // Whole requests refused with 429 until every job is older than the window...
    let refuseUntil: number | null = null;
    const attemptsAtLastSending = new Map<string, number | undefined>();
    // ...then event #1 is shed twice (more than the retry schedule allows attempts for) and written.
    const items = bulkReceiver(async (seeded, n, eventId) => {
      if (seeded === 1 && n === 3) attemptsAtLastSending.set(eventId, await attemptsOf(t, destId, eventId));
      return seeded === 1 && n <= 2 ? SHED : WRITTEN;
    });
    const d = await elasticDestination(
      t,
      async (req) => {
        if (refuseUntil === null || Date.now() < refuseUntil) {
          const headers: Record<string, string> = { 'content-type': 'application/json', 'retry-after': '1' };
          return { status: 429, headers, body: '{"error":"too many"}' };
        }
        return items(req);
      },
      3,
    );
    destId = d.destId;
    refuseUntil = Date.now() + 4_000;

    expect(await deadLettersOnceSettled(t, destId, d.ids)).toEqual([]);
    expect([...attemptsAtLastSending.values()]).toEqual([0]);
  });
});

// A spell of sheds ends when the job goes a whole window past its due time without being sent (a
// pause, an outage, other failures): a shed after it starts a new spell, free again, instead of being
// charged for the old one.
describeShedding('Elastic sheds in two spells', { AEGIS_RATE_LIMITED_FAILING_AFTER_S: SHORT_WINDOW_S }, (t) => {
  it('gives a shed back free after the destination was paused longer than the window', async () => {
    let destId = '';
    const attemptsAtLastSending = new Map<string, number | undefined>();
    // Event #1 is shed once, then (after the pause) twice more, then written.
    const d = await elasticDestination(
      t,
      bulkReceiver(async (seeded, n, eventId) => {
        if (seeded === 1 && n === 4) attemptsAtLastSending.set(eventId, await attemptsOf(t, destId, eventId));
        return seeded === 1 && n <= 3 ? SHED : WRITTEN;
      }),
      3,
    );
    destId = d.destId;
    const path = `/api/orgs/${d.orgId}/forwarding-destinations/${destId}`;

    // The first shed recorded, the destination disabled until the job is due for more than a window.
    const dueFor = async () => {
      const { rows } = await t.tdb.db.query<{ s: number | null }>(
        'SELECT extract(epoch FROM now() - shed_due_at)::float8 AS s FROM forwarding_jobs WHERE destination_id = $1 AND event_id = $2',
        [destId, d.ids[1]],
      );
      return rows[0]?.s ?? null;
    };
    await expect.poll(dueFor, { timeout: 60_000, interval: 50 }).not.toBeNull();
    expect((await t.svc.request('PATCH', path, { apiKey: d.apiKey, body: { enabled: false } })).status).toBe(200);
    await expect.poll(async () => (await dueFor())! > Number(SHORT_WINDOW_S) + 1, { timeout: 60_000, interval: 200 }).toBe(true);
    expect((await t.svc.request('PATCH', path, { apiKey: d.apiKey, body: { enabled: true } })).status).toBe(200);

    expect(await deadLettersOnceSettled(t, destId, d.ids)).toEqual([]);
    expect([...attemptsAtLastSending.values()]).toEqual([0]);
  });
});
