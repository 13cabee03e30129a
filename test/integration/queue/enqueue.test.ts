import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordEvents } from '../../../src/queue/enqueue.js';
import { JOBS_CHANNEL } from '../../../src/queue/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { jobs, newDestination, newOrg } from './support.js';

// The outbox: recordEvents writes the events and their jobs in the caller's transaction.
describe.each(DB_KINDS)('queue: recordEvents (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  beforeEach(async () => {
    await tdb.reset();
  });
  afterAll(async () => {
    await tdb?.close();
  });

  const ev = (orgId: string, id: string) => ({ orgId, id, occurredAt: new Date('2030-01-02T03:04:05.000Z'), payload: { event: { id } } });

  it('queues one job per enabled destination of the event’s own organization, none for disabled or other orgs', async () => {
    const org = await newOrg(tdb.db);
    const other = await newOrg(tdb.db);
    const a = await newDestination(tdb.db, org);
    const b = await newDestination(tdb.db, org);
    const off = await newDestination(tdb.db, org, { enabled: false });
    const foreign = await newDestination(tdb.db, other);

    const r = await tdb.db.transaction((tx) => recordEvents(tx, [ev(org, 'e1'), ev(org, 'e2')]));

    expect(r).toEqual({ inserted: ['e1', 'e2'], jobs: 4 });
    for (const d of [a, b]) {
      // No order between the jobs of one batch is promised (they fall due together).
      const js = (await jobs(tdb.db, d)).sort((x, y) => x.event_id.localeCompare(y.event_id));
      expect(js.map((j) => [j.event_id, j.status, j.attempts, j.claim_id])).toEqual([
        ['e1', 'pending', 0, null],
        ['e2', 'pending', 0, null],
      ]);
    }
    expect(await jobs(tdb.db, off)).toEqual([]);
    expect(await jobs(tdb.db, foreign)).toEqual([]);
    const { rows } = await tdb.db.query<{ id: string; occurred_at: Date; payload: unknown }>(
      `SELECT id, occurred_at, payload FROM audit_events WHERE org_id = $1 ORDER BY id`,
      [org],
    );
    expect(rows.map((x) => [x.id, new Date(x.occurred_at).toISOString(), x.payload])).toEqual([
      ['e1', '2030-01-02T03:04:05.000Z', { event: { id: 'e1' } }],
      ['e2', '2030-01-02T03:04:05.000Z', { event: { id: 'e2' } }],
    ]);
  });

  it('is idempotent on (org, event id): an event recorded again is neither stored nor queued twice', async () => {
    const org = await newOrg(tdb.db);
    const other = await newOrg(tdb.db);
    const d = await newDestination(tdb.db, org);
    await newDestination(tdb.db, other);
    await tdb.db.transaction((tx) => recordEvents(tx, [ev(org, 'e1')]));

    const again = await tdb.db.transaction((tx) => recordEvents(tx, [ev(org, 'e1'), ev(org, 'e2')]));
    expect(again).toEqual({ inserted: ['e2'], jobs: 1 });
    expect((await jobs(tdb.db, d)).map((j) => j.event_id).sort()).toEqual(['e1', 'e2']);

    // The same id in another organization is another event.
    expect(await tdb.db.transaction((tx) => recordEvents(tx, [ev(other, 'e1')]))).toEqual({ inserted: ['e1'], jobs: 1 });
    expect(await tdb.db.transaction((tx) => recordEvents(tx, [ev(org, 'e1')]))).toEqual({ inserted: [], jobs: 0 });
  });

  it('records nothing when the transaction rolls back', async () => {
    const org = await newOrg(tdb.db);
    const d = await newDestination(tdb.db, org);
    await expect(
      tdb.db.transaction(async (tx) => {
        await recordEvents(tx, [ev(org, 'e1')]);
        throw new Error('caller failed after recording');
      }),
    ).rejects.toThrow('caller failed after recording');
    expect(await jobs(tdb.db, d)).toEqual([]);
    const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events`);
    expect(rows[0]!.n).toBe(0);
  });

  it('an event with no enabled destination is stored without jobs; an empty batch does nothing', async () => {
    const org = await newOrg(tdb.db);
    await newDestination(tdb.db, org, { enabled: false });
    expect(await tdb.db.transaction((tx) => recordEvents(tx, [ev(org, 'e1')]))).toEqual({ inserted: ['e1'], jobs: 0 });
    expect(await tdb.db.transaction((tx) => recordEvents(tx, []))).toEqual({ inserted: [], jobs: 0 });
  });

  it('notifies workers once the jobs are committed', async () => {
    const org = await newOrg(tdb.db);
    await newDestination(tdb.db, org);
    let notified = 0;
    const unlisten = await tdb.db.listen(JOBS_CHANNEL, () => notified++);
    try {
      await tdb.db.transaction((tx) => recordEvents(tx, [ev(org, 'e1')]));
      await expect.poll(() => notified, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    } finally {
      await unlisten();
    }
  });
});
