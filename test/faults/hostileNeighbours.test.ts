import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import {
  DECISIONS_ONLY,
  drip,
  hang,
  ok,
  resetAfterHeaders,
  slow,
  startReceiver,
  type ReceivedRequest,
  type Receiver,
  type ReceiverHandler,
} from '../support/httpsReceiver.js';
import { deliveryLog, jobRows, receivedCounts, seedEvents } from '../integration/delivery/support.js';

// Tenant isolation against every kind of hostile SIEM at once (issue 10's fault list): one that
// accepts and never answers, one that sends its headers and then one byte a second, one that resets
// after its headers, and one that answers 429 with Retry-After. Beside them, healthy customers must
// get every event while the hostile ones are still at it, and once the hostile SIEMs recover nothing of
// theirs is lost: every event reaches its SIEM.
describe('faults: hanging, dripping, resetting and rate-limiting SIEMs do not delay other customers (postgres)', () => {
  let tdb: TestDb;
  let svc: TestService;
  const receivers: Receiver[] = [];
  // Far longer than the test waits for the healthy deliveries: a healthy destination that had to wait
  // for a hung or dripping request to time out would fail the test, whatever the machine's speed.
  const TIMEOUT_MS = 120_000;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db, {
      AEGIS_HTTP_TIMEOUT_MS: String(TIMEOUT_MS),
      AEGIS_LEASE_S: '600',
      // Three retries a second apart: a resetting SIEM's events reach their dead letter within the
      // test (four failures, below the breaker's threshold of five), to be replayed once it recovers.
      AEGIS_RETRY_DELAYS_S: '1,1,1',
    });
  });
  afterAll(async () => {
    // Receivers first: closing them ends the held requests, which the worker's stop would wait for.
    for (const r of receivers) await r.close();
    await svc?.stop().catch(() => undefined);
    await tdb?.close();
  });

  type Tenant = Awaited<ReturnType<typeof tenant>>;

  /** One organization with one destination on its own receiver (its own origin, as in real life). */
  async function tenant(handler: ReceiverHandler, siem: 'custom' | 'splunk_hec') {
    const r = await startReceiver(handler);
    receivers.push(r);
    const org = await svc.newOrg(`tenant ${receivers.length}`);
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      // Decisions only: the destination's own configuration trail is not what this test counts.
      body: { url: `${r.url}/in`, siem, filter: DECISIONS_ONLY },
    });
    expect(res.status, res.text).toBe(201);
    return { r, org, id: res.body.destination_id as string, ids: [] as string[] };
  }

  const siemOf = (i: number) => (i % 2 === 0 ? 'custom' : 'splunk_hec');
  // Every request a hostile behaviour answered (held, dripped, refused, cut): an event counts as
  // delivered only through a request a recovered SIEM answered 200 in full.
  const answeredHostile = new Set<ReceivedRequest>();
  const hostile =
    (h: ReceiverHandler): ReceiverHandler =>
    (q) => {
      answeredHostile.add(q);
      return h(q);
    };
  const rateLimited: ReceiverHandler = () => ({ status: 429, headers: { 'retry-after': '2' }, body: 'slow down' });

  it('healthy customers receive every event while the hostile SIEMs hold, drip, reset and refuse; the hostile ones lose nothing', async () => {
    const held: Tenant[] = [];
    for (let i = 0; i < 6; i++) held.push(await tenant(hostile(i < 3 ? hang() : drip()), siemOf(i)));
    const limited: Tenant[] = [];
    for (let i = 0; i < 4; i++) limited.push(await tenant(hostile(rateLimited), siemOf(i)));
    const resetting: Tenant[] = [];
    for (let i = 0; i < 4; i++) resetting.push(await tenant(hostile(resetAfterHeaders()), siemOf(i)));

    for (const t of [...held, ...limited]) t.ids = await seedEvents(tdb.db, t.org.orgId, 3);
    // Every hung or dripping SIEM holds a request, and every rate-limited one has refused one, before
    // the healthy customers' events exist.
    await expect.poll(() => held.filter((t) => t.r.held > 0).length, { timeout: 120_000, interval: 250 }).toBe(held.length);
    await expect.poll(() => limited.filter((t) => t.r.count > 0).length, { timeout: 120_000, interval: 250 }).toBe(limited.length);

    const healthy: Tenant[] = [];
    for (let i = 0; i < 6; i++) healthy.push(await tenant(i % 3 === 0 ? slow(50) : ok(), siemOf(i)));
    // The resetting SIEMs' events are recorded with the healthy ones, so their failures and retries run
    // while the healthy events are delivered. One event each: four failures stay below the breaker.
    for (const t of resetting) t.ids = await seedEvents(tdb.db, t.org.orgId, 1);
    for (const t of healthy) t.ids = await seedEvents(tdb.db, t.org.orgId, 20);
    for (const t of healthy) {
      await t.r.waitFor((reqs) => {
        const got = receivedCounts(reqs);
        return t.ids.every((e) => got.has(e));
      }, 100_000);
    }

    // ...while every hung or dripping request was still open: nothing of theirs has settled (every job
    // still there, a delivered one being deleted, and none with an attempt spent).
    for (const t of held) {
      expect(t.r.held, `a request to ${t.id} still held open (the healthy deliveries came within the ${TIMEOUT_MS} ms timeout)`).toBeGreaterThan(0);
      const rows = await jobRows(tdb.db, t.id);
      expect(rows.map((j) => j.event_id).sort()).toEqual([...t.ids].sort());
      expect(rows.every((j) => j.attempts === 0 && j.status === 'pending')).toBe(true);
    }
    // A 429 spends no attempt: the rate-limited customers' events wait, untouched by the schedule.
    for (const t of limited) {
      const rows = await jobRows(tdb.db, t.id);
      expect(rows.map((j) => j.event_id).sort()).toEqual([...t.ids].sort());
      expect(rows.every((j) => j.attempts === 0 && j.status === 'pending')).toBe(true);
    }
    // The healthy ones settle delivered: no job left (a delivered job is deleted), each event logged
    // delivered once.
    for (const t of healthy) {
      await expect.poll(async () => (await jobRows(tdb.db, t.id)).length, { timeout: 60_000, interval: 250 }).toBe(0);
      expect((await deliveryLog(tdb.db, t.id)).delivered).toBe(t.ids.length);
    }
    // The resetting SIEMs took every attempt of the schedule (none was taken for a success) and their
    // events wait in the dead letters, each attempt a request the SIEM saw.
    for (const t of resetting) {
      await expect.poll(async () => (await jobRows(tdb.db, t.id)).map((j) => j.status), { timeout: 120_000, interval: 250 }).toEqual(['failed']);
      const [job] = await jobRows(tdb.db, t.id);
      expect(job!.attempts).toBe(4);
      expect(receivedCounts(t.r.requests).get(t.ids[0]!)).toBe(4);
    }

    // The hostile SIEMs recover: the held requests end (their senders see a reset), every SIEM answers
    // 200, and the dead letters are replayed as a user would.
    for (const t of [...held, ...limited, ...resetting]) t.r.setHandler(ok());
    for (const t of held) t.r.releaseHeld();
    for (const t of resetting) {
      const res = await svc.request('POST', `/api/orgs/${t.org.orgId}/forwarding-destinations/${t.id}/replay`, { apiKey: t.org.apiKey });
      expect(res.status, res.text).toBe(200);
      expect(res.body.replayed).toBe(1);
    }

    // Nothing lost: every event of every hostile customer reached its SIEM and its job was settled
    // delivered (deleted: no job left, pending, claimed or dead-lettered).
    for (const t of [...held, ...limited, ...resetting]) {
      await expect.poll(async () => await jobRows(tdb.db, t.id), { timeout: 150_000, interval: 250 }).toEqual([]);
      // Delivered by a request the recovered SIEM answered, not by one held, refused or cut.
      const got = receivedCounts(t.r.requests.filter((q) => !answeredHostile.has(q)));
      expect(
        t.ids.filter((e) => !got.has(e)),
        t.id,
      ).toEqual([]);
      // Each event delivered once (no job queued twice by the replay, none delivered by a hostile
      // answer), and the log's failures are the hostile answers: for the resetting SIEMs, four.
      const log = await deliveryLog(tdb.db, t.id);
      expect(log.delivered, t.id).toBe(t.ids.length);
      if (resetting.includes(t)) expect(log.failed, t.id).toBe(4);
    }
  });
});
