// A Splunk that acknowledges nothing, with a big window of requests waiting: when they all time out
// in one round, settling them must cost time linear in their number. The tracker grouped them by
// re-spreading arrays per request and removed them with filter(includes), quadratic in the requests
// of a round: with this many the worker's event loop stalled for minutes (every destination's
// deliveries with it). No clock is asserted (a busy machine says nothing about complexity): the old cost,
// over 15 minutes, runs far past the test's own time limit, which is generous for a loaded machine.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PendingAck } from '../../../src/delivery/ackTracker.js';
import { createOutboundClient, type OutboundClient } from '../../../src/delivery/outbound/client.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startReceiver, TEST_CA_PEM, type Receiver } from '../../support/httpsReceiver.js';
import { newOrg } from '../queue/support.js';
import { ackTrackerFor, splunkAckTarget } from './ackSupport.js';

const REQUESTS = 60_000;

describe.each(DB_KINDS)('Splunk ack tracker at scale (%s)', (kind) => {
  let tdb: TestDb;
  let r: Receiver;
  let client: OutboundClient;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // Splunk answers every poll, confirming nothing.
    r = await startReceiver(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"acks":{}}' }));
    client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
  });
  afterAll(async () => {
    await client?.close();
    await r?.close();
    await tdb?.close();
  });

  it(`settles ${REQUESTS} timed-out requests of one claim in one round, in linear time`, async () => {
    // A destination deleted meanwhile: the settle statement skips its log and finds no jobs, so what is
    // measured is the tracker's own work, not the database's.
    const orgId = await newOrg(tdb.db);
    const id = 'dst_gone_ack_scale';
    const target = splunkAckTarget(orgId, id, r.url);
    let woken!: () => void;
    const settled = new Promise<void>((resolve) => (woken = resolve));
    const tracker = ackTrackerFor(
      tdb.db,
      client,
      target,
      { leaseMs: 60_000, retryDelaysS: [60], pollMs: 100, timeoutMs: 1, maxPendingEvents: REQUESTS * 2 },
      () => woken(),
    );
    const claimId = randomUUID();
    const overdue = Date.now() - 1;
    for (let ackId = 0; ackId < REQUESTS; ackId++) {
      const p: PendingAck = {
        ackId,
        claimId,
        jobIds: [-1 - ackId],
        jobAttempts: [0],
        jobCreatedAt: [overdue],
        attempt: { orgId, destinationId: id, eventCount: 1, statusCode: 200, durationMs: 1, responseSnippet: null },
        deadline: overdue,
      };
      tracker.add(p);
    }
    expect(tracker.pendingEvents).toBe(REQUESTS);
    await settled;
    tracker.stop();
    expect(tracker.idle()).toBe(true);
    expect(tracker.pendingEvents).toBe(0);
    // Every request was polled about first (one POST per 1,000 ackIds).
    expect(r.requests.length).toBeGreaterThanOrEqual(REQUESTS / 1000);
  }, 180_000);
});
