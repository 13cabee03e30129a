// Work too long for an event loop that serves every organization, done on a thread of its own, one
// job at a time, organizations in turn. The API checks large inputs this way (events/scanThread.ts),
// the worker scrubs large SIEM answers (delivery/scrubThread.ts): linear work, but at about 0.2-0.5 µs
// a character a megabyte held the one event loop, and with it every other organization, for up to
// 0.7 s. Callers keep small jobs where they are: a round trip to the thread (the input copied both
// ways) costs a short one more than the work.
import { Worker } from 'node:worker_threads';

/** What a jobs module's replyTo posts back: the result, or the failure as data (an Error's class does not cross a thread). */
export type ThreadReply<F> = { ok: true; result: unknown } | ({ ok: false } & F);

export interface FairThreadOptions<W, F> {
  /** How errors and logs name the thread ("the scan thread"). */
  name: string;
  /**
   * The module the thread loads, by URL: it exports `replyTo(work)` (a ThreadReply for the job) and
   * `warm()` (compiles what the first job would, when the thread starts rather than inside the first
   * organization's job). The same functions as `runHere`, so both give the same answer.
   */
  moduleUrl: string;
  /** The job done on the event loop: when the thread cannot start, dies under it, or is closed. */
  runHere: (work: W) => unknown;
  /** The error a failed reply stands for, as `runHere` would have thrown it. */
  replyError: (reply: { ok: false } & F) => Error;
}

