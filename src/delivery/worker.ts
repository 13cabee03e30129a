import { isDatabaseRefusing, isDatabaseUnavailable } from '../db/unavailable.js';
import { destinationIdsWithRows } from '../destinations/reads.js';
import { scanQueue } from '../queue/dueDestinations.js';
import { JOBS_CHANNEL, SETTINGS_CHANGED } from '../queue/types.js';
import { AckTrackers } from './ackTrackers.js';
import { runDestination, type RunnerContext } from './destinationRunner.js';
import { StandBack } from './standBack.js';
import { reportFailedRun } from './destinationLines.js';
import { EventBudget } from './eventBudget.js';
import { Housekeeping } from './housekeeping.js';
import { LimiterRegistry } from './limits.js';
import { DestinationRowCache } from './rowCache.js';
import { workerConfig, type WorkerConfig, type WorkerDeps, type WorkerOptions } from './workerConfig.js';
import { monotonicNow } from '../monotonicClock.js';

/**
 * The delivery worker. State machine per process:
 *   idle --(NOTIFY | interval | next-due timer)--> scanning --> one runner per due destination
 *   runner (destinationRunner.ts): lanes of [claim batch -> send requests -> settle] until nothing
 *   is due, then exit.
 * Nothing that must survive a crash lives here: attempts, schedules, leases and the circuit breaker
 * are rows. A killed worker's claims expire and are claimed again by anyone.
 */
/** How long after a run the database refused the worker looks again (other wake-ups come sooner). */
const UNAVAILABLE_RUN_PAUSE_MS = 1000;
/** How long a destination whose run failed otherwise waits before its next run. */
const FAILED_RUN_PAUSE_MS = 1000;
/** How often the worker drops what it keeps per destination (metrics series, limiters) for destinations gone. */
const FORGET_GONE_EVERY_MS = 60_000;

export class Worker {
  private readonly cfg: WorkerConfig;
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;
  private scanning = false;
  private rescan = false;
  private timer: NodeJS.Timeout | null = null;
  private forgetTimer: NodeJS.Timeout | null = null;
  /** The sweep of gone destinations in progress, if any (one at a time; stop() waits for it). */
  private forgetting: Promise<void> | null = null;
  /** Destinations found gone by the last sweep: dropped when the next finds them gone still. */
  private goneOnce = new Set<string>();
  private unlisten: (() => Promise<void>) | null = null;
  /** True while scans fail because the database is unreachable: delivery is paused, said once. */
  private databaseAway = false;
  /** A run was refused for want of resources and said so; cleared when a run gets through. */
  private refusedForResources = false;
  private readonly budget: EventBudget;
  /** Per-destination rate and concurrency limits (in this process's memory; see delivery/limits.ts). */
  private readonly limiters = new LimiterRegistry();
  /** Splunk destinations with requests waiting for indexer acknowledgement. */
  private readonly acks: AckTrackers;
  private readonly housekeeping: Housekeeping;
  /** What the destination runners share with this worker. */
  private readonly context: RunnerContext;
  /**
   * Changes of a destination's settings heard (SETTINGS_CHANGED) while it has a runner: forgotten when
   * the runner ends, so the map never outgrows the runners.
   */
  private readonly settingsChanges = new Map<string, number>();

  constructor(
    private readonly deps: WorkerDeps,
    opts: WorkerOptions,
  ) {
    this.cfg = workerConfig(opts);
    this.budget = new EventBudget(this.cfg.maxEventsInFlight);
    this.acks = new AckTrackers(deps, this.cfg, () => this.wake());
    this.housekeeping = new Housekeeping(deps, this.cfg);
    const acks = this.acks;
    this.context = {
      deps,
      cfg: this.cfg,
      limiters: this.limiters,
      budget: this.budget,
      acks,
      rows: new DestinationRowCache(),
      standBack: new StandBack(),
      stopping: () => this.stopping,
      ackTracker: (target) => acks.get(target),
      settingsChanges: (id) => this.settingsChanges.get(id) ?? 0,
    };
    deps.metrics.setLimitsSource(() => this.limiters.snapshot());
  }

