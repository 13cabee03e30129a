// Large preflight inputs and large agent batches are checked on a thread of their own. Detection is
// linear but not cheap (about 0.5 µs a character: 0.6 s for 1 MiB of some texts; a batch of 1,000
// agent records about 0.3 s), and it ran on the API's one event loop: an organization sending 1 MiB
// preflights from a few connections, all within its admission places, held every other
// organization's requests for seconds (another org's p50 went from 6 ms to 667 ms). Here one thread
// takes the large ones one at a time, organizations in turn, while the event loop goes on serving
// everyone else; small ones (under OFFLOAD_MIN_CHARS, OFFLOAD_MIN_RECORDS) are checked where they
// are, as before: a round trip to the thread (copying the input both ways) would cost them more.
import type { Finding } from './findings.js';
import { FairThread, siblingModuleUrl } from '../threads/fairThread.js';
import { replyError, runThreadJob, type ThreadFailure, type ThreadJob } from './threadJobs.js';
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

  /** Jobs the thread answered (not run here after a failure): what tests and a curious operator read. */
  get scannedOnThread(): number {
    return this.thread.answeredOnThread;
  }

  /** Told when the thread cannot start or dies: its scans then run here, on the event loop. */
  set onThreadFailure(tell: ((err: Error) => void) | null) {
    this.thread.onThreadFailure = tell;
  }

  /** The scan of `input` for `orgId`: on the thread when it is long, here otherwise. */
  scan(orgId: string, input: string): Promise<ScanResult> {
    const work: ThreadJob = { kind: 'scan', input };
    return (input.length < OFFLOAD_MIN_CHARS ? this.thread.here(work) : this.thread.onThread(orgId, work)) as Promise<ScanResult>;
  }

  /**
   * agentEvents(orgId, records): on the thread for a large batch, here otherwise. `bodyBytes`: the
   * request body's size, when known (null: not known, so taken as large).
   */
  agentEvents(orgId: string, records: unknown[], bodyBytes: number | null): Promise<AgentEvents> {
    const work: ThreadJob = { kind: 'agentEvents', orgId, records };
    const small = records.length < OFFLOAD_MIN_RECORDS && bodyBytes !== null && bodyBytes < OFFLOAD_MIN_CHARS;
    return (small ? this.thread.here(work) : this.thread.onThread(orgId, work)) as Promise<AgentEvents>;
  }

  /** Ends the thread; scans still waiting run here instead (none is dropped). */
  close(): Promise<void> {
    return this.thread.close();
  }
}

/** The process's scan thread (started on the first large input). */
export const scanThread = new ScanThread();
