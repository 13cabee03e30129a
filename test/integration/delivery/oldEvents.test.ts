// An event older than its SIEM keeps (Datadog 18 h): Datadog answers 2xx and drops it, so sending it
// would record a success for an event nobody can find. It is dead-lettered with its age instead,
// never sent; the rest of the claim is delivered as usual. Likewise an event dated further ahead than
// the SIEM accepts (Datadog 2 h in the future): a skewed clock at the source.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../../src/db/types.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { eventIdsOf, jobRows, makeEvent, statusCounts } from './support.js';

describe.each(DB_KINDS)('events older than the SIEM keeps (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let r: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    r = await startReceiver(() => ({ status: 202, headers: { 'content-type': 'application/json' }, body: '{}' }));
  });
  afterAll(async () => {
    await svc?.stop();
    await r?.close();
    await tdb?.close();
  });

  /** A new organization's Datadog destination at the receiver, then one event recorded at each time. */
  async function datadogWithEvents(times: Date[]): Promise<{ orgId: string; apiKey: string; id: string; eventIds: string[] }> {
    const org = await svc.newOrg();
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { siem: 'datadog', url: `${r.url}/api/v2/logs`, auth_header_name: 'DD-API-KEY', auth_header_value: 'dd-key-0123456789abcdef' },
    });
    expect(res.status, res.text).toBe(201);
    const events = times.map((at, i) => ({ ...makeEvent(org.orgId, i + 1), '@timestamp': at.toISOString() }));
    await tdb.db.transaction((tx: Queryable) =>
      recordEvents(
        tx,
        events.map((e, i) => ({ orgId: org.orgId, id: e.event.id, occurredAt: times[i]!, payload: e })),
      ),
    );
    return { ...org, id: res.body.destination_id as string, eventIds: events.map((e) => e.event.id) };
  }

  it('Datadog: a three-day-old event is dead-lettered with its age and never sent; a fresh one and a five-hour-old one are delivered, each dated by its @timestamp', async () => {
    const before = r.requests.length;
    const threeDaysAgo = new Date(Date.now() - 3 * 24 * 3_600_000);
    const fiveHoursAgo = new Date(Date.now() - 5 * 3_600_000);
    const { orgId, apiKey, id, eventIds } = await datadogWithEvents([threeDaysAgo, new Date(), fiveHoursAgo]);
    const [oldId, freshId, lateId] = eventIds;

    // All jobs were queued with their events; the old one is dead-lettered, the others delivered:
    // a settle deletes a delivered job (a retried one would stay pending).
    await expect.poll(() => statusCounts(tdb.db, id), { timeout: 60_000 }).toEqual({ failed: 1 });
    const jobs = new Map((await jobRows(tdb.db, id)).map((j) => [j.event_id, j]));
    expect(jobs.get(freshId!)).toBeUndefined();
    expect(jobs.get(lateId!)).toBeUndefined();
    expect(jobs.get(oldId!)).toMatchObject({ status: 'failed' });
    expect(jobs.get(oldId!)!.last_error).toMatch(/^Event too old for Datadog Logs: its @timestamp is 72 h old, and .* drops events older than 18 h/);
    // The others each sent once, answered at once (no retry), the old one never sent.
    const sent = r.requests.slice(before);
    expect(sent.flatMap(eventIdsOf).sort()).toEqual([freshId!, lateId!].sort());
    // Datadog files a log at its timestamp attribute (epoch ms), else at arrival: the five-hour-old
    // event must say when it happened, or a search of that hour would not find it.
    const items = sent.flatMap((q) => JSON.parse(q.body.toString('utf8')) as Array<{ timestamp: unknown; event?: { id?: string } }>);
    const dated = new Map(items.map((it) => [it.event?.id, it.timestamp]));
    expect(dated.get(lateId)).toBe(fiveHoursAgo.getTime());
    expect(dated.get(freshId)).toBeTypeOf('number');

    // The user sees it where dead letters are listed, with the reason.
    const failed = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations/${id}/failed-events`, { apiKey });
    expect(failed.status, failed.text).toBe(200);
    expect(failed.body.events.map((e: { event_id: string }) => e.event_id)).toEqual([oldId]);
  });

  // Datadog accepts logs up to 2 h in the future and drops later ones after a 202: a desktop agent with
  // a skewed clock (the API takes an occurred_at up to year 9999) would record a delivery nobody can
  // find. The same rule as for the past: dead-lettered with the reason, never sent.
  it('Datadog: an event dated in year 9999 is dead-lettered naming its @timestamp and never sent; one 30 minutes ahead is delivered', async () => {
    const before = r.requests.length;
    const { id, eventIds } = await datadogWithEvents([new Date('9999-12-31T23:59:59.999Z'), new Date(Date.now() + 30 * 60_000)]);
    const [aheadId, nearId] = eventIds;

    await expect.poll(() => statusCounts(tdb.db, id), { timeout: 60_000 }).toEqual({ failed: 1 });
    const jobs = new Map((await jobRows(tdb.db, id)).map((j) => [j.event_id, j]));
    expect(jobs.get(nearId!)).toBeUndefined();
    expect(jobs.get(aheadId!)).toMatchObject({ status: 'failed' });
    expect(jobs.get(aheadId!)!.last_error).toMatch(
      /^Event dated in the future for Datadog Logs: its @timestamp 9999-12-31T23:59:59\.999Z is \d+ h ahead of Aegis's clock, and Datadog Logs drops events more than 2 h in the future after answering 2xx\. The source's clock is likely wrong/,
    );
    expect(r.requests.slice(before).flatMap(eventIdsOf)).toEqual([nearId]);
  });
});
