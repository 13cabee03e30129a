// A housekeeping round that every worker may run, run once per period in all (migration 0018): the
// period counts from the round's last start as the database records it, so it survives restarts, and
// a worker takes a due round with one conditional update, so two workers never run it at once or
// twice in a period. A name seen for the first time counts as started now: a fresh installation, or
// one upgraded to this table, runs its first round one period after its first worker starts, as the
// per-process timers did.
import type { Queryable } from '../db/types.js';

/** $1 name, $2 period (ms): whether this caller took the round, and else how long until it is due. */
const CLAIM_ROUND_SQL = `
  WITH seeded AS (
    INSERT INTO timed_rounds (name, last_started_at) VALUES ($1, now()) ON CONFLICT (name) DO NOTHING RETURNING 1
  ), taken AS (
    UPDATE timed_rounds SET last_started_at = now()
     WHERE name = $1 AND last_started_at <= now() - make_interval(secs => $2::float8 / 1000) AND NOT EXISTS (SELECT 1 FROM seeded)
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM taken) AS taken,
         CASE WHEN EXISTS (SELECT 1 FROM seeded) THEN $2::float8
              ELSE greatest(0, extract(epoch FROM (SELECT last_started_at FROM timed_rounds WHERE name = $1)
                                                   + make_interval(secs => $2::float8 / 1000) - now()) * 1000)::float8 END AS due_in_ms`;

/** Takes the round `name` if it is due; else says how long until it is (ms, by the database's clock). */
export async function claimRound(db: Queryable, name: string, periodMs: number): Promise<{ taken: boolean; dueInMs: number }> {
  const { rows } = await db.query<{ taken: boolean; due_in_ms: number }>(CLAIM_ROUND_SQL, [name, periodMs]);
  const r = rows[0]!;
  return { taken: r.taken, dueInMs: r.taken ? periodMs : r.due_in_ms };
}

/**
 * Runs `round` whenever it is due and this process takes it (claimRound), checking at start and then
 * when the database says it falls due. A check that fails (the database away) is tried again after
 * `retryMs`. stop() cancels the timer and waits for a round in progress.
 */
export class TimedRound {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly db: Queryable,
    private readonly name: string,
    private readonly periodMs: number,
    private readonly round: () => Promise<void>,
    private readonly retryMs = 60_000,
  ) {}

  start(): void {
    this.check();
  }

  private check(): void {
    if (this.stopped || this.current) return;
    this.current = (async () => {
      let waitMs = this.retryMs;
      try {
        const r = await claimRound(this.db, this.name, this.periodMs);
        if (r.taken) await this.round();
        waitMs = r.dueInMs;
      } catch {
        // The database is away, or the round failed (its own error handling has reported it): the
        // next check comes after retryMs.
      } finally {
        this.current = null;
      }
      this.arm(waitMs);
    })();
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    // At least a second: a clock step or a round that outlasted its period must not spin.
    this.timer = setTimeout(() => this.check(), Math.max(1000, Math.min(ms, this.periodMs)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }
}
