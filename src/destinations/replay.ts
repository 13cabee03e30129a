import type { Db, Queryable } from '../db/types.js';
import { countFailed, countTooFarAhead, countTooOld, lastFailedJobId, lockReplayableDestination, replayFailed } from '../queue/deadLetters.js';
import { QUEUE_COUNT_CAP } from '../queue/countCap.js';
import { getEncoder } from '../siem/registry.js';
import { sendableAgeMs, sendableFutureMs } from '../siem/types.js';
import { getPresetInfo, type SiemId } from '../siem/catalog.js';
import { countInWindow, databaseNow, takeReplayTurn } from '../queue/replayRange.js';
import { invalid, notFound } from '../errors.js';
import { resumeHeld } from '../queue/deliveryState.js';

export interface ReplayResult {
  replayed: number;
  /** Dead letters older than the SIEM keeps (Datadog 18 h, New Relic 48 h), left in place. */
  skipped_too_old: number;
  /** Says why some were left, or null. */
  message: string | null;
}

/** A replay of dead letters: a range replay trims its window's end instead (its message says so). */
export interface DeadLetterReplayResult extends ReplayResult {
  /** Dead letters dated further ahead than the SIEM accepts (Datadog 2 h), left in place. */
  skipped_too_far_ahead: number;
}

/** Dead letters moved back per statement. */
const BATCH = 5000;

/**
 * Puts a destination's dead letters (all, or the given job ids) back in the queue: the one replay
 * used by the API and the CLI. Resumes a destination paused by the hold limit (queue/deliveryState.ts).
 * Works in bounded batches, stops at the newest dead letter present when it started (events dead-lettered again meanwhile wait for the next replay instead of looping
 * forever), and leaves events older than the SIEM keeps or dated further ahead than it accepts: it would answer 2xx and then drop them.
 *
 * `record`: work committed with the first batch, in one transaction (the command line's trail event):
 * the request is on record exactly when its first jobs are back in the queue.
 */
export async function replayDeadLetters(
  db: Db,
  dest: { orgId: string; id: string; siem: SiemId },
  opts: { jobIds?: number[] | null; onProgress?: (replayed: number, total: number) => void; record?: (tx: Queryable) => Promise<unknown> } = {},
): Promise<DeadLetterReplayResult> {
  // The worker's own cuts (less its margin for clocks): an event it would dead-letter is not replayed.
  const encoder = getEncoder(dest.siem);
  const maxAgeMs = sendableAgeMs(encoder);
  const maxAheadMs = sendableFutureMs(encoder);
  const jobIds = opts.jobIds ?? null;
  const bounds = { batch: BATCH, maxAgeMs, maxAheadMs };
  const firstBatch = async (q: Queryable) => {
    // One batch at a time with range replays of this destination (they revive dead letters too).
    await takeReplayTurn(q, dest.id);
    // The caller found the destination before this transaction; a delete committed since is a 404
    // as for an unknown one, with nothing revived and nothing recorded.
    if (!(await lockReplayableDestination(q, dest.orgId, dest.id))) throw notFound('destination');
    // A destination the hold limit paused resumes first, or its replayed jobs would be dead-lettered again.
    await resumeHeld(q, dest.orgId, dest.id);
    const total = opts.onProgress ? await countFailed(q, dest.orgId, dest.id) : 0;
    const upToJobId = await lastFailedJobId(q, dest.orgId, dest.id);
    const r = await replayFailed(q, dest.orgId, dest.id, jobIds, { ...bounds, upToJobId });
    await opts.record?.(q);
    return { total, upToJobId, r };
  };
  const { total, upToJobId, r: first } = await db.transaction(firstBatch);
  let replayed = first.replayed;
  opts.onProgress?.(Math.min(replayed, total), total);
  // Given job ids fit one batch; otherwise on until a batch finds nothing left.
  let more = first.replayed > 0 && !jobIds;
  while (more) {
    const r = await db.transaction(async (tx) => {
      await takeReplayTurn(tx, dest.id);
      // Deleted since the first batch (answered as replayed so far): its dead letters stay where they are.
      if (!(await lockReplayableDestination(tx, dest.orgId, dest.id))) return { replayed: 0 };
      return replayFailed(tx, dest.orgId, dest.id, null, { ...bounds, upToJobId });
    });
    replayed += r.replayed;
    opts.onProgress?.(Math.min(replayed, total), total);
    more = r.replayed > 0;
  }
  // Once, at the end: the ones left are then the destination's only dead letters up to upToJobId.
  // None when it started with none: dead letters made since are the next replay's.
  const left = async (limit: number | null, count: typeof countTooOld) =>
    limit === null || upToJobId === null ? 0 : count(db, dest.orgId, dest.id, jobIds, limit, upToJobId);
  const tooOld = await left(maxAgeMs, countTooOld);
  const tooFarAhead = await left(maxAheadMs, countTooFarAhead);
  const { label } = getPresetInfo(dest.siem);
  const notes: string[] = [];
  if (tooOld > 0 && maxAgeMs !== null) {
    notes.push(
      `${capped(tooOld)} dead-lettered event(s) are older than ${label} keeps (${hours(maxAgeMs)} h) and were not replayed: the SIEM would accept and then drop them.`,
    );
  }
  if (tooFarAhead > 0 && maxAheadMs !== null) {
    notes.push(
      `${capped(tooFarAhead)} dead-lettered event(s) are dated more than ${hours(maxAheadMs)} h ahead, further than ${label} accepts, and were not replayed: ` +
        "the SIEM would accept and then drop them. The source's clock is likely wrong; a replay sends them once their time is within the window.",
    );
  }
  return { replayed, skipped_too_old: tooOld, skipped_too_far_ahead: tooFarAhead, message: notes.length > 0 ? notes.join(' ') : null };
}

