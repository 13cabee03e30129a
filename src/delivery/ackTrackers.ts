// The worker's Splunk ack trackers, one per acknowledging destination with requests waiting for
// indexer acknowledgement (ackTracker.ts): created on first use, forgotten once idle.
import { AckTracker } from './ackTracker.js';
import type { DeliveryTarget } from './deliverBatch.js';
import type { WorkerConfig, WorkerDeps } from './workerConfig.js';

export class AckTrackers {
  private readonly byDestination = new Map<string, AckTracker>();

  constructor(
    private readonly deps: WorkerDeps,
    private readonly cfg: WorkerConfig,
    /** Told when acks came in: the destination may claim again. */
    private readonly wake: () => void,
  ) {}

  /** The destination's tracker, created on first use; an existing one gets the runner's fresher target. */
  get(target: DeliveryTarget): AckTracker {
    const t = this.byDestination.get(target.id);
    if (t) {
      t.update(target);
      return t;
    }
    const created: AckTracker = new AckTracker(
      target,
      {
        db: this.deps.db,
        delivery: this.deps.delivery,
        metrics: this.deps.metrics,
        logger: this.deps.logger,
        ...(this.deps.alerts ? { alerts: this.deps.alerts } : {}),
        wake: () => this.onAcksSettled(target.id, created),
      },
      {
        leaseMs: this.cfg.leaseMs,
        retryDelaysS: this.cfg.retryDelaysS,
        pollMs: this.cfg.splunkAckPollMs,
        timeoutMs: this.cfg.splunkAckTimeoutMs,
        maxPendingEvents: this.cfg.splunkAckMaxPendingEvents,
      },
    );
    this.byDestination.set(target.id, created);
    return created;
  }

  /**
   * A tracker settled some acks: forget it once nothing waits. Only the one that settled can have
   * become idle, so only it is checked (a loop over every tracker on every settle was quadratic in
   * the Splunk destinations waiting for acks).
   */
  private onAcksSettled(destinationId: string, t: AckTracker): void {
    if (this.byDestination.get(destinationId) === t && t.idle()) this.byDestination.delete(destinationId);
    this.wake();
  }

  /** True while the destination holds as many events waiting for acks as it may. */
  isFull(destinationId: string): boolean {
    return this.byDestination.get(destinationId)?.full() ?? false;
  }

  /** Destinations holding as many events waiting for Splunk acks as they may: not run until acks come in. */
  full(): Set<string> {
    const out = new Set<string>();
    for (const [id, t] of this.byDestination) if (t.full()) out.add(id);
    return out;
  }

  /** Requests still waiting keep their claims; the lease ends and anyone sends them again. */
  stopAll(): void {
    for (const t of this.byDestination.values()) t.stop();
  }
}
