import { randomUUID } from 'node:crypto';
import type { Db } from '../db/types.js';
import type { Logger } from '../logger.js';
import { FilterCache } from '../filters/compile.js';
import { sliced } from '../filters/loopSlice.js';
import { queueReplayBatch, type WindowPosition } from '../queue/replayRange.js';
import { HOURLY_MS, TimedRound } from '../queue/timedRounds.js';
import { isDatabaseRefusing, isDatabaseUnavailable, whileDatabaseAway } from '../db/unavailable.js';
import { getEncoder } from '../siem/registry.js';
import { sendableAgeMs } from '../siem/types.js';
import { isSiemId } from '../siem/catalog.js';
import * as repo from './repository.js';

/**
 * 'released': a batch lost its database connection (a cut connection, a restart, a failover) and the
 * claim was given up, so the replay is free to be claimed again after its release pause (releasePause).
 */
export type ReplayOutcome = 'done' | 'cancelled' | 'gone' | 'stopped' | 'yielded' | 'released' | 'failed';

/**
 * Batches a background replay walks before it gives its slot up for a turn (ReplayRunner): a process
 * walks a few replays at once, and one organization's replays of millions of events would otherwise
 * hold every slot until they end, while another organization's waits. At the default batch of 5,000
 * events, a turn is 100,000 events; giving up and claiming again costs two statements.
 */
export const REPLAY_TURN_BATCHES = 20;

/**
 * Walks a claimed replay from its cursor to the end of its window, one batch per transaction. Each
 * batch locks the replay's row, checks that this claim still holds it and that it was not cancelled,
 * queues its jobs and records its progress and cursor, all in one transaction: a process that dies
 * between batches loses nothing, and the next claimer goes on from exactly where the last commit
 * left off. Between batches it yields to `stopping()` (a process shutting down gives the claim up).
 * A batch that loses its database connection gives the claim up too ('released'): its transaction
 * rolled back, so whoever claims next (after a pause of a second or more: releasePause) goes on from the last commit,
 * rather than the replay sitting claimed, "running", until the lease (AEGIS_LEASE_S) runs out.
 *
 * The window's start was trimmed to what the SIEM accepts when the replay was accepted (planRangeReplay);
 * a walk that runs hours later (behind other replays, after a worker outage or an expired lease, or
 * through a huge window) would find the events up to the SIEM's age limit too old by then, and the
 * worker would dead-letter each one at once. So each batch clamps its start again, on the database's
 * clock at that batch and on the destination's SIEM as that batch reads it (lockForBatch), and counts
 * what it left out in skipped_too_old.
 */
