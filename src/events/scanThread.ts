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

/** Agent batches of this many records or more go to the scan thread: about 30 ms of checks. */
export const OFFLOAD_MIN_RECORDS = 100;

export type AgentEvents = ReturnType<typeof agentEvents>;

/** The thread ends after this long without work: it holds its own heap (several MiB) while it lives. */
const IDLE_MS = 60_000;

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
    const { replyTo } = await import(workerData.moduleUrl);
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

  /** The scan of `input` for `orgId`: on the thread when it is long, here otherwise. */
  scan(orgId: string, input: string): Promise<ScanResult> {
    const work: ThreadJob = { kind: 'scan', input };
    return (input.length < OFFLOAD_MIN_CHARS ? this.here(work) : this.queue(orgId, work)) as Promise<ScanResult>;
  }

  /** agentEvents(orgId, records): on the thread for a large batch, here otherwise. */
  agentEvents(orgId: string, records: unknown[]): Promise<AgentEvents> {
    const work: ThreadJob = { kind: 'agentEvents', orgId, records };
    return (records.length < OFFLOAD_MIN_RECORDS ? this.here(work) : this.queue(orgId, work)) as Promise<AgentEvents>;
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
    // run() settles the job whatever happens and never rejects.
    void this.run(job).finally(() => {
      this.busy = false;
      this.next();
    });
  }

  private async run(job: Job): Promise<void> {
    let worker: Worker;
    try {
      worker = await this.thread();
    } catch (err) {
      // No thread to be had (it failed to start): the scan still happens, here.
      this.onThreadFailure?.(err as Error);
      settleHere(job);
      return;
    }
    await new Promise<void>((done) => {
      const onMessage = (reply: ThreadReply) => {
        off();
        this.scannedOnThread++;
        if (reply.ok) job.resolve(reply.result);
        else job.reject(replyError(reply));
        done();
      };
      // The thread died under this scan (out of memory, say): scanned here, and a new thread next time.
      const onExit = (code: number) => {
        off();
        this.worker = null;
        this.ready = null;
        if (!this.closed) this.onThreadFailure?.(new Error(`the scan thread ended (exit code ${code})`));
        settleHere(job);
        done();
      };
      const off = () => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.postMessage(job.work);
    });
  }

  private thread(): Promise<Worker> {
    if (this.ready) return this.ready;
    const worker = new Worker(THREAD_CODE, { eval: true, workerData: { moduleUrl: JOBS_MODULE, typescript: JOBS_MODULE.endsWith('.ts') } });
    // Never what keeps the process alive.
    worker.unref();
    this.worker = worker;
    this.ready = new Promise<Worker>((resolve, reject) => {
      const failed = (err: unknown) => {
        this.worker = null;
        this.ready = null;
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      worker.once('message', () => {
        worker.off('error', failed);
        worker.off('exit', failed);
        resolve(worker);
      });
      worker.once('error', failed);
      worker.once('exit', failed);
    });
    // An error after start ends the thread: its 'exit' settles the scan in flight (run()).
    worker.on('error', () => undefined);
    return this.ready;
  }

  private armIdle(): void {
    if (this.idleTimer || !this.worker) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.busy || this.queues.size > 0) return;
      const worker = this.worker;
      this.worker = null;
      this.ready = null;
      void worker?.terminate();
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
