import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type Receiver, type ReceiverHandler } from '../../support/httpsReceiver.js';
import { DEFAULT_LIMITS } from '../../../src/delivery/configuredLimits.js';
import { allDelivered, deliveryLog, jobRows, receivedCounts, seedEvents } from './support.js';

const METRICS_TOKEN = 'limits-metrics-token-0123456789abc';

// Per-destination limits through the real service and real HTTPS receivers: the concurrency cap as
// the receiver sees it, a 429 with Retry-After (both forms) that costs no attempt and is waited out,
// a healthy destination that never waits for a rate-limited one, and the options' validation.
describe.each(DB_KINDS)('delivery limits per destination (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_METRICS_TOKEN: METRICS_TOKEN });
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  async function destination(org: { orgId: string; apiKey: string }, handler: ReceiverHandler, body: Record<string, unknown> = {}) {
    const r = await startReceiver(handler);
    receivers.push(r);
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey, body: { url: `${r.url}/in`, ...body } });
    expect(res.status, res.text).toBe(201);
    return { r, id: res.body.destination_id as string, view: res.body as Record<string, unknown> };
  }

  /** A receiver that answers after `delayMs` and records the most requests it ever had open at once. */
  function concurrencyCounter(delayMs: number) {
    const seen = { open: 0, max: 0 };
    const handler: ReceiverHandler = async () => {
      seen.open++;
      seen.max = Math.max(seen.max, seen.open);
      await new Promise((r) => setTimeout(r, delayMs));
      seen.open--;
      return { status: 200, body: 'ok' };
    };
    return { seen, handler };
  }

  /** Every one of `ids` reached the destination's receiver and none has a job left (delivered jobs are deleted). */
  const allDone = (d: { id: string; r: Receiver }, ids: readonly string[]) => allDelivered(tdb.db, d.id, ids, d.r.requests);

  it('max_concurrent_requests = 1: a slow receiver never has two requests open; without it, it does', async () => {
    const org = await svc.newOrg();
    const one = concurrencyCounter(150);
    const four = concurrencyCounter(150);
    const limited = await destination(org, one.handler, { options: { max_concurrent_requests: 1 } });
    const wider = await destination(org, four.handler, { options: { max_concurrent_requests: 4 } });
    expect(limited.view.options).toEqual({ max_concurrent_requests: 1 });
    expect(limited.view.delivery_limits).toEqual({ max_events_per_second: DEFAULT_LIMITS.custom.eventsPerSecond, max_concurrent_requests: 1 });

    const ids = await seedEvents(tdb.db, org.orgId, 8);
    await expect.poll(() => allDone(limited, ids), { timeout: 60_000 }).toBe(true);
    await expect.poll(() => allDone(wider, ids), { timeout: 60_000 }).toBe(true);
    expect(new Set(receivedCounts(limited.r.requests).keys())).toEqual(new Set(ids));
    expect(await jobRows(tdb.db, limited.id)).toEqual([]);
    expect(await jobRows(tdb.db, wider.id)).toEqual([]);
    expect(one.seen.max).toBe(1);
    // The same receiver counts overlapping requests when the limit allows them (the counter works).
    expect(four.seen.max).toBeGreaterThan(1);
    expect(four.seen.max).toBeLessThanOrEqual(4);
  });

  it('429 with Retry-After (seconds or HTTP-date): waited out, no attempt spent, nothing dead-lettered, limits lowered', async () => {
    const org = await svc.newOrg();
    const answers = (retryAfter: () => string): ReceiverHandler => {
      let n = 0;
      return () =>
        n++ === 0 ? { status: 429, headers: { 'retry-after': retryAfter() }, body: 'slow down' } : { status: 200, body: '{"text":"Success","code":0}' };
    };
    let dateSent = 0;
    const seconds = await destination(
      org,
      answers(() => '2'),
      { siem: 'splunk_hec' },
    );
    const dated = await destination(
      org,
      answers(() => {
        const at = new Date(Date.now() + 3000).toUTCString();
        dateSent = Date.parse(at);
        return at;
      }),
      { options: { max_concurrent_requests: 1 } },
    );
    const ids = await seedEvents(tdb.db, org.orgId, 5);

    for (const d of [seconds, dated]) {
      await expect.poll(() => allDone(d, ids), { timeout: 60_000 }).toBe(true);
      // Delivered, none left pending or dead-lettered (a delivered job is deleted when settled).
      expect(await jobRows(tdb.db, d.id)).toEqual([]);
      // The 429 was given back and sent again: the events it carried arrived twice, every other once,
      // and nothing was retried as a failure (that would be a third request for an event).
      const { rows: log } = await tdb.db.query<{ status_code: number | null; event_count: number; failed_count: number; error: string | null }>(
        'SELECT status_code, event_count, failed_count, error FROM delivery_attempts WHERE destination_id = $1 ORDER BY id',
        [d.id],
      );
      // The delivery log still shows it (exactly once); the log also holds the trail events' requests
      // (destination_created), which may come first, so the 429 is not necessarily the oldest row.
      const throttled = log.filter((l) => l.status_code === 429);
      expect(throttled).toHaveLength(1);
      // The 429 is the only request that failed anything.
      expect(log.filter((l) => l.error !== null || l.failed_count > 0)).toEqual(throttled);
      expect((await deliveryLog(tdb.db, d.id)).failed).toBe(throttled[0]!.event_count);
      const counts = receivedCounts(d.r.requests);
      const first = new Set(d.r.requests[0]!.body.toString('utf8').match(/pflt_[A-Za-z0-9_-]+/g) ?? []);
      expect(ids.map((id) => counts.get(id))).toEqual(ids.map((id) => (first.has(id) ? 2 : 1)));
      const { rows: dest } = await tdb.db.query<{ consecutive_failures: number; paused_until: Date | null }>(
        'SELECT consecutive_failures, paused_until FROM destinations WHERE id = $1',
        [d.id],
      );
      expect(dest[0]).toMatchObject({ consecutive_failures: 0, paused_until: null });
    }
    // The request after the 429 came no earlier than Retry-After asked (receiver's own clock).
    const t = seconds.r.requests.map((q) => q.receivedAt);
    expect(t[1]! - t[0]!).toBeGreaterThanOrEqual(2000);
    expect(dated.r.requests[1]!.receivedAt).toBeGreaterThanOrEqual(dateSent);

    // The worker is still below the configured limit for the splunk destination (it climbs back one
    // step per success), and says so in /metrics.
    const res = await fetch(`${svc.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const text = await res.text();
    const line = text.split('\n').find((l) => l.startsWith('aegis_delivery_limit_events_per_second{') && l.includes(seconds.id));
    expect(line, text.slice(0, 400)).toBeDefined();
    expect(Number(line!.split(' ').pop())).toBeLessThan(DEFAULT_LIMITS.splunk_hec.eventsPerSecond);
    expect(text).toMatch(/aegis_delivery_throttled_destinations\{siem="splunk_hec"\} [1-9]/);
    expect(text).toMatch(/aegis_delivery_requests_total\{destination_id="[^"]+",siem="splunk_hec",result="throttled"\} 1/);
  });

  it('a healthy destination receives everything while its neighbour waits out a long Retry-After', async () => {
    const org = await svc.newOrg();
    // Ten minutes: if the healthy destination waited for it, the poll below would time out.
    const limited = await destination(org, () => ({ status: 429, headers: { 'retry-after': '600' }, body: 'quota' }), { siem: 'splunk_hec' });
    const healthy = await destination(org, ok(), { siem: 'splunk_hec' });
    const first = await seedEvents(tdb.db, org.orgId, 20);
    await limited.r.waitFor((reqs) => reqs.length >= 1, 60_000);
    // More events after the 429: they too go to the healthy one at once.
    const second = await seedEvents(tdb.db, org.orgId, 20);
    await expect.poll(() => allDone(healthy, [...first, ...second]), { timeout: 60_000 }).toBe(true);
    expect(await jobRows(tdb.db, healthy.id)).toEqual([]);
    expect(new Set(receivedCounts(healthy.r.requests).keys())).toEqual(new Set([...first, ...second]));

    // The limited one: one request, its jobs pending with no attempt spent, due after Retry-After.
    expect(limited.r.requests).toHaveLength(1);
    const rows = await jobRows(tdb.db, limited.id);
    expect(rows).toHaveLength(40);
    expect(rows.every((j) => j.status === 'pending' && j.attempts === 0)).toBe(true);
    const { rows: due } = await tdb.db.query<{ later: boolean }>(
      `SELECT bool_and(next_attempt_at > now() + interval '500 seconds') AS later FROM forwarding_jobs WHERE destination_id = $1 AND id = ANY($2::bigint[])`,
      [limited.id, rows.filter((j) => first.includes(j.event_id)).map((j) => j.id)],
    );
    expect(due[0]!.later).toBe(true);
    // Being paced is not failing: the card does not turn red (nor does a "failing" alert go out).
    const view = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${limited.id}`, { apiKey: org.apiKey });
    expect(view.body.status).not.toBe('failing');
    expect(view.body.last_error).toBeNull();
  });

  it('refuses out-of-range or non-integer limits on create and PATCH with a 400 naming the path; PATCH sets and clears them', async () => {
    const org = await svc.newOrg();
    const base = `/api/orgs/${org.orgId}/forwarding-destinations`;
    const paths = (res: { body: { error: { details?: { path: string }[] } } }) => (res.body.error.details ?? []).map((d) => d.path);
    const bad: Array<[string, unknown]> = [
      ['max_events_per_second', 0],
      ['max_events_per_second', 100_001],
      ['max_events_per_second', 1.5],
      ['max_events_per_second', '10'],
      ['max_concurrent_requests', 0],
      ['max_concurrent_requests', 65],
      ['max_concurrent_requests', -1],
      ['max_concurrent_requests', null],
    ];
    const created = await svc.request('POST', base, { apiKey: org.apiKey, body: { url: 'https://127.0.0.1:9/in', siem: 'datadog' } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.delivery_limits).toEqual({
      max_events_per_second: DEFAULT_LIMITS.datadog.eventsPerSecond,
      max_concurrent_requests: DEFAULT_LIMITS.datadog.concurrentRequests,
    });
    const one = `${base}/${created.body.destination_id as string}`;
    for (const [field, value] of bad) {
      const post = await svc.request('POST', base, { apiKey: org.apiKey, body: { url: 'https://127.0.0.1:9/in', options: { [field]: value } } });
      expect(post.status, `${field}=${JSON.stringify(value)}: ${post.text}`).toBe(400);
      expect(paths(post)).toContain(`/options/${field}`);
      const patch = await svc.request('PATCH', one, { apiKey: org.apiKey, body: { options: { [field]: value } } });
      expect(patch.status, patch.text).toBe(400);
      expect(paths(patch)).toContain(`/options/${field}`);
    }
    const list = await svc.request('GET', base, { apiKey: org.apiKey });
    expect(list.body).toHaveLength(1); // no refused create wrote anything

    const set = await svc.request('PATCH', one, {
      apiKey: org.apiKey,
      body: { options: { tags: 'env:prod', max_events_per_second: 250, max_concurrent_requests: 2 } },
    });
    expect(set.status, set.text).toBe(200);
    const got = await svc.request('GET', one, { apiKey: org.apiKey });
    expect(got.body.options).toEqual({ tags: 'env:prod', max_events_per_second: 250, max_concurrent_requests: 2 });
    expect(got.body.delivery_limits).toEqual({ max_events_per_second: 250, max_concurrent_requests: 2 });
    const cleared = await svc.request('PATCH', one, { apiKey: org.apiKey, body: { options: { tags: 'env:prod' } } });
    expect(cleared.body.delivery_limits).toEqual({
      max_events_per_second: DEFAULT_LIMITS.datadog.eventsPerSecond,
      max_concurrent_requests: DEFAULT_LIMITS.datadog.concurrentRequests,
    });
  });
});