export async function runClaimedReplay(
  db: Db,
  c: repo.ClaimedReplay,
  opts: {
    batch: number;
    leaseMs: number;
    stopping?: () => boolean;
    onBatch?: (b: { scanned: number; queued: number }) => void;
    /** Gives the claim up after this many batches ('yielded'): the replay is at once free to be claimed again. */
    turnBatches?: number;
    /**
     * How long nobody may claim the replay after a batch lost its connection ('released'), told
     * whether this walk committed a batch before it (0 by default).
     */
    releasePauseMs?: (progressed: boolean) => number;
  },
): Promise<ReplayOutcome> {
  let committed = 0;
  try {
    // The filter is read by each batch with the SIEM (lockForBatch), so an edit applies from the next
    // batch on; compiled again only when the row's version moved (every PATCH moves it).
    const filters = new FilterCache(1);
    let after: WindowPosition | null = c.cursor;
    for (let batches = 0; ; batches++) {
      if (opts.stopping?.()) {
        await repo.releaseReplay(db, c);
        return 'stopped';
      }
      if (opts.turnBatches !== undefined && batches >= opts.turnBatches) {
        await repo.releaseReplay(db, c);
        return 'yielded';
      }
      let done = false;
      const b = await queueReplayBatch(
        db,
        { orgId: c.orgId, destinationId: c.destinationId, from: c.start, to: c.to, after, batch: opts.batch },
        {
          // The destination as of this batch (a PATCH between batches applies at once): its filter, and
          // its SIEM's sendable age (its limit less the worker's margin; null: events of any age).
          before: async (tx) => {
            const held = await repo.lockForBatch(tx, c);
            return (
              held && {
                maxAgeMs: isSiemId(held.siem) ? sendableAgeMs(getEncoder(held.siem)) : null,
                select: held.filter ? sliced(filters.get(c.destinationId, held.version, held.filter)) : null,
              }
            );
          },
          after: async (tx, r) => {
            done = r.scanned < opts.batch || r.last === null;
            await repo.recordBatch(tx, c, r, done, opts.leaseMs);
          },
        },
      );
      if (b.aborted) {
        const status = await repo.replayStatus(db, c.orgId, c.id);
        return status === null ? 'gone' : status === 'cancelled' ? 'cancelled' : 'stopped';
      }
      committed++;
      opts.onBatch?.(b);
      if (done) return 'done';
      after = b.last;
    }
  } catch (err) {
    // The connection lost (pg_terminate_backend, a restart, a failover): the batch rolled back. The
    // claim is given up as soon as the database answers again, tried for as long as the lease lasts
    // (past it, anyone may claim the replay anyway); a process stopping tries once. Given up, the
    // replay resumes from its cursor at the next scan, here or elsewhere; not given up, when the
    // lease runs out, as for a dead process.
    if (isDatabaseUnavailable(err)) {
      // Refused with the connection fine (disk full, too many connections, a read-only server): the
      // next claim would meet the same refusal at once, and the release is a write too, so the claim
      // stays and the lease is the pause before a retry.
      if (isDatabaseRefusing(err)) return 'stopped';
      const released = await whileDatabaseAway(
        opts.leaseMs,
        () => opts.stopping?.() ?? false,
        () => repo.releaseReplay(db, c, opts.releasePauseMs?.(committed > 0) ?? 0),
      ).then(
        () => true,
        () => false,
      );
      return released ? 'released' : 'stopped';
    }
    await repo
      .failReplay(db, c, `The replay stopped on an internal error (${(err as Error).name}); queued events stay queued. Ask for the rest of the window again.`)
      .catch(() => undefined);
    throw err;
  }
}

/**
 * The pause before a replay whose batch lost its connection may be claimed again, after its `losses`-th
 * loss in a row (walks that committed no batch): 1 s, doubling to a minute at most (and never past the lease, the pause a dead process
 * would have left). One restart or failover costs a second; a batch that loses its connection every
 * time (a proxy that cuts long transactions, a statement that kills its backend) is not walked again
 * and again back to back, each try re-reading a batch of events.
 */
export function releasePause(losses: number, leaseMs: number): number {
  return Math.min(1000 * 2 ** Math.min(losses - 1, 6), 60_000, leaseMs);
}

export interface ReplayRunnerOptions {
  /** Events per batch (AEGIS_REPLAY_BATCH). */
  batch: number;
  /** How long a claim lasts without progress (AEGIS_LEASE_S): a dead process's replay resumes after it. */
  leaseMs: number;
  /** Safety-net scan interval (NOTIFY on accept is the fast path). */
  scanIntervalMs: number;
  /** Finished replays are kept this long (AEGIS_RETENTION_DAYS). */
  retentionDays: number;
  /** Replays one process walks at once (each is one transaction at a time). */
  maxConcurrent?: number;
}

/**
 * Runs background range replays in a worker process. Any number of processes may run one: each
 * claims a replay with a lease (repository.claimReplay), so exactly one walks it at a time, and a
 * replay whose process died is resumed from its cursor by whoever scans after the lease ran out.
 */