interface Job<W> {
  work: W;
  resolve: (r: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * The thread ends after this long without work: it holds its own heap (several MiB) while it lives,
 * and a new one takes a moment to start (loading and compiling its modules) before its first job.
 */
const IDLE_MS = 5 * 60_000;

/** A job the thread has not answered in this long is done on the event loop instead, and the thread replaced. */
const JOB_TIMEOUT_MS = 60_000;

/** After the thread failed to start, jobs are done on the event loop this long before it is tried again. */
const RETRY_START_MS = 60_000;

/**
 * The thread's code: a script (a Worker from a string, run as CommonJS or as a module depending on how
 * Node was started, so it only uses import()) that loads the jobs module by URL. From the sources
 * (tests, `npm run dev`) the module is TypeScript, so tsx's loader is registered in the thread first.
 */
const THREAD_CODE = `
  (async () => {
    const { parentPort, workerData } = await import('node:worker_threads');
    if (workerData.typescript) (await import('tsx/esm/api')).register();
    const { replyTo, warm } = await import(workerData.moduleUrl);
    warm();
    parentPort.on('message', (job) => parentPort.postMessage(replyTo(job)));
    parentPort.postMessage({ ready: true });
  })();`;

/**
 * One thread, one job at a time, organizations in turn: each organization's jobs wait in its own
 * queue, and the thread takes the next from the organization it served longest ago, so one
 * organization's backlog of large jobs holds another's for one job at most. Every job is done: on the
 * thread, or on the event loop when there is no thread to be had (never dropped, never failed for
 * want of a thread).
 */
export class FairThread<W, F> {
  private worker: Worker | null = null;
  private ready: Promise<Worker> | null = null;
  private readonly queues = new Map<string, Job<W>[]>();
  private busy = false;
  /** When each organization was last served (a turn number), while jobs wait. */
  private readonly served = new Map<string, number>();
  private turns = 0;
  /** Jobs the thread answered (not done on the event loop after a failure): what tests and a curious operator read. */
  answeredOnThread = 0;
  /** Told when the thread cannot start or dies: its jobs are then done on the event loop. */
  onThreadFailure: ((err: Error) => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private retryAt = 0;

  constructor(private readonly opts: FairThreadOptions<W, F>) {}

  /** Done where it was asked, at once: a rejected promise for what it throws, as the caller's own await would. */
  here(work: W): Promise<unknown> {
    return new Promise((resolve) => resolve(this.opts.runHere(work)));
  }

  /** Done on the thread, in `orgId`'s turn. */
  onThread(orgId: string, work: W): Promise<unknown> {
    if (this.closed) return this.here(work);
    return new Promise<unknown>((resolve, reject) => {
      const queue = this.queues.get(orgId);
      const job: Job<W> = { work, resolve, reject };
      if (queue) queue.push(job);
      else this.queues.set(orgId, [job]);
      this.next();
    });
  }

  /** Ends the thread; jobs still waiting are done on the event loop (none is dropped). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const [orgId, queue] of this.queues) {
      this.queues.delete(orgId);
      for (const job of queue) this.settleHere(job);
    }
    const worker = this.worker;
    this.worker = null;
    this.ready = null;
    if (worker) await worker.terminate();
  }

  /**
   * The next job: the oldest of the organization served longest ago (one never served first, then in
   * the order they came). While the thread is busy, when each organization was last served is kept;
   * forgotten once nothing waits.
   */
  private take(): Job<W> | null {
    let pick: string | null = null;
    let pickServed = Infinity;
    for (const orgId of this.queues.keys()) {
      const served = this.served.get(orgId) ?? -1;
      if (served < pickServed) {
        pick = orgId;
        pickServed = served;
      }
    }
    if (pick === null) {
      this.served.clear();
      return null;
    }
    const queue = this.queues.get(pick)!;
    const job = queue.shift()!;
    if (queue.length === 0) this.queues.delete(pick);
    this.served.set(pick, ++this.turns);
    return job;
  }

  private next(): void {
    if (this.busy) return;
    const job = this.take();
    if (!job) {
      this.armIdle();
      return;
    }
    this.busy = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    // run() settles the job whatever happens; the catch is for a bug of ours, so the queue goes on.
    void this.run(job)
      .catch((err: unknown) => {
        this.settleHere(job);
        this.onThreadFailure?.(err as Error);
      })
      .finally(() => {
        this.busy = false;
        this.next();
      });
  }

  private settleHere(job: Job<W>): void {
    try {
      job.resolve(this.opts.runHere(job.work));
    } catch (err) {
      job.reject(err as Error);
    }
  }

  private async run(job: Job<W>): Promise<void> {
    const worker = await this.thread().catch((err: unknown) => {
      // No thread to be had: the job still happens, here.
      if (!this.closed) this.onThreadFailure?.(err as Error);
      return null;
    });
    if (!worker) {
      this.settleHere(job);
      return;
    }
    await new Promise<void>((done) => {
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        clearTimeout(stuck);
        settle();
        done();
      };
      const onMessage = (reply: ThreadReply<F>) =>
        finish(() => {
          this.answeredOnThread++;
          if (reply.ok) job.resolve(reply.result);
          else job.reject(this.opts.replyError(reply));
        });
      // The thread ended under this job (out of memory, say, or close()): done here instead.
      const onExit = () => finish(() => this.settleHere(job));
      // A job the thread never answers (a thread wedged by a bug) must not hold its caller, and every
      // organization's behind it, for ever: done here, and the thread replaced.
      const stuck = setTimeout(() => {
        finish(() => this.settleHere(job));
        this.discard(worker, new Error(`${this.opts.name} did not answer within ${JOB_TIMEOUT_MS / 1000} s`));
      }, JOB_TIMEOUT_MS);
      stuck.unref();
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      try {
        worker.postMessage(job.work);
      } catch {
        // A value that cannot be copied to a thread (callers send plain data): done here.
        finish(() => this.settleHere(job));
      }
    });
  }

  /** Stops using `worker` (if it is still the current one) and ends it; `why` is told unless closing. */
  private discard(worker: Worker, why: Error | null): void {
    if (this.worker === worker) {
      this.worker = null;
      this.ready = null;
    }
    if (why && !this.closed) this.onThreadFailure?.(why);
    void worker.terminate();
  }

  private thread(): Promise<Worker> {
    if (this.ready) return this.ready;
    if (performance.now() < this.retryAt) return Promise.reject(new Error(`${this.opts.name} failed to start a moment ago`));
    const moduleUrl = this.opts.moduleUrl;
    const worker = new Worker(THREAD_CODE, { eval: true, workerData: { moduleUrl, typescript: moduleUrl.endsWith('.ts') } });
    // Never what keeps the process alive.
    worker.unref();
    this.worker = worker;
    // Whenever it ends (a job's own listener settles a job in flight): a new thread for the next job.
    worker.once('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.ready = null;
      if (!this.closed) this.onThreadFailure?.(new Error(`${this.opts.name} ended (exit code ${code})`));
    });
    // An error ends the thread: its 'exit' follows.
    worker.on('error', () => undefined);
    this.ready = new Promise<Worker>((resolve, reject) => {
      const started = () => {
        worker.off('exit', failed);
        resolve(worker);
      };
      const failed = () => {
        worker.off('message', started);
        // Not again at once: a thread that cannot start would cost every large job a start.
        this.retryAt = performance.now() + RETRY_START_MS;
        reject(new Error(`${this.opts.name} could not start`));
      };
      worker.once('message', started);
      worker.once('exit', failed);
    });
    return this.ready;
  }

  private armIdle(): void {
    if (this.idleTimer || !this.worker) return;
    const worker = this.worker;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.busy || this.queues.size > 0) return;
      this.discard(worker, null);
    }, IDLE_MS);
    this.idleTimer.unref();
  }
}

/** The URL of a module beside `importerUrl` (import.meta.url) named `name`, as TypeScript from the sources or JavaScript when built. */
export function siblingModuleUrl(importerUrl: string, name: string): string {
  return new URL(`./${name}${importerUrl.endsWith('.ts') ? '.ts' : '.js'}`, importerUrl).href;
}
