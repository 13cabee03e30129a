// Large preflight inputs and large agent batches are checked on a thread of their own. Detection is
// linear but not cheap (about 0.5 µs a character: 0.6 s for 1 MiB of some texts; a batch of 1,000
// agent records about 0.3 s), and it ran on the API's one event loop: an organization sending 1 MiB
// preflights from a few connections, all within its admission places, held every other
// organization's requests for seconds (another org's p50 went from 6 ms to 667 ms). Here one thread
// takes the large ones one at a time, organizations in turn, while the event loop goes on serving
// everyone else; small ones (under OFFLOAD_MIN_CHARS, OFFLOAD_MIN_RECORDS) are checked where they
// are, as before: a round trip to the thread (copying the input both ways) would cost them more.
// Unless their organization has used its share of the loop (threads/loopBudget.ts): cost per
// character varies a hundredfold with the text, and a review held another organization's requests
// 15 times longer (p50 6 to 256 ms) with inputs just under the size, each a slow text.
import type { Finding } from './findings.js';
import { FairThread, siblingModuleUrl } from '../threads/fairThread.js';
import { replyError, runThreadJob, type ThreadFailure, type ThreadJob } from './threadJobs.js';
import type { agentEvents } from './agentEvents.js';
import { LoopBudget } from '../threads/loopBudget.js';

export interface ScanResult {
  findings: Finding[];
  masked: string;
}

/**
 * Inputs this long or longer (UTF-16 code units) go to the scan thread: 1-3 ms of detection for
 * ordinary text, up to about 50 ms for the slowest (the loop budget sends an organization's next ones
 * to the thread after that).
 */
export const OFFLOAD_MIN_CHARS = 16 * 1024;

/**
 * Agent batches of this many records or more go to the scan thread (about 30 ms of checks), and so
 * does one whose body is OFFLOAD_MIN_CHARS bytes or more, however few its records: the privacy guard
 * reads every string of a record, and one record of 10 MiB took 3 s.
 */
export const OFFLOAD_MIN_RECORDS = 100;

export type AgentEvents = ReturnType<typeof agentEvents>;

/**
 * The scan thread (threads/fairThread.ts runs it): the checks of threadJobs.ts, large ones on the
 * thread, organizations in turn, small ones where they are asked.
 */
export class ScanThread {
  private readonly thread = new FairThread<ThreadJob, ThreadFailure>({
    name: 'the scan thread',
    moduleUrl: siblingModuleUrl(import.meta.url, 'threadJobs'),
    runHere: runThreadJob,
    replyError,
  });

  /** `budget`: each organization's scans on the event loop (a test's own clock, or the real one). */
  constructor(private readonly budget = new LoopBudget()) {}

  /** Jobs the thread answered (not run here after a failure): what tests and a curious operator read. */
  get scannedOnThread(): number {
    return this.thread.answeredOnThread;
  }

  /** Told when the thread cannot start or dies: its scans then run here, on the event loop. */
  set onThreadFailure(tell: ((err: Error) => void) | null) {
    this.thread.onThreadFailure = tell;
  }

  /** The scan of `input` for `orgId`: on the thread when it is long or its organization is over its share, here otherwise. */
  scan(orgId: string, input: string): Promise<ScanResult> {
    return this.run(orgId, { kind: 'scan', input }, input.length, input.length >= OFFLOAD_MIN_CHARS) as Promise<ScanResult>;
  }

  /**
   * agentEvents(orgId, records): on the thread for a large batch, here otherwise. `bodyBytes`: the
   * request body's size, when known (null: not known, so taken as large).
   */
  agentEvents(orgId: string, records: unknown[], bodyBytes: number | null): Promise<AgentEvents> {
    const small = records.length < OFFLOAD_MIN_RECORDS && bodyBytes !== null && bodyBytes < OFFLOAD_MIN_CHARS;
    return this.run(orgId, { kind: 'agentEvents', orgId, records }, bodyBytes ?? OFFLOAD_MIN_CHARS, !small) as Promise<AgentEvents>;
  }

  /** `work` of about `chars` characters on the thread when `large` or its organization is over its share; here, charged to it, otherwise. */
  private run(orgId: string, work: ThreadJob, chars: number, large: boolean): Promise<unknown> {
    if (large || this.budget.offloads(orgId, chars)) return this.thread.onThread(orgId, work);
    // here() runs the job before it returns (its promise only carries the answer or the error out).
    return this.budget.charge(orgId, chars, () => this.thread.here(work));
  }

  /** Ends the thread; scans still waiting run here instead (none is dropped). */
  close(): Promise<void> {
    return this.thread.close();
  }
}

/** The process's scan thread (started on the first large input). */
export const scanThread = new ScanThread();
