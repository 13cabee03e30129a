// A housekeeping round that every worker may run, run once per period in all (migration 0018): the
// period counts from the round's last start as the database records it, so it survives restarts, and
// a worker takes a due round with one conditional update, so two workers never run it at once or
// twice in a period. A name seen for the first time counts as started now: a fresh installation, or
// one upgraded to this table, runs its first round one period after its first worker starts, as the
// per-process timers did. Every time is the database's, so the workers' clocks do not matter.
import type { Queryable } from '../db/types.js';

/**
 * How long a taken round is held without word from its runner, who renews it every third of that:
 * a worker that died in a round holds it no longer.
 */
export const ROUND_LEASE_MS = 300_000;

/** The housekeeping rounds' period: the retention prune and the replays' prune run hourly. */
export const HOURLY_MS = 3_600_000;

/**
 * A take's token: the round's count of takes (migration 0023) and its start in whole microseconds.
 * The count, because two takes can share a start (PGlite's clock moves in whole milliseconds); the
 * start too, because a worker of a version before the count (a rolling upgrade, a rollback) takes a
 * round without counting it.
 */
const TOKEN = `claims::text || ':' || (extract(epoch FROM last_started_at) * 1000000)::bigint::text`;

/**
 * $1 name, $2 period (ms), $3 lease (ms). Due: a period after its last start, or a start more than a
 * period in the future (the database's clock was set back, or the data restored from a host whose
 * clock ran ahead: waiting for it would stop the round for as long). Not while another worker runs it
 * (running_until: a lease its runner renews while the round runs, so that a round longer than its
 * period is not started beside itself; a lease more than one lease ahead is a clock set back too).
 * Answers whether this caller took it, its token (TOKEN), the start it replaced (to give
 * the round back, giveBack) and else how long until it is due.
 */
const CLAIM_ROUND_SQL = `
  WITH seeded AS (
    INSERT INTO timed_rounds (name, last_started_at) VALUES ($1, now()) ON CONFLICT (name) DO NOTHING RETURNING 1
  ), prior AS (
    SELECT last_started_at FROM timed_rounds WHERE name = $1
  ), taken AS (
    UPDATE timed_rounds SET last_started_at = now(), running_until = now() + make_interval(secs => $3::float8 / 1000), claims = claims + 1
     WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM seeded)
       AND (running_until IS NULL OR running_until <= now() OR running_until > now() + make_interval(secs => $3::float8 / 1000))
       AND (last_started_at <= now() - make_interval(secs => $2::float8 / 1000) OR last_started_at > now() + make_interval(secs => $2::float8 / 1000))
    RETURNING ${TOKEN} AS token
  )
  SELECT EXISTS (SELECT 1 FROM taken) AS taken,
         (SELECT token FROM taken) AS token,
         (SELECT last_started_at FROM prior) AS prior_start,
         -- Due a period after the last start, and not before another worker's lease ends (a lease
         -- more than one lease ahead is a clock set back, and counts for nothing).
         CASE WHEN EXISTS (SELECT 1 FROM seeded) THEN $2::float8
              ELSE greatest(0, extract(epoch FROM greatest((SELECT last_started_at FROM prior) + make_interval(secs => $2::float8 / 1000),
                                                            (SELECT running_until FROM timed_rounds WHERE name = $1
                                                              AND running_until <= now() + make_interval(secs => $3::float8 / 1000))) - now()) * 1000)::float8 END AS due_in_ms`;

export interface RoundClaim {
  taken: boolean;
  /** This claim's token (TOKEN), when taken: finishRound, renewLease and giveBack act only while it stands. */
  token: string | null;
  /** The start the claim replaced (null for a round seen for the first time): what giveBack restores. */
  priorStart: Date | null;
  /** When not taken, how long until the round is due (ms, by the database's clock); else the period. */
  dueInMs: number;
}

/** Takes the round `name` if it is due and nobody runs it (CLAIM_ROUND_SQL). */
export async function claimRound(db: Queryable, name: string, periodMs: number, leaseMs = ROUND_LEASE_MS): Promise<RoundClaim> {
  const { rows } = await db.query<{ taken: boolean; token: string | null; prior_start: Date | null; due_in_ms: number }>(CLAIM_ROUND_SQL, [
    name,
    periodMs,
    leaseMs,
  ]);
  const r = rows[0]!;
  return { taken: r.taken, token: r.token, priorStart: r.prior_start, dueInMs: r.taken ? periodMs : r.due_in_ms };
}