export class ReplayRunner {
  /** The replays this process walks, and the organization of each. */
  private readonly running = new Map<Promise<void>, string>();
  /** Replays this process gave up for a turn: claiming one again is said at debug, not as a takeover. */
  private readonly ownTurns = new Set<string>();
  /** Replays whose last walks here each lost their database connection, and how many in a row. */
  private readonly losses = new Map<string, number>();
  private readonly maxConcurrent: number;
  private stopping = false;
  private scanning: Promise<void> | null = null;
  private rescan = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly pruneRounds: TimedRound;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly deps: { db: Db; logger: Logger },
    private readonly opts: ReplayRunnerOptions,
  ) {
    this.maxConcurrent = opts.maxConcurrent ?? 2;
    // Finished replays past retention go once an hour, whichever worker takes the round (queue/timedRounds.ts).
    this.pruneRounds = new TimedRound(
      deps.db,
      'replays_prune',
      HOURLY_MS,
      async () => {
        await repo.pruneReplays(this.deps.db, this.opts.retentionDays);
        return true;
      },
      (err) => {
        if (!isDatabaseUnavailable(err)) deps.logger.warn({ err: (err as Error).message }, 'pruning finished replays failed; will retry');
      },
    );
  }

  async start(): Promise<void> {
    this.unlisten = await this.deps.db.listen(
      repo.REPLAYS_CHANNEL,
      () => this.wake(),
      () => this.wake(),
    );
    this.timer = setInterval(() => this.wake(), this.opts.scanIntervalMs);
    this.timer.unref();
    this.pruneRounds.start();
    this.wake();
  }

  /** Looks for replays to run soon; a burst of wake-ups makes one scan. */
  wake(): void {
    if (this.stopping) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scan().finally(() => {
      this.scanning = null;
    });
  }

  private async scan(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    try {
      do {
        this.rescan = false;
        while (!this.stopping && this.running.size < this.maxConcurrent) {
          const c = await repo.claimReplay(this.deps.db, randomUUID(), this.opts.leaseMs, undefined, [...new Set(this.running.values())]);
          if (!c) break;
          this.launch(c);
        }
      } while (this.rescan && !this.stopping);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) this.deps.logger.warn({ err: (err as Error).message }, 'replay scan failed; will retry');
    }
  }

  private launch(c: repo.ClaimedReplay): void {
    const log = this.deps.logger;
    // A takeover (a dead process's replay, resumed from its cursor) is worth an info line; this
    // process's own next turn, one every REPLAY_TURN_BATCHES batches, only a debug one.
    if (this.ownTurns.delete(c.id)) log.debug({ replay_id: c.id, destination_id: c.destinationId }, 'range replay claimed for its next turn');
    else log.info({ replay_id: c.id, destination_id: c.destinationId, resumed: c.cursor !== null }, 'range replay claimed');
    // Losses in a row without a batch committed: a walk that made progress before losing its
    // connection (a restart in the middle of a long walk) starts the count again.
    let losses = 0;
    let releasePauseMs = 0;
    const p = runClaimedReplay(this.deps.db, c, {
      batch: this.opts.batch,
      leaseMs: this.opts.leaseMs,
      stopping: () => this.stopping,
      turnBatches: REPLAY_TURN_BATCHES,
      releasePauseMs: (progressed) => {
        losses = progressed ? 1 : (this.losses.get(c.id) ?? 0) + 1;
        releasePauseMs = releasePause(losses, this.opts.leaseMs);
        return releasePauseMs;
      },
    })
      .then((outcome) => {
        if (outcome !== 'released') this.losses.delete(c.id);
        else {
          // Bounded like ownTurns: a replay finished elsewhere leaves its count here until this is cleared.
          if (this.losses.size >= 1000 && !this.losses.has(c.id)) this.losses.clear();
          this.losses.set(c.id, losses);
          // Looked for again when the pause ends, not at the next interval's scan (10 s by default).
          setTimeout(() => this.wake(), releasePauseMs + 50).unref();
        }
        if (outcome === 'yielded') {
          // Bounded: a replay another process finished leaves its id here until this one is cleared.
          if (this.ownTurns.size >= 1000) this.ownTurns.clear();
          this.ownTurns.add(c.id);
          log.debug({ replay_id: c.id, destination_id: c.destinationId }, 'range replay gave its turn up');
        } else if (outcome === 'released')
          log.warn(
            { replay_id: c.id, destination_id: c.destinationId, outcome, paused_ms: releasePauseMs },
            'range replay lost its database connection mid-batch; gave its claim up (the batch rolled back): it resumes from its last committed batch after paused_ms',
          );
        else log.info({ replay_id: c.id, destination_id: c.destinationId, outcome }, 'range replay stopped running here');
      })
      .catch((err: unknown) => log.error({ replay_id: c.id, destination_id: c.destinationId, err: (err as Error).message }, 'range replay failed'))
      .finally(() => {
        this.running.delete(p);
        this.wake(); // a slot is free: another replay may be waiting
      });
    this.running.set(p, c.orgId);
  }

  /** Stops claiming, lets each replay finish its batch in progress and gives its claim up. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.pruneRounds.stop();
    await this.scanning;
    await Promise.allSettled([...this.running.keys()]);
    await this.unlisten?.().catch(() => undefined);
  }
}
