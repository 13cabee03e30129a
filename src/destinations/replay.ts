import type { Db, Queryable } from '../db/types.js';
import { countFailed, lastFailedJobId, replayFailed } from '../queue/deadLetters.js';
import { getEncoder } from '../siem/registry.js';
import { getPresetInfo, type SiemId } from '../siem/catalog.js';
import { countInWindow, databaseNow, queueReplayBatch, type WindowPosition } from '../queue/replayRange.js';
import { invalid } from '../errors.js';
import { compileFilter } from '../filters/compile.js';
import { getDestinationFilter } from './repository.js';
import { resumeHeld } from '../queue/holdLimit.js';

export interface ReplayResult {
  replayed: number;
  /** Dead letters older than the SIEM keeps (Datadog 18 h, New Relic 48 h), left in place. */
  skipped_too_old: number;
  /** Says why some were left, or null. */
  message: string | null;
}

/**
 * Puts a destination's dead letters (all, or the given job ids) back in the queue: the one replay
 * used by the API and the CLI. Resumes a destination paused by the hold limit (queue/holdLimit.ts). Works in bounded batches, stops at the newest dead letter present
 * when it started (events dead-lettered again meanwhile wait for the next replay instead of looping
 * forever), and leaves events older than the SIEM keeps: it would answer 2xx and then drop them.
 */
export async function replayDeadLetters(
  db: Queryable,
  dest: { orgId: string; id: string; siem: SiemId },
  opts: { jobIds?: number[] | null; onProgress?: (replayed: number, total: number) => void } = {},
): Promise<ReplayResult> {
  const maxAgeMs = getEncoder(dest.siem).maxEventAgeMs ?? null;
  const jobIds = opts.jobIds ?? null;
  // A destination the hold limit paused resumes first, or its replayed jobs would be dead-lettered again.
  await resumeHeld(db, dest.orgId, dest.id);
  const total = opts.onProgress ? await countFailed(db, dest.orgId, dest.id) : 0;
  const upToJobId = await lastFailedJobId(db, dest.orgId, dest.id);
  let replayed = 0;
  let tooOld = 0;
  for (;;) {
    const r = await replayFailed(db, dest.orgId, dest.id, jobIds, { batch: 5000, maxAgeMs, upToJobId });
    replayed += r.replayed;
    tooOld = r.tooOld;
    opts.onProgress?.(Math.min(replayed, total), total);
    if (r.replayed === 0 || jobIds) break;
  }
  const message =
    tooOld > 0 && maxAgeMs !== null
      ? `${tooOld} dead-lettered event(s) are older than ${getPresetInfo(dest.siem).label} keeps (${Math.round(maxAgeMs / 3_600_000)} h) and were not replayed: the SIEM would accept and then drop them.`
      : null;
  return { replayed, skipped_too_old: tooOld, message };
}

/** Events queued per transaction by a range replay: bounded, so no replay holds one giant transaction. */
export const RANGE_REPLAY_BATCH = 5000;

/**
 * Queues every recorded event of the destination's organization whose occurred_at (@timestamp) is
 * in [from, to) for this destination: the one range replay used by the API and the CLI.
 *
 * The window is trimmed, never silently: its start moves to the oldest time the SIEM still accepts
 * (Datadog 18 h, New Relic 48 h: older events are answered 2xx and dropped) and to the retention
 * horizon (AEGIS_RETENTION_DAYS); the events left out are counted in skipped_too_old and the reason
 * is in message. A window wholly beyond a bound, or with from after to, is refused (400).
 *
 * Synchronous and batched: RANGE_REPLAY_BATCH events per short transaction, each committed on its own,
 * walking the window in (occurred_at, id) order, so workers start delivering the first batches
 * while later ones are queued. An event recorded into the window during the replay may or may not
 * be included (it is queued live for enabled destinations anyway). Event ids are the dedupe key: an
 * event with a job already pending for this destination is not queued again.
 */
export async function replayRange(
  db: Db,
  dest: { orgId: string; id: string; siem: SiemId },
  window: { from: Date; to: Date },
  opts: { retentionDays: number; onProgress?: (scanned: number, total: number) => void },
): Promise<ReplayResult> {
  const { from, to } = window;
  if (from.getTime() > to.getTime()) throw invalid('to', 'is before from; give the window as from <= to');
  const now = await databaseNow(db);
  const label = getPresetInfo(dest.siem).label;
  const maxAgeMs = getEncoder(dest.siem).maxEventAgeMs ?? null;
  const bounds: { at: Date; reason: string }[] = [
    { at: new Date(now.getTime() - opts.retentionDays * 86_400_000), reason: `events are kept for ${opts.retentionDays} day(s) (AEGIS_RETENTION_DAYS)` },
  ];
  if (maxAgeMs !== null) {
    bounds.push({ at: new Date(now.getTime() - maxAgeMs), reason: `${label} accepts events up to ${Math.round(maxAgeMs / 3_600_000)} h old and drops older ones after answering 2xx` });
  }
  // The tightest bound is the one that trims; ties go to the SIEM's (the more specific reason).
  const binding = bounds.reduce((a, b) => (b.at.getTime() >= a.at.getTime() ? b : a));
  if (binding.at.getTime() >= to.getTime()) {
    throw invalid('from', `the whole window is too old: ${binding.reason}; choose a window after ${binding.at.toISOString()}`);
  }
  const start = binding.at.getTime() > from.getTime() ? binding.at : from;
  await resumeHeld(db, dest.orgId, dest.id);
  const skipped = start === from ? 0 : await countInWindow(db, dest.orgId, from, start);
  const total = opts.onProgress ? await countInWindow(db, dest.orgId, start, to) : 0;

  // The destination's filter applies as it does to live events (compiled once for the whole replay).
  const filter = await getDestinationFilter(db, dest.orgId, dest.id);
  const matches = filter ? compileFilter(filter) : null;

  let after: WindowPosition | null = null;
  let scanned = 0;
  let replayed = 0;
  let filteredOut = 0;
  for (;;) {
    const r = await queueReplayBatch(db, { orgId: dest.orgId, destinationId: dest.id, from: start, to, after, batch: RANGE_REPLAY_BATCH, matches });
    scanned += r.scanned;
    replayed += r.queued;
    filteredOut += r.filteredOut;
    opts.onProgress?.(Math.min(scanned, total), total);
    if (r.scanned < RANGE_REPLAY_BATCH || r.last === null) break;
    after = r.last;
  }
  const notes: string[] = [];
  if (start !== from) {
    notes.push(`The window was trimmed to start at ${start.toISOString()}: ${binding.reason}; ${skipped} recorded event(s) before that were not queued.`);
  }
  if (filteredOut > 0) notes.push(`${filteredOut} event(s) do not match this destination's filter and were not queued.`);
  const alreadyPending = scanned - filteredOut - replayed;
  if (alreadyPending > 0) notes.push(`${alreadyPending} event(s) already waiting for this destination were not queued twice.`);
  return { replayed, skipped_too_old: skipped, message: notes.length > 0 ? notes.join(' ') : null };
}
