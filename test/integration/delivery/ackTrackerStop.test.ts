// A worker that stops while a Splunk ack poll hangs: the round's lease renewal must stop with it. The
// leases are no longer this worker's to keep: renewing them after stop() would hold the jobs from
// every other worker until the poll's own time limit (minutes), or for ever in a process that lingers.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundClient, type OutboundClient } from '../../../src/delivery/outbound/client.js';
import type { Queryable } from '../../../src/db/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { hang, startReceiver, TEST_CA_PEM, type Receiver } from '../../support/httpsReceiver.js';
import { newOrg } from '../queue/support.js';
import { ackTrackerFor, splunkAckTarget } from './ackSupport.js';
import { monotonicNow } from '../../../src/monotonicClock.js';

const LEASE_MS = 1_500;

describe.each(DB_KINDS)('Splunk ack tracker stopped mid-poll (%s)', (kind) => {
  let tdb: TestDb;
  let r: Receiver;
  let client: OutboundClient;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    r = await startReceiver(hang());
    client = createOutboundClient({ allowPrivate: true, timeoutMs: 120_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
  });
  afterAll(async () => {
    // The receiver first: it destroys the hanging poll's socket, which the client would wait out.
    await r?.close();
    await client?.close();
    await tdb?.close();
  });

  it('renews leases while the poll hangs, and not once after stop()', async () => {
    const orgId = await newOrg(tdb.db);
    const target = splunkAckTarget(orgId, 'dst_ack_stop', r.url);
    // The real database, with its lease renewals counted.
    let renewals = 0;
    const db = new Proxy(tdb.db, {
      get(real, prop, receiver) {
        if (prop !== 'query') return Reflect.get(real, prop, receiver) as unknown;
        const query: Queryable['query'] = (text, values) => {
          if (/^UPDATE forwarding_jobs SET next_attempt_at = now\(\) \+ make_interval/.test(text.trim())) renewals++;
          return real.query(text, values);
        };
        return query;
      },
    });
    const tracker = ackTrackerFor(db, client, target, { leaseMs: LEASE_MS, retryDelaysS: [60], pollMs: 100, timeoutMs: 600_000, maxPendingEvents: 10 });
    tracker.add({
      ackId: 1,
      claimId: randomUUID(),
      jobIds: [1],
      jobAttempts: [0],
      jobCreatedAt: [Date.now()],
      attempt: { orgId, destinationId: target.id, eventCount: 1, statusCode: 200, durationMs: 1, responseSnippet: null },
      deadline: monotonicNow() + 600_000,
    });
    // The poll reached Splunk and hangs; the heartbeat keeps the lease meanwhile.
    await expect.poll(() => r.requests.length, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => renewals, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(2);
    tracker.stop();
    // Counted when issued (stop() and the count are synchronous), so none may come after this. A witness
    // timer with the heartbeat's period, started after it, ticks four times: a live heartbeat would have
    // fired at least three times meanwhile, however slow the machine (before the fix it kept renewing
    // until the poll's 120 s time limit).
    const atStop = renewals;
    let ticks = 0;
    const witness = setInterval(() => ticks++, Math.max(500, Math.floor(LEASE_MS / 3)));
    await expect.poll(() => ticks, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(4);
    clearInterval(witness);
    expect(renewals).toBe(atStop);
  }, 180_000);
});
