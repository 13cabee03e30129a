// Where a deleted destination's backlog is cleared after the delete has answered: one destination at
// a time per process, in the order the deletes came. A backlog is as large as the SIEM was down long
// (3 million jobs took 30 s to clear on a 2-core machine), so a delete that waited for it answered a
// minute or more later, past the timeouts of proxies and of the dashboard's user. One at a time,
// because an organization deleting many destinations must not take every connection of the pool
// for their backlogs: the per-organization gate bounded that while the requests waited for them.
import type { Logger } from '../logger.js';

/** Asked between batches: true once the process is stopping (the worker's purge finishes the rest). */
export type Stopped = () => boolean;

export class BacklogLane {
  private tail: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly logger?: Pick<Logger, 'warn'>) {}

  /**
   * Queues `work` behind the lane's earlier work; the promise settles when it has run (never
   * rejects: a failure is logged, and the worker's purge of deleted destinations finishes the job).
   * After stop() the work is not started.
   */
  run(destinationId: string, work: (stopped: Stopped) => Promise<void>): Promise<void> {
    const next = this.tail.then(async () => {
      if (this.stopping) return;
      try {
        await work(() => this.stopping);
      } catch (err) {
        this.logger?.warn(
          { destination_id: destinationId, err: (err as Error).message },
          "destination deleted; clearing its backlog stopped, and the worker's purge finishes it",
        );
      }
    });
    this.tail = next;
    return next;
  }

  /** Lets the running work end after its current batch and starts no more; resolves once it has. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.tail;
  }
}
