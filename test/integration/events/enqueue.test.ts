import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { recordEvents, type NewEvent } from '../../../src/queue/enqueue.js';
import { createOrg } from '../../../src/orgs/repository.js';
import { JOBS_CHANNEL } from '../../../src/queue/types.js';
import type { Queryable } from '../../../src/db/types.js';

/** A Queryable that counts the statements sent through it (round trips to the database). */
function counting(db: Queryable): Queryable & { statements: number } {
  const c = {
    statements: 0,
    query: (text: string, values?: readonly unknown[]) => {
      c.statements++;
      return db.query(text, values);
    },
    exec: (script: string) => {
      c.statements++;
      return db.exec(script);
    },
  };
  return c as Queryable & { statements: number };
}

describe.each(DB_KINDS)('recordEvents: the outbox (%s)', (kind) => {
  let tdb: TestDb;
  let orgId: string;
  let seq = 0;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    await tdb?.close();
  });
  beforeEach(async () => {
    orgId = (await createOrg(tdb.db, `outbox ${seq++}`)).id;
  });

  const addDestination = async (id: string, enabled: boolean) =>
    tdb.db.query(`INSERT INTO destinations (org_id, id, siem, url, enabled) VALUES ($1, $2, 'custom', 'https://siem.example/hook', $3)`, [orgId, id, enabled]);
  const event = (id: string, payload: unknown = { id, n: 1 }): NewEvent => ({ orgId, id, occurredAt: new Date('2026-05-15T10:33:21.456Z'), payload });

  it('stores each payload as exactly the JSON text built (key order, escapes, non-ASCII kept)', async () => {
    const tricky = {
      '@timestamp': '2026-05-15T10:33:21.456000+00:00',
      event: { id: 'pflt_a', type: ['allowed'] },
      aegis: { summary: 'quote " backslash \\ tab \t newline \n slash / é 日本 \u2028 😀', zeta: 1, alpha: 2 },
      organization: { id: orgId },
    };
    const other = { b: [1, 2.5, -0, 1e21, null, true], a: { '': '' } };
    await recordEvents(tdb.db, [event('pflt_a', tricky), event('pflt_b', other)]);
    const { rows } = await tdb.db.query<{ id: string; p: string; at: Date }>(
      `SELECT id, payload::text AS p, occurred_at AS at FROM audit_events WHERE org_id = $1 ORDER BY id`,
      [orgId],
    );
    expect(rows.map((r) => [r.id, r.p])).toEqual([
      ['pflt_a', JSON.stringify(tricky)],
      ['pflt_b', JSON.stringify(other)],
    ]);
    expect(rows[0]!.at.toISOString()).toBe('2026-05-15T10:33:21.456Z');
  });

  it('queues one job per enabled destination, is idempotent on (org, id), and reports what was new', async () => {
    const on = `dst_on_${seq}`;
    const on2 = `dst_on2_${seq}`;
    await addDestination(on, true);
    await addDestination(on2, true);
    await addDestination(`dst_off_${seq}`, false);
    const first = await recordEvents(tdb.db, [event('pflt_1'), event('pflt_2')]);
    expect(first.inserted.sort()).toEqual(['pflt_1', 'pflt_2']);
    expect(first.jobs).toBe(4);
    const again = await recordEvents(tdb.db, [event('pflt_2'), event('pflt_3')]);
    expect(again).toEqual({ inserted: ['pflt_3'], jobs: 2 });
    const { rows } = await tdb.db.query<{ d: string; n: number }>(
      `SELECT destination_id AS d, count(*)::int AS n FROM forwarding_jobs WHERE org_id = $1 GROUP BY 1 ORDER BY 1`,
      [orgId],
    );
    expect(rows).toEqual([
      { d: on2, n: 3 },
      { d: on, n: 3 },
    ]);
    expect(await recordEvents(tdb.db, [event('pflt_1')])).toEqual({ inserted: [], jobs: 0 });
  });

  it('records and queues a batch in one statement, atomic without a caller transaction', async () => {
    await addDestination(`dst_${seq}`, true);
    const q = counting(tdb.db);
    const res = await recordEvents(
      q,
      Array.from({ length: 50 }, (_, i) => event(`pflt_s${i}`)),
    );
    expect(res.jobs).toBe(50);
    expect(q.statements).toBe(1);
  });

  it('NOTIFYs workers when it queued jobs, and not when it queued none', async () => {
    const heard: string[] = [];
    const unlisten = await tdb.db.listen(JOBS_CHANNEL, (p) => heard.push(p));
    try {
      // No enabled destination: recorded, nothing queued, nobody woken. Then one with a job, then a
      // marker NOTIFY: once the marker arrives, everything sent before it has arrived too.
      await recordEvents(tdb.db, [event('pflt_quiet')]);
      await addDestination(`dst_n_${seq}`, true);
      await recordEvents(tdb.db, [event('pflt_loud')]);
      await tdb.db.query(`SELECT pg_notify($1, 'marker')`, [JOBS_CHANNEL]);
      // Polled with expect.poll: a loop that gave up at its deadline went on with indexOf = -1 and counted everything.
      await expect.poll(() => heard.includes('marker'), { timeout: 30_000, interval: 20 }).toBe(true);
      const before = heard.slice(0, heard.indexOf('marker')).length;
      // On the shared server other test files notify on the same channel; PGlite is ours alone.
      if (kind === 'pglite') expect(before).toBe(1);
      else expect(before).toBeGreaterThanOrEqual(1);
    } finally {
      await unlisten();
    }
  });
});
