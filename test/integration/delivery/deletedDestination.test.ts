// Regression: a destination deleted while its runner was still sending made the settle statement fail
// with "violates foreign key constraint delivery_attempts_org_id_destination_id_fkey", logged at error
// level. Its attempts are simply not recorded now.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, type Receiver, type ReceivedRequest } from '../../support/httpsReceiver.js';
import { loggedService } from '../../support/statementLog.js';
import { POLL as WAIT } from '../../support/waitFor.js';
import { settleClaim } from '../../../src/queue/settleJobs.js';
import { purgeDeletedDestination } from '../../../src/destinations/deletion.js';
import { seedEvents } from './support.js';

describe.each(DB_KINDS)('settling a claim of a deleted destination (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1' }, 'api');
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  it('does not fail, and records no attempt for it', async () => {
    const org = await svc.newOrg();
    const base = `/api/orgs/${org.orgId}/forwarding-destinations`;
    const created = await svc.request('POST', base, { apiKey: org.apiKey, body: { url: 'http://127.0.0.1:9/ingest' } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.destination_id as string;
    expect((await svc.request('DELETE', `${base}/${id}`, { apiKey: org.apiKey })).status).toBe(200);
    // Since the configuration trail, a delete only tombstones the row until its farewell (the
    // destination_deleted event) settles, and attempts of a tombstoned row are rightly recorded. The
    // regression is about a row that is gone: settle the farewell as delivered (a settle deletes a
    // delivered job) and purge, as the worker does.
    const farewell = await tdb.db.query(`DELETE FROM forwarding_jobs WHERE org_id = $1 AND destination_id = $2 AND farewell`, [org.orgId, id]);
    expect(farewell.rowCount).toBe(1);
    expect(await purgeDeletedDestination(tdb.db, org.orgId, id)).toBe(true);

    const attempt = {
      orgId: org.orgId,
      destinationId: id,
      eventCount: 1,
      deliveredCount: 1,
      failedCount: 0,
      statusCode: 200,
      durationMs: 5,
      error: null,
      responseSnippet: null,
    };
    await expect(
      settleClaim(tdb.db, {
        orgId: org.orgId,
        claimId: '00000000-0000-4000-8000-000000000000',
        outcomes: [],
        report: { destinationId: id, attempts: [attempt], last: { ok: true, error: null }, delivered: true },
      }),
    ).resolves.toMatchObject({ done: 0 });
    const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM delivery_attempts WHERE org_id = $1', [org.orgId]);
    expect(rows[0]!.n).toBe(0);
  });
});

/** The worker's purge of one deleted destination (purgeDeletedDestination), and the hourly sweep's. */
const PURGE_ONE = /^DELETE FROM destinations d WHERE d\.org_id = \$1 AND d\.id = \$2 AND d\.deleted_at IS NOT NULL/;
const SWEEP = /^DELETE FROM destinations d WHERE d\.deleted_at IS NOT NULL/;

// Which runner removes a deleted destination's row: the one that claimed its farewell, or one that
// started for a row already deleted; never a runner of a destination nobody deleted, and never the
// hourly sweep when a runner delivered the farewell.
describe.each(DB_KINDS)('removing a deleted destination after its farewell (%s)', (kind) => {
  const ctx = loggedService(kind);

  /** A receiver that holds the first request `holds` picks until the returned `open` is called. */
  async function gatedReceiver(holds: (text: string) => boolean) {
    let held = false;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const r = await ctx.receiver(
      async (req: ReceivedRequest) => {
        if (!held && holds(req.body.toString('utf8'))) {
          held = true;
          await gate;
        }
        return { status: 200, body: 'ok' };
      },
      { trail: 'handle' },
    );
    return { r, open, held: () => held };
  }
  async function create(orgKey: { orgId: string; apiKey: string }, url: string): Promise<string> {
    const res = await ctx.svc.request('POST', `/api/orgs/${orgKey.orgId}/forwarding-destinations`, { apiKey: orgKey.apiKey, body: { siem: 'custom', url } });
    expect(res.status, res.text).toBe(201);
    return res.body.destination_id as string;
  }
  const rowExists = async (id: string) => (await ctx.tdb.db.query('SELECT 1 FROM destinations WHERE id = $1', [id])).rows.length > 0;
  const received = (r: Receiver, needle: string) => r.requests.filter((q) => q.body.toString('utf8').includes(needle)).length;

  it('a destination nobody deleted: its runners never ask to remove it', async () => {
    const org = await ctx.svc.newOrg();
    const r = await ctx.receiver(ok());
    await create(org, `${r.url}/hook`);
    await ctx.svc.service.worker?.idle();
    const from = ctx.log.texts.length;
    // Three wake-ups, one event each.
    for (let n = 1; n <= 3; n++) {
      await seedEvents(ctx.tdb.db, org.orgId, 1);
      await expect.poll(() => r.requests.length, WAIT).toBe(n);
    }
    await ctx.svc.service.worker?.idle();
    expect(ctx.log.count(PURGE_ONE, from)).toBe(0);
  });

  it('deleted while its runner sends the farewell of its disable: that runner removes it', async () => {
    const org = await ctx.svc.newOrg();
    const g = await gatedReceiver((t) => t.includes('"destination_disabled"'));
    const id = await create(org, `${g.r.url}/hook`);
    const base = `/api/orgs/${org.orgId}/forwarding-destinations/${id}`;
    await expect.poll(() => received(g.r, '"destination_created"'), WAIT).toBe(1);
    expect((await ctx.svc.request('PATCH', base, { apiKey: org.apiKey, body: { enabled: false } })).status).toBe(200);
    // The disable's farewell is on its way, sent by a runner that started for a row not deleted.
    await expect.poll(g.held, WAIT).toBe(true);
    expect((await ctx.svc.request('DELETE', base, { apiKey: org.apiKey })).status).toBe(200);
    // The row waits for the farewell in flight (a disabled destination gets no second one).
    expect(await rowExists(id)).toBe(true);
    const from = ctx.log.texts.length;
    g.open();
    await expect.poll(() => rowExists(id), WAIT).toBe(false);
    expect(ctx.log.count(PURGE_ONE, from)).toBeGreaterThanOrEqual(1);
    expect(ctx.log.count(SWEEP)).toBe(0);
    expect(received(g.r, '"destination_deleted"')).toBe(0);
  });

  it('deleted while a request to it is in flight: the runner that delivers its farewell removes it', async () => {
    const org = await ctx.svc.newOrg();
    const g = await gatedReceiver((t) => t.includes('"aegis.preflight"'));
    const id = await create(org, `${g.r.url}/hook`);
    const base = `/api/orgs/${org.orgId}/forwarding-destinations/${id}`;
    await expect.poll(() => received(g.r, '"destination_created"'), WAIT).toBe(1);
    await seedEvents(ctx.tdb.db, org.orgId, 1);
    await expect.poll(g.held, WAIT).toBe(true);
    expect((await ctx.svc.request('DELETE', base, { apiKey: org.apiKey })).status).toBe(200);
    expect(await rowExists(id)).toBe(true);
    g.open();
    // The farewell goes after the request in flight, and the row with it, without the hourly sweep.
    await expect.poll(() => received(g.r, '"destination_deleted"'), WAIT).toBe(1);
    await expect.poll(() => rowExists(id), WAIT).toBe(false);
    expect(ctx.log.count(SWEEP)).toBe(0);
  });
});
