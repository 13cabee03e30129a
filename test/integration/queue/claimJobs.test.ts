import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimJobs, extendLease } from '../../../src/queue/claimJobs.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import { StoredEvent } from '../../../src/siem/storedEvent.js';
import { eventJson } from '../../../src/siem/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, claim, dbNow, jobs, ms, newDestination, newOrg } from './support.js';

// Claiming: due jobs of one destination, locked with FOR UPDATE SKIP LOCKED, leased until a time.
describe.each(DB_KINDS)('queue: claimJobs and extendLease (%s)', (kind) => {
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

  async function setup(events = 5) {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const eventIds = await addEvents(tdb.db, org, events);
    return { org, dest, eventIds };
  }

  it('claims due jobs oldest first up to the limit, with their payload, stamped with the claim id and leased', async () => {
    const { org, dest } = await setup(5);
    // Jobs of one batch fall due together; ties go by job id.
    const eventIds = (await jobs(tdb.db, dest)).map((j) => j.event_id);
    const t0 = await dbNow(tdb.db);
    const { claimId, claimed } = await claim(tdb.db, org, dest, { limit: 3, leaseMs: 45_000 });
    const t1 = await dbNow(tdb.db);

    expect(claimed.map((j) => [j.orgId, j.eventId, j.attempts])).toEqual(eventIds.slice(0, 3).map((e) => [org, e, 0]));
    expect(claimed.map((j) => (JSON.parse(j.payloadJson) as { event: { id: string } }).event.id)).toEqual(eventIds.slice(0, 3));
    const rows = await jobs(tdb.db, dest);
    for (const r of rows.slice(0, 3)) {
      expect(r.claim_id).toBe(claimId);
      expect(r.status).toBe('pending');
      expect(r.attempts).toBe(0);
      // The lease: next_attempt_at = the claim's now() + leaseMs.
      expect(ms(r.next_attempt_at, t0)).toBeGreaterThanOrEqual(45_000);
      expect(ms(r.next_attempt_at, t1)).toBeLessThanOrEqual(45_000);
    }
    expect(rows.slice(3).map((r) => r.claim_id)).toEqual([null, null]);

    // Leased jobs are not due: the next claim gets only the rest.
    const second = await claim(tdb.db, org, dest);
    expect(second.claimed.map((j) => j.eventId)).toEqual(eventIds.slice(3));
    expect((await claim(tdb.db, org, dest)).claimed).toEqual([]);
  });

  it('hands back each payload as its stored text, which then is its JSON as sent when JSON.stringify wrote it', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const payload = (id: string) => ({
      '@timestamp': '2026-05-15T10:33:21.456000+00:00',
      event: { id, dataset: 'aegis.preflight', type: ['allowed'] },
      aegis: { summary: 'quote " backslash \\ tab \t newline \n slash / é 日本 \u2028 😀', zeta: 1, alpha: -2 },
      organization: { id: org },
    });
    await recordEvents(tdb.db, [
      { orgId: org, id: 'pflt_api', occurredAt: new Date(), payload: payload('pflt_api') },
      { orgId: org, id: 'pflt_jsonb', occurredAt: new Date(), payload: payload('pflt_jsonb') },
    ]);
    // Another writer: jsonb's rendering (key order by length, `": "` and `", "`).
    await tdb.db.query(`UPDATE audit_events SET payload = payload::jsonb::json WHERE org_id = $1 AND id = 'pflt_jsonb'`, [org]);
    const { rows } = await tdb.db.query<{ id: string; p: string }>(`SELECT id, payload::text AS p FROM audit_events WHERE org_id = $1 ORDER BY id`, [org]);
    const stored = new Map(rows.map((r) => [r.id, r.p]));
    expect(stored.get('pflt_api')).toBe(JSON.stringify(payload('pflt_api')));
    expect(stored.get('pflt_jsonb')).toContain('": ');

    const { claimed } = await claim(tdb.db, org, dest);
    expect(claimed.map((j) => j.eventId).sort()).toEqual(['pflt_api', 'pflt_jsonb']);
    for (const j of claimed) {
      expect(j.payloadJson).toBe(stored.get(j.eventId));
      const e = new StoredEvent(j.payloadJson);
      expect(e.wire).toEqual(payload(j.eventId));
      // Taken only when it is what JSON.stringify writes (the API's), and sent as that either way.
      expect(e.storedJson).toBe(j.eventId === 'pflt_api' ? j.payloadJson : undefined);
      expect(eventJson(e)).toBe(JSON.stringify(JSON.parse(j.payloadJson)));
    }
  });

  it('hands back the job’s creation and the claim’s time to the millisecond, as parsed timestamps were', async () => {
    const { org, dest } = await setup(1);
    await tdb.db.query(`UPDATE forwarding_jobs SET created_at = '2026-05-15T10:33:21.456789Z' WHERE destination_id = $1`, [dest]);
    const t0 = await dbNow(tdb.db);
    const { claimed } = await claim(tdb.db, org, dest);
    const t1 = await dbNow(tdb.db);
    expect(claimed).toHaveLength(1);
    expect(claimed[0]!.createdAt.toISOString()).toBe('2026-05-15T10:33:21.456Z');
    expect(claimed[0]!.claimedAt.getTime()).toBeGreaterThanOrEqual(t0.getTime());
    expect(claimed[0]!.claimedAt.getTime()).toBeLessThanOrEqual(t1.getTime());
  });

  it('takes jobs in next_attempt_at order and leaves jobs that are not due yet', async () => {
    const { org, dest } = await setup(3);
    const [j1, j2, j3] = (await jobs(tdb.db, dest)).map((j) => j.id);
    await tdb.db.query(`UPDATE forwarding_jobs SET next_attempt_at = now() - interval '1 minute' WHERE id = $1`, [j3]);
    await tdb.db.query(`UPDATE forwarding_jobs SET next_attempt_at = now() + interval '1 minute' WHERE id = $1`, [j1]);
    const { claimed } = await claim(tdb.db, org, dest);
    expect(claimed.map((j) => j.id).sort()).toEqual([j2, j3].sort());
    // Ordered by id in the answer; picked by due time (limit 1 takes the longest overdue).
    await tdb.db.query(`UPDATE forwarding_jobs SET claim_id = NULL, next_attempt_at = now() - interval '1 second' WHERE id = ANY($1::bigint[])`, [[j2, j3]]);
    await tdb.db.query(`UPDATE forwarding_jobs SET next_attempt_at = now() - interval '1 minute' WHERE id = $1`, [j3]);
    expect((await claim(tdb.db, org, dest, { limit: 1 })).ids).toEqual([j3]);
  });

  it('claims only the given destination’s jobs, and never done or failed ones', async () => {
    const org = await newOrg(tdb.db);
    const a = await newDestination(tdb.db, org);
    const b = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 3);
    const [done, failed, pending] = (await jobs(tdb.db, a)).map((j) => j.id);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'done', settled_at = now() WHERE id = $1`, [done]);
    await tdb.db.query(`UPDATE forwarding_jobs SET status = 'failed', settled_at = now() WHERE id = $1`, [failed]);
    expect((await claim(tdb.db, org, a)).ids).toEqual([pending]);
    expect((await claim(tdb.db, org, b)).ids).toEqual((await jobs(tdb.db, b)).map((j) => j.id));
  });

  it('claims nothing of a disabled destination, or of one whose breaker pause has not ended', async () => {
    const { org, dest } = await setup(2);
    await tdb.db.query(`UPDATE destinations SET enabled = false WHERE id = $1`, [dest]);
    expect((await claim(tdb.db, org, dest)).claimed).toEqual([]);

    await tdb.db.query(`UPDATE destinations SET enabled = true, paused_until = now() + interval '1 minute' WHERE id = $1`, [dest]);
    expect((await claim(tdb.db, org, dest)).claimed).toEqual([]);
    // Nothing was stamped by the refused claims.
    expect((await jobs(tdb.db, dest)).map((j) => j.claim_id)).toEqual([null, null]);

    await tdb.db.query(`UPDATE destinations SET paused_until = now() - interval '1 second' WHERE id = $1`, [dest]);
    expect((await claim(tdb.db, org, dest)).claimed).toHaveLength(2);
  });

  it('claims nothing through another organization’s id', async () => {
    const { dest } = await setup(2);
    const stranger = await newOrg(tdb.db);
    expect((await claim(tdb.db, stranger, dest)).claimed).toEqual([]);
  });

  it('concurrent claims take disjoint sets that together cover every due job', async () => {
    const { org, dest } = await setup(40);
    const claims = await Promise.all([1, 2, 3, 4].map(() => claim(tdb.db, org, dest, { limit: 15 })));
    const all = claims.flatMap((c) => c.ids);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort((x, y) => x - y)).toEqual((await jobs(tdb.db, dest)).map((j) => j.id));
    for (const c of claims) {
      const owned = (await jobs(tdb.db, dest)).filter((j) => j.claim_id === c.claimId).map((j) => j.id);
      expect(owned.sort((x, y) => x - y)).toEqual([...c.ids].sort((x, y) => x - y));
    }
  });

  // PGlite has one connection and serialises transactions, so only the server can hold a lock while
  // another claim runs: that claim must skip the locked rows at once, not wait for them.
  it.runIf(kind === 'postgres')('a claim skips rows another open transaction holds, without waiting', async () => {
    const { org, dest } = await setup(6);
    let inner: number[] = [];
    const outer = await tdb.db.transaction(async (tx) => {
      const held = await claimJobs(tx, { orgId: org, destinationId: dest, limit: 4, leaseMs: 60_000, claimId: randomUUID() });
      // Still uncommitted: the rows stay locked (and, to others, still look due).
      inner = (await claim(tdb.db, org, dest, { limit: 6 })).ids;
      return held.map((j) => j.id);
    });
    expect(outer).toHaveLength(4);
    expect(inner).toHaveLength(2);
    expect([...outer, ...inner].sort((x, y) => x - y)).toEqual((await jobs(tdb.db, dest)).map((j) => j.id));
  });

  it('extendLease pushes the lease of jobs still held by the claim, and only those', async () => {
    const { org, dest } = await setup(3);
    const { claimId, ids } = await claim(tdb.db, org, dest, { limit: 2, leaseMs: 1_000 });
    const before = await jobs(tdb.db, dest);

    const stale = await extendLease(tdb.db, { claimId: randomUUID(), ids, leaseMs: 600_000 });
    expect(stale).toBe(0);
    expect(await jobs(tdb.db, dest)).toEqual(before);

    // Another organization's claimed jobs, named with this claim's id: the claim id fences tenants too.
    const other = await setup(2);
    const theirs = await claim(tdb.db, other.org, other.dest, { leaseMs: 1_000 });
    const theirsBefore = await jobs(tdb.db, other.dest);
    expect(await extendLease(tdb.db, { claimId, ids: theirs.ids, leaseMs: 600_000 })).toBe(0);
    expect(await jobs(tdb.db, other.dest)).toEqual(theirsBefore);

    const unclaimed = before[2]!.id;
    const t0 = await dbNow(tdb.db);
    const n = await extendLease(tdb.db, { claimId, ids: [...ids, unclaimed], leaseMs: 600_000 });
    const t1 = await dbNow(tdb.db);
    expect(n).toBe(2);
    const after = await jobs(tdb.db, dest);
    for (const r of after.slice(0, 2)) {
      expect(ms(r.next_attempt_at, t0)).toBeGreaterThanOrEqual(600_000);
      expect(ms(r.next_attempt_at, t1)).toBeLessThanOrEqual(600_000);
      expect(r.claim_id).toBe(claimId);
    }
    expect(after[2]).toEqual(before[2]);
  });
});
