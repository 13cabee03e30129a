import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBudget } from '../../src/delivery/eventBudget.js';
import { workerConfig } from '../../src/delivery/workerConfig.js';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { DECISIONS_ONLY, hang, ok, startReceiver, type Receiver, type ReceiverHandler } from '../support/httpsReceiver.js';
import { jobRows, receivedCounts, seedEvents } from '../integration/delivery/support.js';

// One organization's slow SIEMs cannot hold the whole of a worker's event budget (the events it holds
// in memory at once, 20,000 by default). Events come back to the budget only when a claim is settled,
// so a SIEM that holds every request open (or answers 200 just inside the timeout, failing nothing)
// keeps what its claims took for as long as it likes: seven such Splunk HEC destinations of one
// organization with a backlog took all of it, and another organization's next event waited for their
// timeout. Real defaults, real HTTPS, PostgreSQL.
describe('faults: one organization cannot take the whole event budget (postgres)', () => {
  let tdb: TestDb;
  let svc: TestService;
  const receivers: Receiver[] = [];
  // Far longer than the test waits for the other organization's event: had it to wait for a held
  // request to time out, the test fails, whatever the machine's speed.
  const TIMEOUT_MS = 120_000;
  const { maxEventsInFlight, batchClaim, lanesPerDestination } = workerConfig({ intervalMs: 0, leaseMs: 0, retryDelaysS: [], retentionDays: 0 });
  // What one organization holds at most while no other holds anything: its share, then all that leaves
  // the budget's kept-free part free.
  const budget = new EventBudget(maxEventsInFlight);
  const mostHeld = budget.capacity - budget.keptFree;
  // Enough destinations, each with lanes of full claims, to want more than the whole budget.
  const DESTINATIONS = Math.ceil(maxEventsInFlight / (batchClaim * lanesPerDestination)) + 1;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db, { AEGIS_HTTP_TIMEOUT_MS: String(TIMEOUT_MS), AEGIS_LEASE_S: '900' });
  });
  afterAll(async () => {
    // Receivers first: closing them ends the held requests, which the worker's stop would wait for.
    for (const r of receivers) await r.close();
    await svc?.stop().catch(() => undefined);
    await tdb?.close();
  });

  async function destination(org: { orgId: string; apiKey: string }, handler: ReceiverHandler) {
    const r = await startReceiver(handler);
    receivers.push(r);
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${r.url}/services/collector/event`, siem: 'splunk_hec', filter: DECISIONS_ONLY },
    });
    expect(res.status, res.text).toBe(201);
    return { r, id: res.body.destination_id as string };
  }

  const eventsHeld = async () => {
    const res = await svc.request('GET', '/metrics');
    const m = /^aegis_worker_events_held (\d+)/m.exec(res.text);
    return Number(m?.[1] ?? -1);
  };

  it("another organization's event is delivered while one organization's SIEMs hold their requests with as much as they may take", async () => {
    const heavy = await svc.newOrg('heavy');
    const slow: Array<{ r: Receiver; id: string }> = [];
    for (let i = 0; i < DESTINATIONS; i++) slow.push(await destination(heavy, hang()));
    // A backlog every destination claims in full, on all its lanes.
    await seedEvents(tdb.db, heavy.orgId, batchClaim * lanesPerDestination);
    // The heavy organization holds all it may before the other's event exists: half the budget, no more.
    const heldRequests = () => slow.reduce((n, d) => n + d.r.held, 0);
    await expect.poll(eventsHeld, { timeout: 120_000, interval: 250 }).toBe(mostHeld);
    // One request per claim of a thousand events, each held open by its SIEM.
    await expect.poll(heldRequests, { timeout: 120_000, interval: 250 }).toBe(mostHeld / batchClaim);

    const quiet = await svc.newOrg('quiet');
    const fine = await destination(quiet, ok());
    const [id] = await seedEvents(tdb.db, quiet.orgId, 1);
    await fine.r.waitFor((reqs) => receivedCounts(reqs).has(id!), 100_000);
    await expect.poll(async () => (await jobRows(tdb.db, fine.id)).length, { timeout: 60_000, interval: 250 }).toBe(0);
    // ...while the heavy organization's requests were all still held, as much as before.
    expect(heldRequests()).toBe(mostHeld / batchClaim);
    expect(await eventsHeld()).toBe(mostHeld);
  });
});
