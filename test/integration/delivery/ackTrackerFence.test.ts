// A Splunk acknowledgement that never came, settled after the claim's lease ran out and another worker
// took its jobs: the request goes in the delivery log (it was made), but the destination's breaker
// and state are the current holder's (as deliverClaim's fenced settles, settleJobs.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundClient, type OutboundClient } from '../../../src/delivery/outbound/client.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startReceiver, TEST_CA_PEM, type Receiver } from '../../support/httpsReceiver.js';
import { addEvents, attemptRows, claim, destState, makeDue, newDestination, newOrg } from '../queue/support.js';
import { ackTrackerFor, splunkAckTarget } from './ackSupport.js';
import { monotonicNow } from '../../../src/monotonicClock.js';

describe.each(DB_KINDS)('Splunk ack tracker, a settle fenced by another claim (%s)', (kind) => {
  let tdb: TestDb;
  let r: Receiver;
  let client: OutboundClient;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // Every ack poll: not indexed yet.
    r = await startReceiver(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"acks":{"1":false}}' }));
    client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
  });
  afterAll(async () => {
    await r?.close();
    await client?.close();
    await tdb?.close();
  });

  it('an ack timed out for a claim that holds none of its jobs any more changes nothing on the destination', async () => {
    const orgId = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, orgId);
    await addEvents(tdb.db, orgId, 1);
    await makeDue(tdb.db, dest);
    const old = await claim(tdb.db, orgId, dest, { leaseMs: 60_000 });
    expect(old.ids).toHaveLength(1);
    // The old claim's lease ran out; another worker claimed the job.
    await makeDue(tdb.db, dest);
    await tdb.db.query('UPDATE forwarding_jobs SET claim_id = NULL WHERE id = $1', [old.ids[0]]);
    const current = await claim(tdb.db, orgId, dest);
    expect(current.ids).toEqual(old.ids);

    const tracker = ackTrackerFor(tdb.db, client, splunkAckTarget(orgId, dest, r.url), {
      leaseMs: 60_000,
      retryDelaysS: [60],
      pollMs: 50,
      timeoutMs: 600_000,
      maxPendingEvents: 10,
    });
    try {
      tracker.add({
        ackId: 1,
        claimId: old.claimId,
        jobIds: old.ids,
        jobAttempts: [0],
        jobCreatedAt: [Date.now()],
        attempt: { orgId, destinationId: dest, eventCount: 1, statusCode: 200, durationMs: 1, responseSnippet: null },
        deadline: monotonicNow() + 300,
      });
      // The request was made: its row is logged, as a failure (no ack in time).
      await expect.poll(async () => (await attemptRows(tdb.db, dest)).length, { timeout: 60_000, interval: 50 }).toBe(1);
    } finally {
      tracker.stop();
    }
    expect(await destState(tdb.db, dest)).toMatchObject({ consecutive_failures: 0, last_error: null, last_attempt_at: null, paused_until: null });
    const { rows } = await tdb.db.query<{ claim_id: string; status: string }>('SELECT claim_id, status FROM forwarding_jobs WHERE id = $1', [old.ids[0]]);
    expect(rows[0]).toEqual({ claim_id: current.claimId, status: 'pending' });
  });
});
