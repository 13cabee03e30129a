// Large preflight inputs and large agent batches are checked on a thread of their own. Detection is
// linear but not cheap (about 0.5 µs a character: 0.6 s for 1 MiB of some texts; a batch of 1,000
// agent records about 0.3 s), and it ran on the API's one event loop: an organization sending 1 MiB
// preflights from a few connections, all within its admission places, held every other
// organization's requests for seconds (another org's p50 went from 6 ms to 667 ms). Here one thread
// takes the large ones one at a time, organizations in turn, while the event loop goes on serving
// everyone else; small ones (under OFFLOAD_MIN_CHARS, OFFLOAD_MIN_RECORDS) are checked where they
// are, as before: a round trip to the thread (copying the input both ways) would cost them more.
import { Worker } from 'node:worker_threads';
import type { Finding } from './findings.js';
import { replyError, runThreadJob, type ThreadJob, type ThreadReply } from './threadJobs.js';
import type { agentEvents } from './agentEvents.js';

export interface ScanResult {
  findings: Finding[];
  masked: string;
}

/** Inputs this long or longer (UTF-16 code units) go to the scan thread: a few ms of detection. */
export const OFFLOAD_MIN_CHARS = 64 * 1024;

/**
 * Agent batches of this many records or more go to the scan thread (about 30 ms of checks), and so
 * does one whose body is OFFLOAD_MIN_CHARS bytes or more, however few its records: the privacy guard
 * reads every string of a record, and one record of 10 MiB took 3 s.
 */
export const OFFLOAD_MIN_RECORDS = 100;

export type AgentEvents = ReturnType<typeof agentEvents>;

/**
 * The thread ends after this long without work: it holds its own heap (several MiB) while it lives,
 * and a new one takes about 0.4 s to start (loading and compiling the schemas) before its first job.
 */
const IDLE_MS = 5 * 60_000;

/** A job the thread has not answered in this long is done here instead, and the thread replaced. */
const JOB_TIMEOUT_MS = 60_000;

/** After the thread failed to start, jobs are done here this long before it is tried again. */
const RETRY_START_MS = 60_000;