/** A count of dead letters or of a trimmed window's events, as counted: up to QUEUE_COUNT_CAP. */
const capped = (n: number) => (n >= QUEUE_COUNT_CAP ? `${QUEUE_COUNT_CAP.toLocaleString('en-US')} or more` : String(n));

/** A SIEM's time limit in whole hours, as its documentation gives it (the sendable distance rounds back to it). */
const hours = (ms: number) => Math.round(ms / 3_600_000);

/** A range replay's window after trimming: where it really starts and ends, and what was left out and why. */
export interface PlannedWindow {
  /** The requested start. */
  from: Date;
  /**
   * Where the walk ends (exclusive): the requested to, or earlier when the SIEM's future window
   * trimmed it (Datadog: 2 h ahead); trimNote then says so.
   */
  to: Date;
  /** Where the walk starts: from, or later when a bound trimmed it. */
  start: Date;
  /** Recorded events in [from, start): left out by the trim. */
  skippedTooOld: number;
  /** Recorded events from the trimmed end to the requested to: left out, dated further ahead than the SIEM accepts. */
  skippedTooFarAhead: number;
  /** Why the window was trimmed (a sentence or two), or null. */
  trimNote: string | null;
}

/**
 * Trims a range replay's window, never silently: its start moves to the oldest time the SIEM still
 * accepts (Datadog 18 h, New Relic 48 h: older events are answered 2xx and dropped), and its end to
 * the latest time the SIEM accepts (Datadog 2 h ahead: an event dated further is answered 2xx and
 * dropped); the events left out are counted and the reason is given. Both are rules on the event's
 * own time (occurred_at, the @timestamp the SIEM reads).
 *
 * Retention is not a trim: it deletes by recorded_at (queue/prune.ts), and a backfilled event (an old
 * occurred_at, recorded lately) is kept and replayable however old its time. A window starting before
 * the retention horizon gets a note that events recorded before it are gone (they cannot be counted),
 * and a window ending before it that holds no event at all is refused, naming retention. A window
 * wholly beyond a SIEM bound, or with from after to, is refused (400). Times are the database's:
 * windows are trimmed against the same now() that stamps the events, and the worker's and the
 * dead-letter replay's cuts are measured on it too. Changes nothing: a replay resumes a destination
 * the hold limit paused only once it is accepted (replays/service.ts).
 */
