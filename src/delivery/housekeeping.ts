// The worker's timed rounds besides delivery: the hourly retention prune (queue/prune.ts, the
// deleted destinations whose farewell is settled, and expired dashboard sign-ins), run once an hour across every worker and restart
// (queue/timedRounds.ts), the hold limit (queue/holdLimit.ts), and on the embedded database the
// VACUUM and ANALYZE its missing autovacuum would run (db/maintenance.ts). Each runs one round at a
// time, and stop() waits for the rounds in progress.
import { deleteExpiredSignIns } from '../auth/sessions.js';
import { EmbeddedMaintenance } from '../db/maintenance.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { purgeDeletedDestinations } from '../destinations/deletion.js';
import { enforceHoldLimit } from '../queue/holdLimit.js';
import { prune } from '../queue/prune.js';
import { HOURLY_MS, TimedRound } from '../queue/timedRounds.js';
import type { WorkerConfig, WorkerDeps } from './workerConfig.js';

export class Housekeeping {
  private readonly pruneRounds: TimedRound;
  /** PGlite only (it does nothing on PostgreSQL, whose autovacuum does this). */
  private readonly maintenance: EmbeddedMaintenance;
  private holdTimer: NodeJS.Timeout | null = null;
  private holdRound: Promise<void> | null = null;
  private stopping = false;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly cfg: WorkerConfig,
  ) {
    this.pruneRounds = new TimedRound(
      deps.db,
      'retention_prune',
      HOURLY_MS,
      () => this.prune(),
      (err) => {
        if (!isDatabaseUnavailable(err)) deps.logger.warn({ err: (err as Error).message }, 'retention prune failed; will retry');
      },
    );
    this.maintenance = new EmbeddedMaintenance(deps.db, deps.logger);
  }

  start(): void {
    this.pruneRounds.start();
    this.maintenance.start();
    this.holdTimer = setInterval(() => void this.holdLimit(), Math.min(60_000, this.cfg.intervalMs));
    this.holdTimer.unref();
  }

  /**
   * One hold-limit round (queue/holdLimit.ts): pauses destinations that failed for the whole limit and
   * dead-letters the queues of paused ones; the alerter judges each destination it paused. One round
   * at a time.
   */
  private holdLimit(): Promise<void> {
    if (this.holdRound || this.stopping) return this.holdRound ?? Promise.resolve();
    this.holdRound = (async () => {
      try {
        const r = await enforceHoldLimit(this.deps.db, this.cfg.maxHoldHours);
        for (const d of r.paused) {
          this.deps.logger.warn(
            { destination_id: d.id, max_hold_hours: this.cfg.maxHoldHours },
            'destination failed for the whole hold limit; paused and its queued events dead-lettered',
          );
          this.deps.alerts?.noteSettle(d.orgId, d.id, true);
        }
        for (const d of r.deadLettered) {
          this.deps.metrics.deadLettered.inc(this.deps.metrics.destinationLabels(d.id, d.siem), d.count);
          this.deps.logger.info({ destination_id: d.id, dead_lettered: d.count }, 'events of a destination paused by the hold limit dead-lettered');
        }
      } catch (err) {
        if (!isDatabaseUnavailable(err)) this.deps.logger.warn({ err: (err as Error).message }, 'hold limit round failed; will retry');
      } finally {
        this.holdRound = null;
      }
    })();
    return this.holdRound;
  }

  /**
   * One retention round (TimedRound runs one at a time, in one worker at a time): whether it ran to its
   * end. A stopping worker leaves it at its next pass (shouldStop), and the round is given back.
   */
  private async prune(): Promise<boolean> {
    const r = await prune(this.deps.db, this.cfg.retentionDays, { shouldStop: () => this.stopping });
    if (r.jobs + r.attempts + r.events > 0) this.deps.logger.info(r, 'retention: pruned the delivery log, events and done jobs');
    if (this.stopping) return false;
    const deleted = await purgeDeletedDestinations(this.deps.db);
    if (deleted > 0) this.deps.logger.info({ destinations: deleted }, 'removed deleted destinations whose farewell was settled or given up on');
    if (this.stopping) return false;
    const signIns = await deleteExpiredSignIns(this.deps.db);
    if (signIns.sessions + signIns.loginLinks > 0) this.deps.logger.info(signIns, 'retention: deleted expired dashboard sessions and sign-in links');
    return true;
  }

  /** Starts no more rounds and waits for those in progress. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.holdTimer) clearInterval(this.holdTimer);
    // Told first, so that it starts no other table meanwhile: it waits for one VACUUM or ANALYZE at most.
    const maintenanceStopped = this.maintenance.stop();
    // The prune first, so that no check takes the round while the hold round ends. A long prune stops
    // at its next pass (shouldStop); its statement in flight ends before the pool does.
    await this.pruneRounds.stop();
    await this.holdRound;
    await maintenanceStopped;
  }
}