interface Job {
  work: ThreadJob;
  resolve: (r: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * The scan thread's code: a script (a Worker from a string, run as CommonJS or as a module depending
 * on how Node was started, so it only uses import()) that loads threadJobs.ts by URL: the same
 * functions the event loop runs for small inputs. From the sources (tests, `npm run dev`) the module
 * is TypeScript, so tsx's loader is registered in the thread first.
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

const JOBS_MODULE = new URL(`./threadJobs${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

/**
 * One thread, one scan at a time, organizations in turn: each organization's scans wait in its own
 * queue, and the thread takes the next from the organization it served longest ago, so one
 * organization's backlog of large inputs holds another's for one scan at most.
 */
export class ScanThread {
  private worker: Worker | null = null;
  private ready: Promise<Worker> | null = null;
  private readonly queues = new Map<string, Job[]>();
  private busy = false;
  /** When each organization was last served (a turn number), while scans wait. */
  private readonly served = new Map<string, number>();
  private turns = 0;
  /** Jobs the thread answered (not run here after a failure): what tests and a curious operator read. */
  scannedOnThread = 0;
  /** Told when the thread cannot start or dies: its scans then run here, on the event loop. */
  onThreadFailure: ((err: Error) => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private retryAt = 0;

  /** The scan of `input` for `orgId`: on the thread when it is long, here otherwise. */
  scan(orgId: string, input: string): Promise<ScanResult> {
    const work: ThreadJob = { kind: 'scan', input };
    return (input.length < OFFLOAD_MIN_CHARS ? this.here(work) : this.queue(orgId, work)) as Promise<ScanResult>;
  }

  /**
   * agentEvents(orgId, records): on the thread for a large batch, here otherwise. `bodyBytes`: the
   * request body's size, when known (null: not known, so taken as large).
   */
  agentEvents(orgId: string, records: unknown[], bodyBytes: number | null): Promise<AgentEvents> {
    const work: ThreadJob = { kind: 'agentEvents', orgId, records };
    const small = records.length < OFFLOAD_MIN_RECORDS && bodyBytes !== null && bodyBytes < OFFLOAD_MIN_CHARS;
    return (small ? this.here(work) : this.queue(orgId, work)) as Promise<AgentEvents>;
  }

  /** Run where it was asked, at once: a rejected promise for what it throws, as the caller's own await would. */
  private here(work: ThreadJob): Promise<unknown> {
    return new Promise((resolve) => resolve(runThreadJob(work)));
  }

  private queue(orgId: string, work: ThreadJob): Promise<unknown> {
    if (this.closed) return this.here(work);
    return new Promise<unknown>((resolve, reject) => {
      const queue = this.queues.get(orgId);
      const job: Job = { work, resolve, reject };
      if (queue) queue.push(job);
      else this.queues.set(orgId, [job]);
      this.next();
    });
  }

  /** Ends the thread; scans still waiting run here instead (none is dropped). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const [orgId, queue] of this.queues) {
      this.queues.delete(orgId);
      for (const job of queue) settleHere(job);
    }
    const worker = this.worker;
    this.worker = null;
    this.ready = null;
    if (worker) await worker.terminate();
  }

  /**
   * The next scan: the oldest of the organization served longest ago (one never served first, then in
   * the order they came). While the thread is busy, when each organization was last served is kept;
   * forgotten once nothing waits.
   */
  private take(): Job | null {
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
        settleHere(job);
        this.onThreadFailure?.(err as Error);
      })
      .finally(() => {
        this.busy = false;
        this.next();
      });
  }

  private async run(job: Job): Promise<void> {
    const worker = await this.thread().catch((err: unknown) => {
      // No thread to be had: the job still happens, here.
      if (!this.closed) this.onThreadFailure?.(err as Error);
      return null;
    });
    if (!worker) {
      settleHere(job);
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
      const onMessage = (reply: ThreadReply) =>
        finish(() => {
          this.scannedOnThread++;
          if (reply.ok) job.resolve(reply.result);
          else job.reject(replyError(reply));
        });
      // The thread ended under this job (out of memory, say, or close()): done here instead.
      const onExit = () => finish(() => settleHere(job));
      // A job the thread never answers (a thread wedged by a bug) must not hold its request, and every
      // organization's behind it, for ever: done here, and the thread replaced.
      const stuck = setTimeout(() => {
        finish(() => settleHere(job));
        this.discard(worker, new Error(`the scan thread did not answer within ${JOB_TIMEOUT_MS / 1000} s`));
      }, JOB_TIMEOUT_MS);
      stuck.unref();
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      try {
        worker.postMessage(job.work);
      } catch {
        // A value that cannot be copied to a thread (none comes from a JSON body): checked here.
        finish(() => settleHere(job));
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
    if (performance.now() < this.retryAt) return Promise.reject(new Error('the scan thread failed to start a moment ago'));
    const worker = new Worker(THREAD_CODE, { eval: true, workerData: { moduleUrl: JOBS_MODULE, typescript: JOBS_MODULE.endsWith('.ts') } });
    // Never what keeps the process alive.
    worker.unref();
    this.worker = worker;
    // Whenever it ends (a job's own listener settles a job in flight): a new thread for the next job.
    worker.once('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.ready = null;
      if (!this.closed) this.onThreadFailure?.(new Error(`the scan thread ended (exit code ${code})`));
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
        reject(new Error('the scan thread could not start'));
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

function settleHere(job: Job): void {
  try {
    job.resolve(runThreadJob(job.work));
  } catch (err) {
    job.reject(err as Error);
  }
}

/** The process's scan thread (started on the first large input). */
export const scanThread = new ScanThread();
