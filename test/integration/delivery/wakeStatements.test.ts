// What a destination's wake-up costs in statements, on both databases: the worker's statements are
// written down (test/support/statementLog.ts) and counted, never timed. At a trickle of events every
// event is its own wake-up, so a statement per wake-up is a statement per event.
import { beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../support/db.js';
import { ok, type Receiver } from '../../support/httpsReceiver.js';
import { loggedService } from '../../support/statementLog.js';
import { POLL as WAIT, waitFor } from '../../support/waitFor.js';
import { eventIdsOf, seedEvents } from './support.js';

/** The runner's read of its destination's row (reads.ts getDestinationRow), with or without its version. */
const ROW_READ = /^SELECT d\.\*(, .+)? FROM destinations d WHERE d\.org_id = \$1 AND d\.id = \$2$/;
/** claimJobs and claimFarewellJobs ($2: the destination), and the claim's settle (settleClaim, $8). */
const CLAIM = /^WITH picked AS \(\s+SELECT id FROM forwarding_jobs\s+WHERE org_id = \$1 AND destination_id = \$2 AND status = 'pending'/;
const SETTLE = /^WITH settled_done AS \(/;
/** The worker's scan (scanQueue): a wake-up. */
const DUE_SCAN = /SELECT \* FROM \(\s+SELECT d\.org_id, d\.id, d\.consecutive_failures/;
/** Any walk over the pending jobs' heads (queue/dueDestinations.ts PENDING_HEADS). */
const HEADS_WALK = /WITH RECURSIVE heads\(destination_id, first_at\)/;

describe.each(DB_KINDS)("a destination's wake-up in statements (%s)", (kind) => {
  const ctx = loggedService(kind);
  const receiver = () => ctx.receiver(ok());
  /** An enabled custom webhook whose own creation event (a trail event) has been delivered. */
  async function created(org: { orgId: string; apiKey: string }, r: Receiver, body: Record<string, unknown> = {}): Promise<string> {
    const res = await ctx.svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { siem: 'custom', url: `${r.url}/hook`, ...body },
    });
    expect(res.status, res.text).toBe(201);
    await expect.poll(() => r.trailRequests.length, WAIT).toBeGreaterThanOrEqual(1);
    await ctx.svc.service.worker?.idle();
    return res.body.destination_id as string;
  }
  /** Records one event and waits for `r` to receive it; returns its request. */
  async function deliverOne(orgId: string, r: Receiver) {
    const [id] = await seedEvents(ctx.tdb.db, orgId, 1);
    await expect.poll(() => r.requests.some((q) => eventIdsOf(q).includes(id!)), WAIT).toBe(true);
    return r.requests.find((q) => eventIdsOf(q).includes(id!))!;
  }
  /**
   * A new destination, then three events each delivered on its own wake-up: the destination's id and
   * where its statements start in the log.
   */
  async function threeWakeUps(): Promise<{ id: string; from: number }> {
    const org = await ctx.svc.newOrg();
    const r = await receiver();
    const id = await created(org, r);
    const from = ctx.log.texts.length;
    for (let n = 0; n < 3; n++) await deliverOne(org.orgId, r);
    await ctx.svc.service.worker?.idle();
    return { id, from };
  }

  it("an unchanged destination's row is not read again at each wake-up", async () => {
    const { from } = await threeWakeUps();
    expect(ctx.log.count(ROW_READ, from)).toBe(0);
  });

  it('a wake-up scans the queue in one statement: what is due and when the next job is', async () => {
    const { from } = await threeWakeUps();
    const scans = ctx.log.count(DUE_SCAN, from);
    expect(scans).toBeGreaterThanOrEqual(3);
    // Every walk over the heads is a scan: none is run again for the timer.
    expect(ctx.log.count(HEADS_WALK, from)).toBe(scans);
  });

  it('a wake-up claims once: a claim that came back short is the last of its lane', async () => {
    const { id, from } = await threeWakeUps();
    expect(ctx.log.count(SETTLE, from, id)).toBe(3);
    expect(ctx.log.count(CLAIM, from, id)).toBe(3);
  });

  it('a changed destination is read again at its next wake-up: a new URL, a new credential', async () => {
    const org = await ctx.svc.newOrg();
    const r = await receiver();
    const id = await created(org, r, { auth_header_name: 'Authorization', auth_header_value: 'Bearer first-credential-1234' });
    const path = `/api/orgs/${org.orgId}/forwarding-destinations/${id}`;
    const before = await deliverOne(org.orgId, r);
    expect([before.path, before.headers.authorization]).toEqual(['/hook', 'Bearer first-credential-1234']);

    const moved = await ctx.svc.request('PATCH', path, { apiKey: org.apiKey, body: { url: `${r.url}/moved` } });
    expect(moved.status, moved.text).toBe(200);
    expect((await deliverOne(org.orgId, r)).path).toBe('/moved');

    const rotated = await ctx.svc.request('PATCH', path, { apiKey: org.apiKey, body: { auth_header_value: 'Bearer second-credential-5678' } });
    expect(rotated.status, rotated.text).toBe(200);
    const after = await deliverOne(org.orgId, r);
    expect([after.path, after.headers.authorization]).toEqual(['/moved', 'Bearer second-credential-5678']);
  });
});

// A lane that ends after a short claim leaves no event behind: one recorded while its runner settles
// wakes the worker (NOTIFY), whose scan skips a destination being drained but runs again when the
// runner ends. The worker's interval is an hour here, and the runner is held until the scan woken by
// the new event has answered, so only the scan at the runner's end can deliver it within the test.
describe.each(DB_KINDS)('an event recorded while its destination settles a claim (%s)', (kind) => {
  const ctx = loggedService(kind, { AEGIS_WORKER_INTERVAL_MS: '3600000' });
  let r: Receiver;
  beforeAll(async () => {
    r = await ctx.receiver(ok());
  });

  const received = (id: string) => r.requests.some((q) => eventIdsOf(q).includes(id));

  for (const moment of ['before', 'after'] as const) {
    it(`is delivered at once, not at the next interval (recorded ${moment} the settle statement)`, async () => {
      const org = await ctx.svc.newOrg();
      const res = await ctx.svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
        apiKey: org.apiKey,
        body: { siem: 'custom', url: `${r.url}/${moment}` },
      });
      expect(res.status, res.text).toBe(201);
      const id = res.body.destination_id as string;
      await expect.poll(() => r.trailRequests.some((q) => q.path === `/${moment}`), WAIT).toBe(true);
      await ctx.svc.service.worker?.idle();

      let late: string | null = null;
      ctx.log[moment] = async (s) => {
        if (late !== null || !SETTLE.test(s.text) || !s.values.includes(id)) return;
        late = '';
        late = (await seedEvents(ctx.tdb.db, org.orgId, 1))[0]!;
        // The event's NOTIFY wakes the worker while this runner still runs. So that the test does not
        // depend on when it arrives, a wake-up is asked for now too, and the runner is held until a
        // scan made after the event committed has answered: it skipped the destination being drained.
        const mark = ctx.log.texts.length;
        ctx.svc.service.worker?.wake();
        await waitFor(
          'a scan after the event',
          () => ctx.log.answered(DUE_SCAN, mark),
          (n) => n >= 1,
          { intervalMs: 20 },
        );
      };
      try {
        const [first] = await seedEvents(ctx.tdb.db, org.orgId, 1);
        await expect.poll(() => received(first!), WAIT).toBe(true);
        await expect.poll(() => late, WAIT).toMatch(/^pflt_/);
        await expect.poll(() => received(late!), WAIT).toBe(true);
      } finally {
        ctx.log[moment] = null;
      }
    });
  }
});
