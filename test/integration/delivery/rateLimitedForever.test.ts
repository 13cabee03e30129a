import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { DECISIONS_ONLY, respondWith, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { jobRows, seedEvents } from './support.js';

// A SIEM that answers 429 for ever (an ingest quota used up, a plan cancelled) must not hold its
// queue for ever: past AEGIS_RATE_LIMITED_FAILING_AFTER_S of nothing but 429s the destination is
// failing like any outage, so its card says so and the hold limit (AEGIS_MAX_HOLD_HOURS) applies.
// The passing of hours is simulated by moving failing_since back, which is what time does to it.
describe.each(DB_KINDS)('a SIEM answering 429 for ever (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let r: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, {
      AEGIS_RATE_LIMITED_FAILING_AFTER_S: '2',
      AEGIS_MAX_HOLD_HOURS: '1',
      AEGIS_WORKER_INTERVAL_MS: '500',
      AEGIS_RETRY_DELAYS_S: '1,1,1',
    });
    r = await startReceiver(respondWith(429, '{"error":"quota exceeded"}', { 'content-type': 'application/json', 'retry-after': '1' }));
  });
  afterAll(async () => {
    await svc?.stop();
    await r?.close();
    await tdb?.close();
  });

  it('turns failing after the grace, then the hold limit pauses it and dead-letters its queue', async () => {
    const org = await svc.newOrg();
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: {
        url: `${r.url}/hook`,
        auth_header_name: 'Authorization',
        auth_header_value: 'Bearer t0ken-quota',
        filter: DECISIONS_ONLY,
      },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    const path = `/api/orgs/${org.orgId}/forwarding-destinations/${id}`;
    const view = async () => (await svc.request('GET', path, { apiKey: org.apiKey })).body as Record<string, unknown>;
    await seedEvents(tdb.db, org.orgId, 3);

    // Pacing first, then failing: the 429s keep coming past the grace.
    await expect.poll(async () => (await view()).status, { timeout: 90_000 }).toBe('failing');
    const failing = await view();
    expect(failing.last_error).toMatch(/^HTTP 429: the SIEM has rate limited every request for \d+ min without accepting one; check its ingest quota/);
    expect(failing.failing_since).not.toBeNull();
    // Rate limited is still not an attempt: the events are held, not on their way to dead letters.
    for (const j of await jobRows(tdb.db, id)) expect(j).toMatchObject({ status: 'pending', attempts: 0 });
    // The operator's log says when the limits drop, not once per 429: a review's SIEM answering 429
    // every second wrote a line a second for a quarter of an hour. (The limits reach their floor of
    // one event and one request within the first two 429s of three events.)
    const mine = (msg: string) => svc.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.destination_id === id && l.msg === msg);
    // Waited on what is asserted: three 429s answered at the floor, each a debug line.
    await expect
      .poll(() => mine('SIEM asked to slow down again; limits already at their floor or unchanged').length, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(3);
    const lowered = mine('SIEM asked to slow down; destination limits lowered');
    expect(lowered.length).toBeGreaterThanOrEqual(1);
    expect(lowered.length).toBeLessThanOrEqual(3);

    // An hour of it: the hold limit pauses the destination and dead-letters its queue.
    await tdb.db.query(`UPDATE destinations SET failing_since = now() - interval '61 minutes' WHERE id = $1`, [id]);
    await expect.poll(async () => (await view()).paused_reason, { timeout: 60_000 }).toBe('hold_limit');
    await expect.poll(async () => (await jobRows(tdb.db, id)).map((j) => j.status), { timeout: 60_000 }).toEqual(['failed', 'failed', 'failed']);
    const held = await view();
    expect(held.last_error).toMatch(/^Paused by the hold limit: .*Last error: HTTP 429: the SIEM has rate limited every request/);
  });
});
