// Regression: a destination deleted while its runner was still sending made the settle statement fail
// with "violates foreign key constraint delivery_attempts_org_id_destination_id_fkey", logged at error
// level. Its attempts are simply not recorded now.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { settleClaim } from '../../../src/queue/settleJobs.js';
import { purgeDeletedDestination } from '../../../src/destinations/deletion.js';

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
    // regression is about a row that is gone: settle the farewell and purge, as the worker does.
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'done', settled_at = now() WHERE org_id = $1 AND destination_id = $2 AND farewell`, [
      org.orgId,
      id,
    ]);
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