export async function planRangeReplay(
  db: Queryable,
  dest: { orgId: string; id: string; siem: SiemId },
  window: { from: Date; to: Date },
  retentionDays: number,
): Promise<PlannedWindow> {
  const { from, to } = window;
  if (from.getTime() > to.getTime()) throw invalid('to', 'is before from; give the window as from <= to');
  const now = await databaseNow(db);
  const label = getPresetInfo(dest.siem).label;
  const encoder = getEncoder(dest.siem);
  const horizon = new Date(now.getTime() - retentionDays * 86_400_000);
  const retention = `events are kept for ${retentionDays} day(s) after they were recorded (AEGIS_RETENTION_DAYS)`;
  if (horizon.getTime() >= to.getTime() && (await countInWindow(db, dest.orgId, from, to, 1)) === 0) {
    throw invalid('from', `the whole window is too old: ${retention} and it holds no event still kept; choose a window after ${horizon.toISOString()}`);
  }
  const sendableMs = sendableAgeMs(encoder);
  // The worker's cut, less its margin for clocks: a replay never queues what it would dead-letter.
  const oldest =
    encoder.maxEventAgeMs !== undefined && sendableMs !== null
      ? {
          at: new Date(now.getTime() - sendableMs),
          reason: `${label} accepts events up to ${hours(encoder.maxEventAgeMs)} h old and drops older ones after answering 2xx`,
        }
      : null;
  if (oldest !== null && oldest.at.getTime() >= to.getTime()) {
    throw invalid('from', `the whole window is too old: ${oldest.reason}; choose a window after ${oldest.at.toISOString()}`);
  }
  // The end, by the worker's future cut (less the same margin): nothing dated from then on is queued.
  const aheadMs = sendableFutureMs(encoder);
  const ahead =
    encoder.maxEventFutureMs !== undefined && aheadMs !== null
      ? {
          at: new Date(now.getTime() + aheadMs),
          reason: `${label} accepts events up to ${hours(encoder.maxEventFutureMs)} h in the future and drops later ones after answering 2xx`,
        }
      : null;
  if (ahead !== null && ahead.at.getTime() <= from.getTime()) {
    throw invalid(
      'from',
      `the whole window is too far ahead: ${ahead.reason} (an event dated later comes from a source whose clock is wrong); choose a window that starts before ${ahead.at.toISOString()}`,
    );
  }
  const start = oldest !== null && oldest.at.getTime() > from.getTime() ? oldest.at : from;
  const end = ahead !== null && ahead.at.getTime() < to.getTime() ? ahead.at : to;
  // Capped as the dead letters' counts are: a window reaching a year back would otherwise count every
  // event of that year before answering, minutes on a large organization, and past the API's
  // statement limit (AEGIS_DB_API_STATEMENT_TIMEOUT_MS) never answer at all.
  const skippedTooOld = start === from ? 0 : await countInWindow(db, dest.orgId, from, start, QUEUE_COUNT_CAP);
  const skippedTooFarAhead = end === to ? 0 : await countInWindow(db, dest.orgId, end, to, QUEUE_COUNT_CAP);
  const notes: string[] = [];
  if (start !== from && oldest !== null) {
    notes.push(
      `The window was trimmed to start at ${start.toISOString()}: ${oldest.reason}; ${capped(skippedTooOld)} recorded event(s) before that were not queued.`,
    );
  }
  if (end !== to && ahead !== null) {
    notes.push(
      `The window was trimmed to end at ${end.toISOString()}: ${ahead.reason}; ${capped(skippedTooFarAhead)} recorded event(s) from then on were not queued.`,
    );
  }
  if (from.getTime() < horizon.getTime() && start.getTime() < horizon.getTime()) {
    notes.push(
      `The window starts before the retention horizon (${horizon.toISOString()}): ${retention}, so events recorded before then are gone and were not queued.`,
    );
  }
  return { from, to: end, start, skippedTooOld, skippedTooFarAhead, trimNote: notes.length > 0 ? notes.join(' ') : null };
}

/**
 * The message of a range replay's answer: the trim, and why events walked made no job.
 * `removedAhead`: events counted in the window when a background replay was accepted that its walk
 * never found (retention, the only thing that deletes events, removed them before it got there).
 */
export function rangeReplayMessage(trimNote: string | null, counts: { filteredOut: number; alreadyPending: number; removedAhead?: number }): string | null {
  const notes: string[] = [];
  if (trimNote) notes.push(trimNote);
  if ((counts.removedAhead ?? 0) > 0) {
    notes.push(
      `At least ${counts.removedAhead} event(s) counted in the window when the replay was accepted were removed by retention (AEGIS_RETENTION_DAYS) before it reached them and were not queued.`,
    );
  }
  if (counts.filteredOut > 0) notes.push(`${counts.filteredOut} event(s) do not match this destination's filter and were not queued.`);
  if (counts.alreadyPending > 0) notes.push(`${counts.alreadyPending} event(s) already waiting for this destination were not queued twice.`);
  return notes.length > 0 ? notes.join(' ') : null;
}
