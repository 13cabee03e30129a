import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimRound, finishRound, giveBack, renewLease, TimedRound } from '../../../src/queue/timedRounds.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import type { Queryable } from '../../../src/db/types.js';
import { startTestService } from '../../support/harness.js';
import { addEvents, newOrg } from './support.js';

const HOUR = 3_600_000;

// A housekeeping round runs once per period across restarts and workers: its last start lives in the
// database, not in a process's timer (a worker restarted more often than hourly never pruned).
describe.each(DB_KINDS)('queue: timed rounds (%s)', (kind) => {
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

  const startedAgo = (name: string, interval: string, runningFor: string | null = null) =>
    tdb.db.query(`INSERT INTO timed_rounds (name, last_started_at, running_until) VALUES ($1, now() - $2::interval, now() + $3::interval)`, [
      name,
      interval,
      runningFor,
    ]);
  const row = async () =>
    (
      await tdb.db.query<{ ago_s: number; running: boolean }>(
        `SELECT extract(epoch FROM now() - last_started_at)::float8 AS ago_s, running_until IS NOT NULL AS running FROM timed_rounds WHERE name = 'r'`,
      )
    ).rows[0]!;
  const fail = (err: unknown) => {
    throw err;
  };

  it('counts a round seen for the first time as started now: a fresh installation waits a period', async () => {
    expect(await claimRound(tdb.db, 'r', HOUR)).toMatchObject({ taken: false, dueInMs: HOUR });
    const again = await claimRound(tdb.db, 'r', HOUR);
    expect(again.taken).toBe(false);
    expect(again.dueInMs).toBeGreaterThan(HOUR - 600_000);
    expect(again.dueInMs).toBeLessThanOrEqual(HOUR);
  });

  it('takes a round due since its last start, once, and then says when the next is due', async () => {
    await startedAgo('r', '2 hours');
    expect(await claimRound(tdb.db, 'r', HOUR)).toMatchObject({ taken: true, dueInMs: HOUR });
    const next = await claimRound(tdb.db, 'r', HOUR);
    expect(next.taken).toBe(false);
    expect(next.dueInMs).toBeGreaterThan(HOUR - 600_000);
  });

  it('says how long a round started half a period ago has left, by the database clock', async () => {
    await startedAgo('r', '30 minutes');
    const r = await claimRound(tdb.db, 'r', HOUR);
    expect(r.taken).toBe(false);
    expect(r.dueInMs).toBeGreaterThan(20 * 60_000);
    expect(r.dueInMs).toBeLessThanOrEqual(30 * 60_000);
  });

  it('lets one of several workers asking at once take a due round', async () => {
    await startedAgo('r', '2 hours');
    const answers = await Promise.all(Array.from({ length: 6 }, () => claimRound(tdb.db, 'r', HOUR)));
    expect(answers.filter((a) => a.taken)).toHaveLength(1);
  });

  it('runs a due round at start in one process, not again in another started beside it', async () => {
    await startedAgo('r', '2 hours');
    const runs: string[] = [];
    const a = new TimedRound(tdb.db, 'r', HOUR, async () => runs.push('a') > 0, fail);
    a.start();
    await expect.poll(() => runs, { timeout: 30_000 }).toEqual(['a']);
    const b = new TimedRound(tdb.db, 'r', HOUR, async () => runs.push('b') > 0, fail);
    b.start();
    // stop() waits for the check in progress: b has asked, and found the round taken.
    await Promise.all([a.stop(), b.stop()]);
    expect(runs).toEqual(['a']);
  });

  it('does not start a round another worker is running, even past its period, until its lease ends', async () => {
    await startedAgo('r', '2 hours', '4 minutes');
    const r = await claimRound(tdb.db, 'r', HOUR);
    expect(r.taken).toBe(false);
    expect(r.dueInMs).toBeGreaterThan(2 * 60_000);
    expect(r.dueInMs).toBeLessThanOrEqual(4 * 60_000);
  });

  it('takes a round whose lease lies more than a lease ahead (the clock was set back)', async () => {
    await startedAgo('r', '-30 days', '30 days');
    expect((await claimRound(tdb.db, 'r', HOUR)).taken).toBe(true);
  });

  it("renews a running round's lease, only while the round is still this claim's", async () => {
    await startedAgo('r', '2 hours');
    const mine = await claimRound(tdb.db, 'r', HOUR, 60_000);
    const leaseLeft = async () =>
      (await tdb.db.query<{ s: number }>(`SELECT extract(epoch FROM running_until - now())::float8 AS s FROM timed_rounds WHERE name = 'r'`)).rows[0]!.s;
    expect(await leaseLeft()).toBeLessThanOrEqual(60);
    await renewLease(tdb.db, 'r', mine.token!, 600_000);
    expect(await leaseLeft()).toBeGreaterThan(500);
    // The claim before this one (a worker whose lease ran out) renews nothing.
    await renewLease(
      tdb.db,
      'r',
      mine.token!.replace(/^\d+/, (n) => String(BigInt(n) - 1n)),
      5_000,
    );
    expect(await leaseLeft()).toBeGreaterThan(500);
  });

  it('never runs a round beside itself, though it outlasts its period', async () => {
    await startedAgo('r', '2 hours');
    let running = 0;
    let most = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const round = async () => {
      most = Math.max(most, ++running);
      await gate;
      running--;
      return true;
    };
    // A period of a second: the round is due again while the first is still running.
    const a = new TimedRound(tdb.db, 'r', 1000, round, fail);
    a.start();
    await expect.poll(() => running, { timeout: 30_000 }).toBe(1);
    // b's database, counting its checks: each is one claim.
    let checks = 0;
    const counted: Queryable = {
      query: (text, values) => {
        if (text.includes('INSERT INTO timed_rounds')) checks++;
        return tdb.db.query(text, values);
      },
      exec: (script) => tdb.db.exec(script),
    };
    const b = new TimedRound(counted, 'r', 1000, round, fail);
    b.start();
    // The round is due again each second while a's runs: b asks, and is refused, several times.
    await expect.poll(() => checks, { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
    release();
    await Promise.all([a.stop(), b.stop()]);
    expect(most).toBe(1);
  });

  it('takes a round whose runner died in it once the lease ran out', async () => {
    await startedAgo('r', '2 hours', '-1 minute');
    expect((await claimRound(tdb.db, 'r', HOUR)).taken).toBe(true);
  });

  it('takes a round whose last start lies more than a period ahead (the clock was set back)', async () => {
    await startedAgo('r', '-30 days');
    expect((await claimRound(tdb.db, 'r', HOUR)).taken).toBe(true);
  });

  it("leaves alone a round another worker took once this claim's lease ran out", async () => {
    await startedAgo('r', '2 hours');
    const mine = await claimRound(tdb.db, 'r', HOUR);
    expect(mine.taken).toBe(true);
    const myStart = (await tdb.db.query<{ t: string }>(`SELECT last_started_at::text AS t FROM timed_rounds WHERE name = 'r'`)).rows[0]!.t;
    // This worker's round outlasted its lease; another took the round since.
    await tdb.db.query(`UPDATE timed_rounds SET last_started_at = now() - interval '2 hours', running_until = now() - interval '1 second'`);
    const theirs = await claimRound(tdb.db, 'r', HOUR);
    expect(theirs.taken).toBe(true);
    // In the same tick of the database's clock as this worker's take (PGlite's moves in whole
    // milliseconds): the two takes share a start, and only their count tells them apart.
    await tdb.db.query(`UPDATE timed_rounds SET last_started_at = $1::timestamptz`, [myStart]);
    const theirsTied = `${theirs.token!.split(':')[0]}:${mine.token!.split(':')[1]}`;
    await finishRound(tdb.db, 'r', mine.token!);
    await giveBack(tdb.db, 'r', mine.token!, mine.priorStart!);
    expect(await row()).toMatchObject({ running: true });
    expect((await tdb.db.query<{ t: string }>(`SELECT last_started_at::text AS t FROM timed_rounds WHERE name = 'r'`)).rows[0]!.t).toBe(myStart);
    await finishRound(tdb.db, 'r', theirsTied);
    expect(await row()).toMatchObject({ running: false });
  });

  it('leaves alone a round a worker of an earlier version took, though that worker counts no take', async () => {
    await startedAgo('r', '2 hours');
    const mine = await claimRound(tdb.db, 'r', HOUR);
    // This worker's lease ran out; a worker from before migration 0023 (a rolling upgrade, a
    // rollback) took the round as it did then: a new start and lease, the count of takes unchanged.
    await tdb.db.query(`UPDATE timed_rounds SET last_started_at = now() - interval '2 hours', running_until = now() - interval '1 second'`);
    await tdb.db.query(`UPDATE timed_rounds SET last_started_at = now(), running_until = now() + interval '5 minutes'`);
    await giveBack(tdb.db, 'r', mine.token!, mine.priorStart!);
    expect(await row()).toMatchObject({ running: true });
    expect((await row()).ago_s).toBeLessThan(600);
    expect((await claimRound(tdb.db, 'r', HOUR)).taken).toBe(false);
  });

  it('ends the lease of a round run to its end; the next is due a period after its start', async () => {
    await startedAgo('r', '2 hours');
    const t = new TimedRound(tdb.db, 'r', HOUR, async () => true, fail);
    t.start();
    await expect.poll(async () => (await row()).ago_s, { timeout: 30_000 }).toBeLessThan(600);
    await t.stop();
    expect((await row()).running).toBe(false);
  });

  it('gives back a round that did not run to its end, or threw, and takes it again', async () => {
    await startedAgo('r', '2 hours');
    const errors: string[] = [];
    let calls = 0;
    const t = new TimedRound(
      tdb.db,
      'r',
      HOUR,
      async () => {
        calls++;
        if (calls === 1) return false;
        if (calls === 2) throw new Error('prune failed');
        return true;
      },
      (err) => errors.push((err as Error).message),
      10,
    );
    t.start();
    await expect.poll(() => calls, { timeout: 60_000 }).toBe(3);
    await t.stop();
    expect(errors).toEqual(['prune failed']);
    expect(await row()).toMatchObject({ running: false });
    expect((await row()).ago_s).toBeLessThan(600);
  });

  it('gives the round back when the worker stops before running it, and runs it when started again', async () => {
    await startedAgo('r', '2 hours');
    const runs: number[] = [];
    const t = new TimedRound(tdb.db, 'r', HOUR, async () => runs.push(1) > 0, fail);
    t.start();
    await t.stop();
    expect(runs).toEqual([]);
    expect(await row()).toMatchObject({ running: false });
    expect((await row()).ago_s).toBeGreaterThan(3600);
    t.start();
    await expect.poll(() => runs, { timeout: 30_000 }).toEqual([1]);
    await t.stop();
  });

  it('has a restarted worker prune at start when the last prune is over an hour old, and only then', async () => {
    const org = await newOrg(tdb.db);
    const [old] = await addEvents(tdb.db, org, 1);
    await tdb.db.query(`UPDATE audit_events SET recorded_at = now() - interval '40 days' WHERE id = $1`, [old]);
    const exists = async () => (await tdb.db.query(`SELECT 1 FROM audit_events WHERE id = $1`, [old])).rows.length === 1;

    // A fresh installation: the first worker records the round as started and prunes nothing yet.
    let svc = await startTestService(tdb.db, {}, 'worker');
    try {
      await expect.poll(async () => (await tdb.db.query(`SELECT 1 FROM timed_rounds WHERE name = 'retention_prune'`)).rows.length, { timeout: 60_000 }).toBe(1);
      expect(await exists()).toBe(true);
    } finally {
      await svc.stop();
    }

    // Restarted after the hour (its last start moved back): the new process prunes at once.
    await tdb.db.query(`UPDATE timed_rounds SET last_started_at = now() - interval '61 minutes' WHERE name = 'retention_prune'`);
    svc = await startTestService(tdb.db, {}, 'worker');
    try {
      await expect.poll(exists, { timeout: 60_000 }).toBe(false);
    } finally {
      await svc.stop();
    }
  });
});
