// The work the scan thread does (scanThread.ts, run by threads/fairThread.ts), as one function of a plain message: the same
// functions the event loop runs for small inputs, so both give the same answer.
import { AppError } from '../errors.js';
import type { ThreadReply as FairThreadReply } from '../threads/fairThread.js';
import { agentEvents } from './agentEvents.js';
import { detectAndMask } from './mask.js';

export type ThreadJob = { kind: 'scan'; input: string } | { kind: 'agentEvents'; orgId: string; records: unknown[] };

/** A failed job as data, posted back by the thread (an AppError keeps its code and details). */
export type ThreadFailure = { appError: { code: AppError['code']; message: string; details: AppError['details'] } } | { message: string };

/** What the thread posts back: the result, or the error as data. */
export type ThreadReply = FairThreadReply<ThreadFailure>;

export function runThreadJob(job: ThreadJob): unknown {
  return job.kind === 'scan' ? detectAndMask(job.input) : agentEvents(job.orgId, job.records);
}

/** runThreadJob's outcome as a message that crosses a thread (an Error's class does not). */
export function replyTo(job: ThreadJob): ThreadReply {
  try {
    return { ok: true, result: runThreadJob(job) };
  } catch (err) {
    if (err instanceof AppError) return { ok: false, appError: { code: err.code, message: err.message, details: err.details } };
    return { ok: false, message: String((err as Error)?.message) };
  }
}

/** The error a reply carries, as the event loop would have thrown it. */
export function replyError(reply: Exclude<ThreadReply, { ok: true }>): Error {
  return 'appError' in reply
    ? new AppError(reply.appError.code, reply.appError.message, reply.appError.details)
    : new Error(`checking the input failed: ${reply.message}`);
}

/**
 * Compiles what the first job would (the schemas' validators, compiled on first use) when the thread
 * starts, not inside the first organization's job: about 0.4 s.
 */
export function warm(): void {
  try {
    agentEvents('org_warm', [{}]);
  } catch {
    // Refused, as it should be: the validators are compiled either way.
  }
}
