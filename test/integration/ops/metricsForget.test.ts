// A counter keeps a series for ever once incremented: with AEGIS_METRICS_TOKEN (series per
// destination) a tenant creating and deleting destinations in a loop grew /metrics, the worker's
// memory and the operator's Prometheus without bound (an observability review). The worker drops
// the series of destinations whose row is gone (found so by two rounds in a row), and keeps those of
// destinations still there, deleted ones whose row is not yet purged included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeDeletedDestinations } from '../../../src/destinations/deletion.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { allDelivered, seedEvents } from '../delivery/support.js';

const METRICS_TOKEN = 'metrics-forget-token-0123456789';

describe.each(DB_KINDS)('series of deleted destinations (%s)', (kind) => {
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

  const scrape = async () => (await fetch(`${svc.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const seriesOf = (text: string, id: string) => text.split('\n').filter((l) => l.includes(`destination_id="${id}"`));
  /** The counters' series (what the sweep drops); the queue gauges are read at each scrape (shared for 250 ms). */
  const countersOf = (text: string, id: string) =>
    seriesOf(text, id).filter((l) => /^aegis_(?:events_delivered|events_retried|events_dead_lettered|delivery_requests)_total\{/.test(l));

  it('are dropped once the destination is purged; a destination still there keeps its own', async () => {
    const org = await svc.newOrg();
    const destination = async () => {
      const r = await startReceiver(ok());
      receivers.push(r);
      const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey, body: { url: `${r.url}/in` } });
      expect(res.status, res.text).toBe(201);
      return { r, id: res.body.destination_id as string };
    };
    const kept = await destination();
    const deleted = await destination();
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    svc.service.worker!.wake();
    await expect
      .poll(async () => (await allDelivered(tdb.db, kept.id, ids, kept.r.requests)) && allDelivered(tdb.db, deleted.id, ids, deleted.r.requests))
      .toBe(true);
    await expect.poll(async () => countersOf(await scrape(), deleted.id).length).toBeGreaterThan(0);

    expect((await svc.request('DELETE', `/api/orgs/${org.orgId}/forwarding-destinations/${deleted.id}`, { apiKey: org.apiKey })).status).toBe(200);
    // Deleted, its row not yet purged (its farewell may still be settling): its series stay.
    if ((await tdb.db.query('SELECT 1 FROM destinations WHERE id = $1', [deleted.id])).rowCount === 1) {
      await svc.service.worker!.forgetGoneDestinations();
      await svc.service.worker!.forgetGoneDestinations();
      expect(countersOf(await scrape(), deleted.id).length).toBeGreaterThan(0);
    }
    // Its row goes once the farewell (its own deletion event) is settled: by the worker that settles
    // it, else by the retention round's sweep.
    const rowLeft = async () => {
      await purgeDeletedDestinations(tdb.db);
      return (await tdb.db.query('SELECT 1 FROM destinations WHERE id = $1', [deleted.id])).rowCount;
    };
    await expect.poll(rowLeft).toBe(0);
    // Nothing drops a counter's series by itself: this is the worker's round (once a minute), run now.
    // The first round to find the row gone keeps them, so a scrape sees the last counts (the farewell's).
    expect(countersOf(await scrape(), deleted.id).length).toBeGreaterThan(0);
    await svc.service.worker!.forgetGoneDestinations();
    expect(countersOf(await scrape(), deleted.id).length).toBeGreaterThan(0);
    await svc.service.worker!.forgetGoneDestinations();
    const after = await scrape();
    expect(countersOf(after, deleted.id)).toEqual([]);
    expect(countersOf(after, kept.id).some((l) => l.startsWith('aegis_events_delivered_total{'))).toBe(true);
    // Nor does any other series name it, once a scrape reads the queue after the row went (a read
    // is shared with the scrapes of the next 250 ms, longer on a busy machine).
    await expect.poll(async () => seriesOf(await scrape(), deleted.id)).toEqual([]);
  });
});
