// The pull API after the database moves to another PostgreSQL server (migration 0025,
// src/events/pullOrder.ts). A pg_dump restored on a fresh server, or a promoted logical replica,
// carries each event's txid (the recording transaction's id on the old server) into a server whose
// transaction counter is far behind. Here the rows are put in that state directly: every txid a
// billion transactions ahead of this server's counter, as the old server's would be. (The fault suite
// does the same with a real pg_dump into a fresh server: test/faults/restoreElsewhere.test.ts.)
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseKeyRing } from '../../../src/crypto/keyring.js';
import { migrate } from '../../../src/db/migrate.js';
import { encodePullCursor } from '../../../src/events/pullCursor.js';
import { DB_KINDS } from '../../support/db.js';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';
import { POLL } from '../../support/waitFor.js';
import { seedEvents } from '../delivery/support.js';

const AHEAD = 1_000_000_000n;

describe.each(DB_KINDS)('the pull API after the database moves to another server (%s)', (kind) => {
  // The API alone: nothing here is delivered.
  const ctx = serviceWithOrg(kind, {}, 'api');

  it('shows every moved event in its order, resumes cursors given out before, and numbers new events after them', async () => {
    const { tdb, svc, org } = ctx;
    const drain = async (cursor: string | null): Promise<string[]> => {
      const ids: string[] = [];
      for (let c = cursor; ;) {
        const res = await svc.request('GET', `/api/orgs/${org.orgId}/audit-events?limit=2${c ? `&cursor=${c}` : ''}`, { apiKey: org.apiKey });
        expect(res.status, res.text).toBe(200);
        ids.push(...(res.body.events as Array<{ event: { id: string } }>).map((e) => e.event.id));
        if (!res.body.has_more) return ids;
        c = res.body.next_cursor as string;
      }
    };
    for (let i = 0; i < 3; i++) await seedEvents(tdb.db, org.orgId, 1);
    const order = async () =>
      (await tdb.db.query<{ txid: string; id: string }>('SELECT txid::text AS txid, id FROM audit_events WHERE org_id = $1 ORDER BY txid, id', [org.orgId]))
        .rows;
    const before = await order();
    await expect.poll(() => drain(null), POLL).toEqual(before.map((r) => r.id));

    // The move: the rows as the old server numbered them, and a poller's cursor after the second event.
    await tdb.db.exec(`UPDATE audit_events SET txid = txid + ${AHEAD}`);
    const moved = await order();
    const held = encodePullCursor(parseKeyRing(svc.config.encryptionKey!), org.orgId, moved[1]!);
    // As the service found them before: above the bound, so no page showed them.
    const { rows: offset0 } = await tdb.db.query<{ o: string }>('SELECT txid_offset::text AS o FROM pull_order');
    expect(offset0[0]!.o).toBe('0');
    expect(await drain(null)).toEqual([]);

    // The next start (its migration step) numbers what is recorded from now on after the moved events.
    await migrate(tdb.db);
    const { rows: offset1 } = await tdb.db.query<{ o: string }>('SELECT txid_offset::text AS o FROM pull_order');
    expect(BigInt(offset1[0]!.o)).toBeGreaterThan(0n);
    await expect.poll(() => drain(null), POLL).toEqual(moved.map((r) => r.id));
    expect(await drain(held)).toEqual([moved[2]!.id]);
    const [fresh] = await seedEvents(tdb.db, org.orgId, 1);
    // After every moved event, for a poller resuming and from the start.
    await expect.poll(() => drain(held), POLL).toEqual([moved[2]!.id, fresh]);
    expect(await drain(null)).toEqual([...moved.map((r) => r.id), fresh]);
    const after = await order();
    expect(BigInt(after.at(-1)!.txid)).toBeGreaterThan(BigInt(moved.at(-1)!.txid));

    // Every later start changes nothing.
    await migrate(tdb.db);
    const { rows: offset2 } = await tdb.db.query<{ o: string }>('SELECT txid_offset::text AS o FROM pull_order');
    expect(offset2[0]!.o).toBe(offset1[0]!.o);
    expect(await drain(null)).toEqual([...moved.map((r) => r.id), fresh]);
  });

  // An attacker read of the change: the offset was taken from xmax, so a transaction that had its id
  // before the alignment (below xmax) and recorded after it sorted among the moved events, behind the
  // cursor a poller held. (PostgreSQL only: PGlite runs one transaction at a time.)
  it.runIf(kind === 'postgres')('numbers after the moved events what a transaction begun before the alignment records after it', async () => {
    const { tdb, svc } = ctx;
    const org = await svc.newOrg();
    await seedEvents(tdb.db, org.orgId, 2);
    const top = (await tdb.db.query<{ t: string }>('SELECT max(txid)::text AS t FROM audit_events')).rows[0]!.t;
    await tdb.db.exec(`UPDATE audit_events SET txid = txid + ${AHEAD} WHERE txid <= ${top}`);
    const late = new pg.Client({ connectionString: tdb.url! });
    await late.connect();
    try {
      await late.query('BEGIN');
      await late.query('SELECT pg_current_xact_id()');
      // Another transaction takes a later id and ends: xmax moves past the one still running.
      await seedEvents(tdb.db, (await svc.newOrg()).orgId, 1);
      await migrate(tdb.db);
      const moved = (
        await tdb.db.query<{ txid: string; id: string }>('SELECT txid::text AS txid, id FROM audit_events WHERE org_id = $1 ORDER BY txid, id', [org.orgId])
      ).rows;
      const held = encodePullCursor(parseKeyRing(svc.config.encryptionKey!), org.orgId, moved.at(-1)!);
      await late.query(
        `INSERT INTO audit_events (org_id, id, occurred_at, payload) SELECT org_id, 'pflt_late_recorded_event', occurred_at, payload FROM audit_events WHERE org_id = $1 LIMIT 1`,
        [org.orgId],
      );
      await late.query('COMMIT');
      const page = async () => {
        const res = await svc.request('GET', `/api/orgs/${org.orgId}/audit-events?cursor=${held}`, { apiKey: org.apiKey });
        expect(res.status, res.text).toBe(200);
        return (res.body.events as Array<{ event: { id: string } }>).length;
      };
      await expect.poll(page, POLL).toBe(1);
    } finally {
      await late.query('ROLLBACK').catch(() => undefined);
      await late.end();
    }
  });
});
