// A destination's run that fails with an error the database does not call an outage (a column renamed
// by hand, a revoked grant, a statement cancelled by a DBA's timeout) fails the same way at once if
// run again: the worker waits a second before that destination's next run, and logs the failure once
// a minute, not once per run (a busy loop wrote 150 lines a second and held 20 % of a core). Counted
// in scans, not time: while the worker scans again and again, the broken destination is not run at
// every scan.
import { describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../support/db.js';
import { loggedService } from '../../support/statementLog.js';
import { allDelivered, seedEvents } from './support.js';

const SCAN = /WITH RECURSIVE heads/;
// The claim of a destination's run (as wakeStatements.test.ts reads it), sent with its id.
const CLAIM = /^WITH picked AS \(\s+SELECT id FROM forwarding_jobs\s+WHERE org_id = \$1 AND destination_id = \$2 AND status = 'pending'/;

describe.each(DB_KINDS)('a destination run that fails with a statement error (%s)', (kind) => {
  const t = loggedService(kind, { AEGIS_WORKER_INTERVAL_MS: '100' });

  it('is tried again after a pause, not in a loop, and logged once until the cause is gone; then its events arrive', async () => {
    const siem = await t.receiver();
    const org = await t.svc.newOrg();
    const res = await t.svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { siem: 'custom', url: `${siem.url}/hook`, enabled: true },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    // The claim reads this column: every run of every destination fails until it is back.
    await t.tdb.db.exec('ALTER TABLE forwarding_jobs RENAME COLUMN shed_since TO shed_since_renamed');
    let ids: string[] = [];
    const failedLines = () => t.svc.logs.lines.filter((l) => l.includes('destination runner failed'));
    try {
      ids = await seedEvents(t.tdb.db, org.orgId, 3);
      await expect.poll(() => failedLines().length).toBeGreaterThan(0);
      // Twenty scans later (every 100 ms, and after every run that ends): each failed run wakes the
      // worker, and its next scan leaves the held destination out, so its runs are at most half the
      // scans; run at every scan, they were as many. The line stays one (once a minute).
      const since = t.log.texts.length;
      await expect.poll(() => t.log.count(SCAN, since)).toBeGreaterThanOrEqual(20);
      expect(t.log.count(CLAIM, since, id) * 2).toBeLessThanOrEqual(t.log.count(SCAN, since));
      expect(failedLines()).toHaveLength(1);
      expect(JSON.parse(failedLines()[0]!)).toMatchObject({ level: 50, err: expect.stringContaining('shed_since') });
    } finally {
      await t.tdb.db.exec('ALTER TABLE forwarding_jobs RENAME COLUMN shed_since_renamed TO shed_since');
    }
    // The cause gone, the destination's events go.
    await expect.poll(() => allDelivered(t.tdb.db, id, ids, siem.requests), { timeout: 60_000 }).toBe(true);
  });
});