  async start(): Promise<void> {
    this.unlisten = await this.deps.db.listen(
      JOBS_CHANNEL,
      (payload) => {
        if (payload.startsWith(SETTINGS_CHANGED)) this.heardSettingsChange(payload.slice(SETTINGS_CHANGED.length));
        this.wake();
      },
      () => {
        // Back after a reconnect: anything notified while we were away is lost. Catch up on jobs with
        // a scan, and take every claim being sent as changed: a settings change missed meanwhile must
        // not let a claim go on with an old URL or credential. It costs each running claim its rest,
        // given back without an attempt, once per reconnect.
        for (const id of this.running.keys()) this.heardSettingsChange(id);
        this.wake();
      },
    );
    this.housekeeping.start();
    this.forgetTimer = setInterval(() => {
      this.forgetting ??= this.forgetGoneDestinations().finally(() => (this.forgetting = null));
    }, FORGET_GONE_EVERY_MS);
    this.forgetTimer.unref();
    this.wake();
  }

  /**
   * Drops the metrics series and limiters of destinations whose row is gone (purged after their
   * deletion's farewell, or with their organization): each worker process keeps its own, and a
   * tenant creating and deleting destinations in a loop must not grow them without bound. A
   * destination is dropped when two sweeps in a row find it gone, so a scrape comes between its row
   * going and its last counts (the farewell's) going. One that only stopped sending keeps its series:
   * counters are read as rates, over time.
   */
  async forgetGoneDestinations(): Promise<void> {
    try {
      const held = [...new Set([...(await this.deps.metrics.labelledDestinations()), ...this.limiters.ids()])];
      const present = held.length > 0 ? await destinationIdsWithRows(this.deps.db, held) : new Set<string>();
      const gone = new Set(held.filter((id) => !present.has(id)));
      const twice = new Set([...gone].filter((id) => this.goneOnce.has(id)));
      this.goneOnce = new Set([...gone].filter((id) => !twice.has(id)));
      await this.deps.metrics.forgetDestinations(twice);
      for (const id of twice) this.limiters.forget(id);
    } catch (err) {
      // Next round: a database away now is said elsewhere (the scan's outage line).
      if (!isDatabaseUnavailable(err) && !this.stopping)
        this.deps.logger.warn({ err: (err as Error).message }, 'could not check for deleted destinations; will retry');
    }
  }

  /** A destination's settings changed (committed): its claims being sent stop at their next request. */
  private heardSettingsChange(destinationId: string): void {
    // Without a runner there is no claim to stop: the next runner reads the row as it is now.
    if (!this.running.has(destinationId)) return;
    this.settingsChanges.set(destinationId, (this.settingsChanges.get(destinationId) ?? 0) + 1);
    this.deps.logger.debug({ destination_id: destinationId }, "destination's settings changed: its claim in progress sends nothing more");
  }

  /** Asks for a scan soon; coalesces bursts of wake-ups into one scan. */
  wake(): void {
    if (this.stopping) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = true;
    setImmediate(() => void this.scan());
  }

