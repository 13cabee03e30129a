import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { hang, ok, slow, startReceiver, type Receiver, type ReceiverHandler } from '../support/httpsReceiver.js';
import { deliveryLog, jobRows, receivedCounts, seedEvents } from '../integration/delivery/support.js';

// Tenant isolation in delivery: many customers' SIEMs accept the connection and never answer (a
// firewall that drops, a hung load balancer), beside a few healthy ones. The healthy customers' events
// must arrive while the silent ones are still waiting out their timeout: a request in flight to a
// silent SIEM costs its own destination's claim, never capacity another customer needs.
describe('faults: silent SIEMs do not delay other customers (postgres)', () => {
  let tdb: TestDb;
  let svc: TestService;
  const receivers: Receiver[] = [];
  // Far longer than the test waits for the healthy deliveries: a healthy destination that had to wait
  // for a silent one's timeout would fail the test, whatever the machine's speed.
  const TIMEOUT_MS = 120_000;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db, { AEGIS_HTTP_TIMEOUT_MS: String(TIMEOUT_MS), AEGIS_LEASE_S: '600' });
  });
  afterAll(async () => {
    // Receivers first: closing them ends the hung requests, which the worker's stop would wait for.
    for (const r of receivers) await r.close();
    await svc?.stop().catch(() => undefined);
    await tdb?.close();
  });

  /** One organization with one destination on its own receiver (its own origin, as in real life). */
  async function tenant(handler: ReceiverHandler, siem: 'custom' | 'splunk_hec') {
    const r = await startReceiver(handler);
    receivers.push(r);
    const org = await svc.newOrg(`tenant ${receivers.length}`);
    const id = `fwd_${randomBytes(8).toString('hex')}`;
    const path = siem === 'splunk_hec' ? '/services/collector/event' : '/hook';
    await tdb.db.query(`INSERT INTO destinations (org_id, id, siem, url, enabled) VALUES ($1, $2, $3, $4, true)`, [org.orgId, id, siem, `${r.url}${path}`]);
    return { r, orgId: org.orgId, id };
  }

  it('48 silent SIEMs holding requests open; 8 healthy customers still receive every event', async () => {
    const silent: Array<Awaited<ReturnType<typeof tenant>>> = [];
    for (let i = 0; i < 48; i++) silent.push(await tenant(hang(), i % 2 === 0 ? 'custom' : 'splunk_hec'));
    // Every silent SIEM has a request open before the healthy customers' events exist: with a fixed
    // number of destination slots (32), they would all be taken now.
    const silentIds = new Map<string, string[]>();
    for (const s of silent) silentIds.set(s.id, await seedEvents(tdb.db, s.orgId, 3));
    await expect.poll(() => silent.filter((s) => s.r.count > 0).length, { timeout: 120_000, interval: 250 }).toBe(48);

    const healthy: Array<Awaited<ReturnType<typeof tenant>>> = [];
    for (let i = 0; i < 8; i++) healthy.push(await tenant(i % 2 === 0 ? ok() : slow(50), i % 2 === 0 ? 'custom' : 'splunk_hec'));
    const sent = new Map<string, string[]>();
    for (const h of healthy) sent.set(h.id, await seedEvents(tdb.db, h.orgId, 20));
    for (const h of healthy) {
      const ids = sent.get(h.id)!;
      await h.r.waitFor((reqs) => {
        const got = receivedCounts(reqs);
        return ids.every((e) => got.has(e));
      }, 100_000);
    }

    // ...while every silent SIEM's request was still waiting: nothing of theirs has settled yet (every
    // job still there, a delivered one being deleted, and none with an attempt spent).
    for (const s of silent) {
      const rows = await jobRows(tdb.db, s.id);
      expect(rows.map((j) => j.event_id).sort()).toEqual([...silentIds.get(s.id)!].sort());
      expect(rows.every((j) => j.attempts === 0 && j.status === 'pending')).toBe(true);
    }
    // The receiver holds the events before the worker settles them: wait for the settle, not assume it.
    // A delivered job is deleted when settled: no job left, and the delivery log counts each event once.
    for (const h of healthy) {
      await expect.poll(async () => (await jobRows(tdb.db, h.id)).length, { timeout: 60_000, interval: 250 }).toBe(0);
      expect((await deliveryLog(tdb.db, h.id)).delivered).toBe(sent.get(h.id)!.length);
    }

    // An operator sees them: requests awaiting an answer, and the events the worker holds for them.
    const metrics = await (await fetch(`${svc.baseUrl}/metrics`)).text();
    const sum = (name: string) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
        .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    expect(sum('aegis_delivery_requests_in_flight')).toBeGreaterThanOrEqual(48);
    expect(sum('aegis_worker_events_held')).toBeGreaterThanOrEqual(48);
  });
});
