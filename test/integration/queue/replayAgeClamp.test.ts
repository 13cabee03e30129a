// A background range replay walked long after it was accepted (it waited for its turn, its worker was
// down, its lease ran out and it was claimed hours later): the events between its recorded start and
// what the SIEM still accepts have become too old meanwhile. Each batch clamps its lower bound to the
// SIEM's age limit on the database's clock, counts what it left out in skipped_too_old, and queues
// nothing the worker would dead-letter at once. Ages are set through occurred_at relative to the
// database's now(), never by waiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, dbNow, newOrg } from './support.js';
import { queueReplayBatch, type WindowPosition } from '../../../src/queue/replayRange.js';
import * as replayRepo from '../../../src/replays/repository.js';
import { runClaimedReplay } from '../../../src/replays/runner.js';
import { toReplayView } from '../../../src/replays/view.js';
import { getEncoder } from '../../../src/siem/registry.js';
import { sendableAgeMs } from '../../../src/siem/types.js';
import type { Db, Queryable } from '../../../src/db/types.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const BATCH = 3;
/** Datadog's sendable age (18 h less the worker's margin): what the walk and the worker cut on. */
const DATADOG_SENDABLE = sendableAgeMs(getEncoder('datadog'))!;

let seq = 0;

async function newDestination(db: Queryable, orgId: string, siem: 'datadog' | 'splunk_hec'): Promise<string> {
  const id = `dst_clamp_${process.pid}_${++seq}`;
  // Disabled: recorded events get no live job, and the replay's jobs wait (nothing delivers them here).
  await db.query(`INSERT INTO destinations (org_id, id, siem, url, enabled) VALUES ($1, $2, $3, 'https://siem.example.com/hook', false)`, [orgId, id, siem]);
  return id;
}

/** Pending jobs of a destination, event ids sorted (a duplicate would show twice). */
async function pendingEvents(db: Queryable, destinationId: string): Promise<string[]> {
  const { rows } = await db.query<{ event_id: string }>(`SELECT event_id FROM forwarding_jobs WHERE destination_id = $1 AND status = 'pending'`, [
    destinationId,
  ]);
  return rows.map((r) => r.event_id).sort();
}