  private async scan(): Promise<void> {
    try {
      let nextAt: Date | null = null;
      // The Retry-After waits the last scan left out: one that ended while the scan ran has no
      // runner, limiter or tracker to wake the worker, so the timer must still count it.
      let leftOut = new Map<string, number>();
      do {
        this.rescan = false;
        const blocked = this.limiters.blocked();
        // Destinations this worker leaves alone for a while (a credential only other processes can
        // open, a run that just failed): left out and timed like a Retry-After's wait.
        for (const [id, until] of this.context.standBack.held()) blocked.set(id, Math.max(until, blocked.get(id) ?? 0));
        leftOut = blocked;
        const ackFull = this.acks.full();
        // Destinations already running, waiting out a Retry-After or waiting for acks are left out:
        // their runner, limiter or ack tracker wakes the worker when that ends.
        const scanned = await scanQueue(this.deps.db, { exclude: [...this.running.keys(), ...blocked.keys(), ...ackFull] });
        nextAt = scanned.nextAt;
        for (const d of scanned.due) {
          if (this.stopping || this.running.size >= this.cfg.maxDestinations) break;
          // Left out by the scan already; kept because two runners of one destination must never be.
          if (this.running.has(d.id)) continue;
          let unavailable = false;
          const p = runDestination(this.context, d)
            .catch((err: unknown) => {
              // A database outage mid-run is expected and already reported by the scan; its claims
              // expire into due work if they could not be settled.
              if (isDatabaseUnavailable(err)) {
                unavailable = true;
                this.reportUnavailableRun(err, d.id);
              } else {
                // A failure the database does not call an outage (a column renamed by hand, a revoked
                // grant, a statement a DBA's timeout cancelled) fails the same way at once: the
                // destination waits a second before its next run, and the line is written once a
                // minute per destination and error, with how many it stands for (a busy loop wrote
                // 150 a second before).
                this.context.standBack.hold(d.id, FAILED_RUN_PAUSE_MS);
                reportFailedRun(this.deps.logger, d.id, err);
              }
            })
            .finally(() => {
              this.running.delete(d.id);
              // Its claims are over: the next runner reads the row anew, and counts changes from there.
              this.settingsChanges.delete(d.id);
              // The destination may have more due work (or others may have been waiting for a slot).
              // Not at once after the database refused the run: the scan still reads (a full disk
              // refuses writes only), so an immediate wake ran the same refused claim again and again.
              if (unavailable) this.armFallbackTimer(UNAVAILABLE_RUN_PAUSE_MS);
              else {
                this.refusedForResources = false;
                this.wake();
              }
            });
          this.running.set(d.id, p);
        }
      } while (this.rescan && !this.stopping);
      this.armTimer(nextAt, leftOut);
      if (this.databaseAway) {
        this.databaseAway = false;
        this.deps.logger.info('database reachable again; delivery resumed');
      }
    } catch (err) {
      // Database unreachable (restart, failover, cut connection): delivery pauses and the scan is
      // tried again every second until it works. Said once per outage, not once per second.
      if (!isDatabaseUnavailable(err)) this.deps.logger.warn({ err: (err as Error).message }, 'worker scan failed; will retry');
      else if (!this.databaseAway) this.deps.logger.warn({ err: (err as Error).message }, 'database unreachable; delivery paused until it is back');
      if (isDatabaseUnavailable(err)) this.databaseAway = true;
      this.armFallbackTimer(Math.min(this.cfg.intervalMs, 1000));
    } finally {
      this.scanning = false;
      if (this.rescan && !this.stopping) this.wake();
    }
  }

  /**
   * Sleeps until the interval (the safety net), the next scheduled job the scan saw (`next`), or the
   * end of a Retry-After (those the scan left out included), whichever comes first. Destinations left
   * out as waiting for Splunk acks need no timer: their tracker wakes the worker once it settles acks,
   * and polls again within AEGIS_SPLUNK_ACK_POLL_MS when that settle failed.
   */
  private armTimer(next: Date | null, leftOut: ReadonlyMap<string, number>): void {
    let delay = this.cfg.intervalMs;
    if (next) delay = Math.max(10, Math.min(delay, next.getTime() - Date.now() + 5));
    for (const until of [...leftOut.values(), ...this.limiters.blocked().values()]) delay = Math.max(10, Math.min(delay, until - monotonicNow() + 5));
    this.armFallbackTimer(delay);
  }

  /**
   * A runner the database refused: a lost connection is the scan's to report (once per outage); a
   * refusal with the connection fine (disk full, too many connections, a read-only server:
   * isDatabaseRefusing) loses no connection, so nothing else says so: warned once until a run gets
   * through again.
   */
  private reportUnavailableRun(err: unknown, destinationId: string): void {
    const message = (err as Error).message;
    if (!isDatabaseRefusing(err)) {
      this.deps.logger.debug({ err: message, destination_id: destinationId }, 'destination runner stopped: database unavailable');
      return;
    }
    if (this.refusedForResources) return;
    this.refusedForResources = true;
    this.deps.logger.warn(
      { sqlstate: (err as { code?: unknown }).code, destination_id: destinationId },
      'the database refused delivery for want of resources (disk, memory or connections) or as read-only; delivery retries every second until it gets through',
    );
  }

  private armFallbackTimer(delay: number): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), delay);
  }

  /** Stops claiming, lets in-flight requests finish (each is bounded by the HTTP timeout), settles them. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.limiters.kickAll(); // lanes waiting on a destination's pacing give up now
    if (this.timer) clearTimeout(this.timer);
    if (this.forgetTimer) clearInterval(this.forgetTimer);
    await this.forgetting;
    await this.housekeeping.stop();
    await Promise.allSettled([...this.running.values()]);
    // Requests still waiting for Splunk acks keep their claims; the lease ends and anyone sends them again.
    this.acks.stopAll();
    if (this.unlisten) await this.unlisten().catch(() => undefined);
  }

  /** For tests: resolves when no destination runner is active. */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.scanning) await Promise.allSettled([...this.running.values(), new Promise((r) => setTimeout(r, 5))]);
  }
}
