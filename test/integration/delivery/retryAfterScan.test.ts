// A Retry-After that ends while the worker's scan is in flight. The scan leaves a destination waiting
// out a Retry-After out of both its answers (due now, and the next time); nothing but the worker's
// timer brings it back when the wait ends, so the timer must count a wait the scan left out even
// when that wait has ended by the time the scan answers.
import { describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../support/db.js';
import type { ReceiverHandler } from '../../support/httpsReceiver.js';
import { loggedService } from '../../support/statementLog.js';
import { POLL as WAIT } from '../../support/waitFor.js';
import { seedEvents } from './support.js';

/** The worker's scan (queue/dueDestinations.ts scanQueue). */
const DUE_SCAN = /SELECT \* FROM \(\s+SELECT d\.org_id, d\.id, d\.consecutive_failures/;

/** What this file reads of the worker's own state. */
interface WorkerView {
  limiters: { blocked(): Map<string, number> };
  idle(): Promise<void>;
}

describe.each(DB_KINDS)('a Retry-After ending during a scan (%s)', (kind) => {
  // The safety net an hour away: only the worker's own timer can bring the destination back.
  const ctx = loggedService(kind, { AEGIS_WORKER_INTERVAL_MS: '3600000' });

  it('the destination is served when its wait ends, not at the next interval', async () => {
    // Every request is refused with Retry-After: 1 until a scan has been held across a wait's end
    // (below); later ones are taken. A condition, not a time window: on a busy machine the first
    // scan after a refusal may come late, and the next refusal simply starts another wait.
    let okCount = 0;
    let held = 0;
    const handler: ReceiverHandler = () => {
      if (held === 0) return { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' };
      okCount++;
      return { status: 200, body: 'ok' };
    };
    const r = await ctx.receiver(handler);
    const org = await ctx.svc.newOrg();
    const res = await ctx.svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { siem: 'custom', url: `${r.url}/hook` },
    });
    expect(res.status, res.text).toBe(201);
    const dest = res.body.destination_id as string;
    await expect.poll(() => r.trailRequests.length, WAIT).toBeGreaterThanOrEqual(1);
    const worker = ctx.svc.service.worker as unknown as WorkerView;
    await worker.idle();

    // A scan that starts while the destination waits out its Retry-After answers just after the
    // wait ended (a slow scan, or one that simply straddles the instant).
    ctx.log.before = async (s) => {
      if (!DUE_SCAN.test(s.text)) return;
      const until = worker.limiters.blocked().get(dest);
      if (until === undefined) return;
      held++;
      while (Date.now() < until + 30) await new Promise((w) => setTimeout(w, 5));
    };
    try {
      await seedEvents(ctx.tdb.db, org.orgId, 3);
      // A ceiling far below the interval (an hour), far above the Retry-After and a retry.
      await expect.poll(() => okCount, { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(1);
      expect(held).toBeGreaterThanOrEqual(1);
    } finally {
      ctx.log.before = null;
    }
  });
});