/** Event ids in window order (occurred_at, id), as a walk meets them. */
async function windowOrder(db: Queryable, orgId: string, ids: string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM audit_events WHERE org_id = $1 AND id = ANY($2::text[]) ORDER BY occurred_at, id`, [
    orgId,
    ids,
  ]);
  return rows.map((r) => r.id);
}

/**
 * The database, except that each transaction first waits for `gate()`: work started between two
 * batches (onBatch is synchronous) has committed before the next batch begins, whatever the pool does.
 */
function gatedDb(db: Db, gate: () => Promise<unknown>): Db {
  return {
    kind: db.kind,
    query: <R>(text: string, values?: readonly unknown[]) => db.query<R>(text, values),
    exec: (script: string) => db.exec(script),
    transaction: async (fn, opts) => {
      await gate();
      return db.transaction(fn, opts);
    },
    listen: (channel, onNotify, onReconnect) => db.listen(channel, onNotify, onReconnect),
    close: () => db.close(),
  };
}

describe.each(DB_KINDS)('range replay age clamp (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  /**
   * A window accepted six hours ago: its start (now - 24 h) was then Datadog's limit. Two events lie
   * before it (the plan's trim counted them); seven between it and today's limit (too old now, three of
   * them sharing one time, two just past the limit); seven inside today's limit.
   */
  async function scenario(siem: 'datadog' | 'splunk_hec') {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org, siem);
    const now = (await dbNow(tdb.db)).getTime();
    const at = (ago: number) => new Date(now - ago);
    const beforeStart = await addEvents(tdb.db, org, 2, at(26 * HOUR));
    const tooOld = [
      ...(await addEvents(tdb.db, org, 2, at(23 * HOUR))),
      ...(await addEvents(tdb.db, org, 3, at(22 * HOUR))),
      ...(await addEvents(tdb.db, org, 2, at(DATADOG_SENDABLE + 1000))),
    ];
    // Ten minutes inside the limit: still inside however slowly the test runs.
    const inside = [...(await addEvents(tdb.db, org, 3, at(DATADOG_SENDABLE - 10 * MINUTE))), ...(await addEvents(tdb.db, org, 4, at(HOUR)))];
    const replayId = `rpl_clamp_${process.pid}_${++seq}`;
    await tdb.db.query(
      `INSERT INTO replays (org_id, id, destination_id, window_from, window_to, start_at, skipped_too_old, total_estimate, notes, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, 'api_key')`,
      [org, replayId, dest, at(30 * HOUR), new Date(now + MINUTE), at(24 * HOUR), beforeStart.length, tooOld.length + inside.length],
    );
    return { org, dest, replayId, tooOld, inside, beforeStart };
  }

  /** Claims and walks the replay to its end, giving the claim up after every `turnBatches` batches (a replay that waits for its turns). */
  async function walk(org: string, replayId: string, turnBatches?: number) {
    for (let turn = 0; turn < 100; turn++) {
      const claim = await replayRepo.claimReplay(tdb.db, `clamp-${turn}`, 60_000, { orgId: org, id: replayId });
      expect(claim).not.toBeNull();
      const outcome = await runClaimedReplay(tdb.db, claim!, { batch: BATCH, leaseMs: 60_000, turnBatches });
      if (outcome !== 'yielded') return outcome;
    }
    throw new Error('the replay never finished');
  }

  it('a delayed walk queues only what the SIEM still accepts and counts the rest as skipped too old', async () => {
    const s = await scenario('datadog');
    expect(await walk(s.org, s.replayId)).toBe('done');
    // Nothing the worker would dead-letter at once ("Event too old for Datadog"): only the events inside the limit, once each.
    expect(await pendingEvents(tdb.db, s.dest)).toEqual([...s.inside].sort());
    const row = (await replayRepo.getReplay(tdb.db, s.org, s.replayId))!;
    expect(row).toMatchObject({
      status: 'done',
      skipped_too_old: s.beforeStart.length + s.tooOld.length,
      queued: s.inside.length,
      scanned: s.tooOld.length + s.inside.length,
      filtered_out: 0,
      already_pending: 0,
    });
    const view = toReplayView(row);
    expect(view.skipped_too_old).toBe(9);
    expect(view.message).toMatch(/7 event\(s\) became older than the SIEM keeps .* were not queued/);
    // Walked and counted, not lost: the estimate is met, so nothing is blamed on retention.
    expect(view.message).not.toMatch(/removed by retention/);
  });

  it('resumed from a cursor inside the too-old stretch, a turn at a time: no event counted twice, none queued twice', async () => {
    const s = await scenario('datadog');
    // A claimer that died after walking two events (as they were then), and one event of the window already waiting.
    // The second of the window in (occurred_at, id) order: the first two too-old events (one time) lie behind it.
    const { rows } = await tdb.db.query<{ id: string; occurred_at: string }>(
      `SELECT id, occurred_at::text AS occurred_at FROM audit_events WHERE org_id = $1 AND id = ANY($2::text[]) ORDER BY occurred_at, id OFFSET 1 LIMIT 1`,
      [s.org, s.tooOld],
    );
    expect(s.tooOld.slice(0, 2)).toContain(rows[0]!.id);
    await tdb.db.query(
      `UPDATE replays SET scanned = 2, already_pending = 2, cursor_occurred_at = $3::timestamptz, cursor_event_id = $4 WHERE org_id = $1 AND id = $2`,
      [s.org, s.replayId, rows[0]!.occurred_at, rows[0]!.id],
    );
    await tdb.db.query(`INSERT INTO forwarding_jobs (org_id, destination_id, event_id) VALUES ($1, $2, $3)`, [s.org, s.dest, s.inside[0]]);
    expect(await walk(s.org, s.replayId, 1)).toBe('done');
    expect(await pendingEvents(tdb.db, s.dest)).toEqual([...s.inside].sort());
    const row = (await replayRepo.getReplay(tdb.db, s.org, s.replayId))!;
    expect(row).toMatchObject({
      status: 'done',
      skipped_too_old: s.beforeStart.length + s.tooOld.length - 2,
      queued: s.inside.length - 1,
      already_pending: 2 + 1,
      scanned: s.tooOld.length + s.inside.length,
      filtered_out: 0,
    });
    expect(toReplayView(row).message).not.toMatch(/removed by retention/);
  });

  it('a destination whose SIEM keeps events of any age walks the whole recorded window as before', async () => {
    const s = await scenario('splunk_hec');
    expect(await walk(s.org, s.replayId)).toBe('done');
    expect(await pendingEvents(tdb.db, s.dest)).toEqual([...s.tooOld, ...s.inside].sort());
    const row = (await replayRepo.getReplay(tdb.db, s.org, s.replayId))!;
    expect(row).toMatchObject({ skipped_too_old: s.beforeStart.length, queued: s.tooOld.length + s.inside.length, scanned: s.tooOld.length + s.inside.length });
    expect(toReplayView(row).message).toBeNull();
  });

  it('a batch counts an event too old before its filter: one reason per event, and the cursor moves past what it skipped', async () => {
    const s = await scenario('datadog');
    const now = (await dbNow(tdb.db)).getTime();
    const args = { orgId: s.org, destinationId: s.dest, from: new Date(now - 24 * HOUR), to: new Date(now + MINUTE), batch: 4 };
    const datadogLimit = {
      before: async () => ({
        maxAgeMs: DATADOG_SENDABLE,
        select: async (ps: readonly Record<string, unknown>[]) => ps.map((p) => (p as { n?: number }).n !== 0),
      }),
    };
    const sums = { scanned: 0, queued: 0, filteredOut: 0, skippedTooOld: 0 };
    let after: WindowPosition | null = null;
    for (;;) {
      const r = await queueReplayBatch(tdb.db, { ...args, after }, datadogLimit);
      sums.scanned += r.scanned;
      sums.queued += r.queued;
      sums.filteredOut += r.filteredOut;
      sums.skippedTooOld += r.skippedTooOld;
      if (r.scanned < args.batch || r.last === null) break;
      after = r.last;
    }
    // addEvents numbers each call's events from 0: the first of each inside call is filtered out (two), the too-old ones are too old only.
    expect(sums).toEqual({ scanned: 14, queued: 5, filteredOut: 2, skippedTooOld: 7 });
  });

  /**
   * One claim walks the whole replay of `s` (the command line's walk, or a background turn of 20
   * batches), and `change` runs on the destination's row once the first batch has committed, before
   * the next begins (as a PATCH between two batches).
   */
  async function walkChangingAfterFirstBatch(s: { org: string; dest: string; replayId: string }, change: (db: Db) => Promise<unknown>) {
    const claim = await replayRepo.claimReplay(tdb.db, `clamp-change-${++seq}`, 60_000, { orgId: s.org, id: s.replayId });
    expect(claim).not.toBeNull();
    let batches = 0;
    let changed: Promise<unknown> = Promise.resolve();
    const outcome = await runClaimedReplay(
      gatedDb(tdb.db, () => changed),
      claim!,
      {
        batch: BATCH,
        leaseMs: 60_000,
        onBatch: () => {
          if (++batches === 1) changed = change(tdb.db);
        },
      },
    );
    expect(outcome).toBe('done');
    expect(batches).toBeGreaterThan(1);
  }

  /**
   * The destination's SIEM is changed once the first batch has committed. The next batch must cut on
   * the new SIEM's limit: a cut on the claim's SIEM would queue events the worker dead-letters at
   * once, or skip for good events the new SIEM would take.
   */
  async function walkChangingSiem(from: 'datadog' | 'splunk_hec', to: 'datadog' | 'splunk_hec') {
    const s = await scenario(from);
    await walkChangingAfterFirstBatch(s, (db) =>
      db.query(`UPDATE destinations SET siem = $3, updated_at = now() WHERE org_id = $1 AND id = $2`, [s.org, s.dest, to]),
    );
    // The first batch walked the first three events of the window, all too old for Datadog by now.
    const ordered = await windowOrder(tdb.db, s.org, s.tooOld);
    return { ...s, firstBatch: ordered.slice(0, BATCH), rest: ordered.slice(BATCH) };
  }

  // Splunk takes the old events of the batches it walks; Datadog's limit skips them. Either way the
  // next batch of the same claim cuts on the SIEM as it is by then.
  it.each([
    ['with', 'splunk_hec', 'datadog', (w: { firstBatch: string[]; rest: string[] }) => ({ sent: w.firstBatch, skipped: w.rest })],
    ['without', 'datadog', 'splunk_hec', (w: { firstBatch: string[]; rest: string[] }) => ({ sent: w.rest, skipped: w.firstBatch })],
  ] as const)('a SIEM changed to one %s an age limit during a walk: the next batch of the same claim cuts on it', async (_with, from, to, split) => {
    const s = await walkChangingSiem(from, to);
    const { sent, skipped } = split(s);
    expect(await pendingEvents(tdb.db, s.dest)).toEqual([...sent, ...s.inside].sort());
    const row = (await replayRepo.getReplay(tdb.db, s.org, s.replayId))!;
    expect(row).toMatchObject({
      status: 'done',
      skipped_too_old: s.beforeStart.length + skipped.length,
      queued: sent.length + s.inside.length,
      scanned: s.tooOld.length + s.inside.length,
      filtered_out: 0,
      already_pending: 0,
    });
    expect(toReplayView(row).message).toMatch(new RegExp(`${skipped.length} event\\(s\\) became older than the SIEM keeps`));
  });

  it('a filter edited during a walk applies from the next batch of the same claim', async () => {
    const s = await scenario('splunk_hec');
    // As a PATCH that narrows the filter to nothing this window holds.
    await walkChangingAfterFirstBatch(s, (db) =>
      db.query(`UPDATE destinations SET filter = $3::jsonb, updated_at = now() WHERE org_id = $1 AND id = $2`, [
        s.org,
        s.dest,
        JSON.stringify({ 'event.id': { $in: ['evt_in_no_window'] } }),
      ]),
    );
    const all = [...s.tooOld, ...s.inside];
    const firstBatch = (await windowOrder(tdb.db, s.org, all)).slice(0, BATCH);
    // Splunk keeps events of any age: the first batch queued all three, the filter then let none through.
    expect(await pendingEvents(tdb.db, s.dest)).toEqual([...firstBatch].sort());
    const row = (await replayRepo.getReplay(tdb.db, s.org, s.replayId))!;
    expect(row).toMatchObject({ status: 'done', queued: BATCH, filtered_out: all.length - BATCH, scanned: all.length });
  });

  it('a batch that waited inside its transaction before reading cuts on the time it reads, not the time it began', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org, 'datadog');
    const id = `pflt_clamp_wait_${process.pid}_${++seq}`;
    const r = await queueReplayBatch(
      tdb.db,
      { orgId: org, destinationId: dest, from: new Date(0), to: new Date(Date.now() + HOUR), after: null, batch: BATCH },
      {
        // As a batch held up by the replay's row lock or the destination's replay turn: an event inside
        // the limit by the transaction's start (by 0.1 s), past it (by at least 0.4 s) once the batch reads.
        before: async (tx) => {
          await tx.query(
            `INSERT INTO audit_events (org_id, id, occurred_at, payload)
             VALUES ($1, $2, now() - $3 * interval '1 millisecond' + interval '100 milliseconds', jsonb_build_object('event', jsonb_build_object('id', $2::text)))`,
            [org, id, DATADOG_SENDABLE],
          );
          await tx.query(`SELECT pg_sleep(0.5)`);
          return { maxAgeMs: DATADOG_SENDABLE };
        },
      },
    );
    expect(r).toMatchObject({ scanned: 1, queued: 0, skippedTooOld: 1 });
    expect(await pendingEvents(tdb.db, dest)).toEqual([]);
  });
});