/**
 * A round run to its end: the next one is a period after its start; the lease ends now. Only while
 * the round is still this claim's (`token`): one that outlasted its lease and was taken by another
 * worker keeps that worker's lease.
 */
export async function finishRound(db: Queryable, name: string, token: string): Promise<void> {
  await db.query(`UPDATE timed_rounds SET running_until = NULL WHERE name = $1 AND ${TOKEN} = $2`, [name, token]);
}

/** The round is still running: its lease goes on (only while it is still this claim's, as finishRound). */
export async function renewLease(db: Queryable, name: string, token: string, leaseMs = ROUND_LEASE_MS): Promise<void> {
  await db.query(`UPDATE timed_rounds SET running_until = now() + make_interval(secs => $3::float8 / 1000) WHERE name = $1 AND ${TOKEN} = $2`, [
    name,
    token,
    leaseMs,
  ]);
}

/**
 * A round taken but not run to its end (the worker stopping, the round failing): its previous start
 * comes back, so that the next check of any worker takes it again rather than a period later. Only
 * while the round is still this claim's (`token`), as finishRound.
 */
export async function giveBack(db: Queryable, name: string, token: string, priorStart: Date): Promise<void> {
  await db.query(`UPDATE timed_rounds SET last_started_at = $3, running_until = NULL WHERE name = $1 AND ${TOKEN} = $2`, [name, token, priorStart]);
}

/**
 * Runs `round` whenever it is due and this process takes it (claimRound), checking at start and then
 * when the database says it falls due. `round` answers whether it ran to its end; a round that did
 * not, or threw, is given back (giveBack) and tried again after `retryMs`, as is a check that failed
 * (the database away). `onError` hears every error, to log it. stop() cancels the timer and waits for a
 * round in progress; start() may follow it again.
 */
export class TimedRound {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly db: Queryable,
    private readonly name: string,
    private readonly periodMs: number,
    private readonly round: () => Promise<boolean>,
    private readonly onError: (err: unknown) => void,
    private readonly retryMs = 60_000,
    private readonly leaseMs = ROUND_LEASE_MS,
  ) {}

  start(): void {
    this.stopped = false;
    if (this.timer) clearTimeout(this.timer);
    this.check();
  }

  private check(): void {
    if (this.stopped || this.current) return;
    this.current = (async () => {
      let waitMs = this.retryMs;
      try {
        const claim = await claimRound(this.db, this.name, this.periodMs, this.leaseMs);
        const takenAt = performance.now();
        if (!claim.taken) waitMs = claim.dueInMs;
        // The next is due a period after this one's start, not after its end.
        else if (await this.runTaken(claim.token!, claim.priorStart)) waitMs = this.periodMs - (performance.now() - takenAt);
      } catch (err) {
        this.onError(err);
      } finally {
        this.current = null;
      }
      this.arm(waitMs);
    })();
  }

  /** Runs a taken round; gives it back unless it ran to its end. Whether it did. */
  private async runTaken(token: string, priorStart: Date | null): Promise<boolean> {
    const renewal = setInterval(() => void renewLease(this.db, this.name, token, this.leaseMs).catch(this.onError), this.leaseMs / 3);
    renewal.unref();
    let done = false;
    let failed: { err: unknown } | null = null;
    try {
      done = !this.stopped && (await this.round());
    } catch (err) {
      failed = { err };
    } finally {
      clearInterval(renewal);
    }
    // Said apart from the round's own error, which a database gone away here must not hide.
    try {
      if (done) await finishRound(this.db, this.name, token);
      else if (priorStart) await giveBack(this.db, this.name, token, priorStart);
    } catch (err) {
      this.onError(err);
    }
    if (failed) throw failed.err;
    return done;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    // At least a second: a round that outlasted its period, or a clock step, must not spin.
    this.timer = setTimeout(() => this.check(), Math.max(1000, Math.min(ms, this.periodMs)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }
}
