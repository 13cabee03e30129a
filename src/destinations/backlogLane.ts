// Where a deleted destination's backlog is cleared after the delete has answered: one destination at
// a time per process, in the order the deletes came. A backlog is as large as the SIEM was down long
// (3 million jobs took 30 s to clear on a 2-core machine), so a delete that cleared it all before
// answering answered a minute or more later, past the timeouts of proxies and of the dashboard's user.
// The request clears what it can for a few seconds (destinations/service.ts) and hands the rest over.
// One at a time, because an organization deleting many destinations must not take every connection
// of the pool for their backlogs: the per-organization gate bounded that while the requests cleared.
import type { Logger } from '../logger.js';
import { within } from '../within.js';
import { monotonicNow } from '../monotonicClock.js';

/** Asked between batches: true once the clearing must stop (the worker's purge finishes the rest). */
export type Stopped = () => boolean;

/** A clearing that failed part-way: logged, and left to the worker's purge of deleted destinations. */
export function logClearStopped(logger: Pick<Logger, 'warn'> | undefined, destinationId: string, err: unknown): void {
  logger?.warn(
    { destination_id: destinationId, err: (err as Error).message },
    "destination deleted; clearing its backlog stopped, and the worker's purge finishes it",
  );
}

export class BacklogLane {
  private tail: Promise<void> = Promise.resolve();
  #stopping = false;

  constructor(private readonly logger?: Pick<Logger, 'warn'>) {}

  /**
   * Queues `work` behind the lane's earlier work; the promise settles when it has run (never
   * rejects: a failure is logged, and the worker's purge of deleted destinations finishes the job).
   * After stop() the work is not started.
   */
  run(destinationId: string, work: (stopped: Stopped) => Promise<unknown>): Promise<void> {
    const next = this.tail.then(async () => {
      if (this.#stopping) return;
      try {
        await work(() => this.#stopping);
      } catch (err) {
        logClearStopped(this.logger, destinationId, err);
      }
    });
    this.tail = next;
    return next;
  }

  /**
   * A delete's clearing: `work` runs now, in the request, for at most `withinMs` (its `stopped` says
   * so between batches, and the wait is raced against a batch that waits on a row lock), so that
   * another organization's backlog of millions in the lane never holds this answer back. What it has
   * not finished once it stops, or after a failure (a statement limit while a lock was held), the
   * lane takes up once more. `work` answers whether it finished.
   */
  async clear(destinationId: string, work: (stopped: Stopped) => Promise<boolean>, withinMs: number): Promise<void> {
    const until = monotonicNow() + withinMs;
    const inline = work(() => this.#stopping || monotonicNow() >= until).catch((err: unknown) => {
      logClearStopped(this.logger, destinationId, err);
      return false;
    });
    const handOver = (finished: boolean) => {
      if (!finished) void this.run(destinationId, work);
    };
    const done = await within(inline, withinMs, () => null);
    if (done !== null) return handOver(done);
    // Still running after the answer: stop() waits for it (the database must not close under its
    // batch), and the lane's later work comes after it.
    this.tail = Promise.all([this.tail, inline]).then(() => undefined);
    void inline.then(handOver);
  }

  /** Lets the running work end after its current batch and starts no more; resolves once it has. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.tail;
  }
}
