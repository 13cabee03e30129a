import { rangeReplayMessage } from '../destinations/replay.js';
import type { ReplayRow, ReplayStatus } from './repository.js';

/** A background range replay as the API answers it (schema: api/schemas/replays.ts). */
export interface ReplayView {
  replay_id: string;
  destination_id: string;
  status: ReplayStatus;
  from: string;
  to: string;
  start_at: string;
  replayed: number;
  scanned: number;
  total_estimate: number;
  progress: number;
  position_at: string | null;
  skipped_too_old: number;
  filtered_out: number;
  already_pending: number;
  message: string | null;
  error: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

const iso = (d: Date) => new Date(d).toISOString();

/**
 * Events of the window a finished walk never found: the estimate is the exact count when the replay
 * was accepted (a larger one is refused), and events are only ever added to a window or removed by
 * retention, so scanned short of it means at least that many were pruned ahead of the cursor.
 */
const removedAhead = (r: ReplayRow) => (r.status === 'done' ? Math.max(0, r.total_estimate - r.scanned) : 0);

/**
 * Events the walk itself skipped as too old: they had aged past the SIEM's limit by the time their
 * batch ran (runner.ts). They are in skipped_too_old with the plan's trim, whose count the trim note
 * already gives, and are the part of scanned that was neither queued, filtered out nor already waiting.
 */
const agedOut = (r: ReplayRow) => Math.max(0, r.scanned - r.queued - r.filtered_out - r.already_pending);

/** The trim note, then what the walk skipped as too old: together they account for skipped_too_old. */
function leadNotes(r: ReplayRow): string | null {
  const n = agedOut(r);
  const notes = r.notes ? [r.notes] : [];
  if (n > 0) {
    notes.push(
      `${n} event(s) became older than the SIEM keeps by the time the replay reached them and were not queued (counted in skipped_too_old): the worker would have dead-lettered them at once.`,
    );
  }
  return notes.length > 0 ? notes.join(' ') : null;
}

export function toReplayView(r: ReplayRow): ReplayView {
  // The estimate was counted when the replay was accepted; events recorded into the window since
  // may make the walk longer, so progress is capped below 1 until the replay is done.
  const progress = r.status === 'done' ? 1 : r.total_estimate > 0 ? Math.min(0.99, r.scanned / r.total_estimate) : 0;
  return {
    replay_id: r.id,
    destination_id: r.destination_id,
    status: r.status,
    from: iso(r.window_from),
    to: iso(r.window_to),
    start_at: iso(r.start_at),
    replayed: r.queued,
    scanned: r.scanned,
    total_estimate: r.total_estimate,
    progress: Math.round(progress * 1000) / 1000,
    position_at: r.cursor_occurred_at ? iso(r.cursor_occurred_at) : null,
    skipped_too_old: r.skipped_too_old,
    filtered_out: r.filtered_out,
    already_pending: r.already_pending,
    message: rangeReplayMessage(leadNotes(r), { filteredOut: r.filtered_out, alreadyPending: r.already_pending, removedAhead: removedAhead(r) }),
    error: r.error,
    created_by: r.created_by,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    finished_at: r.finished_at ? iso(r.finished_at) : null,
  };
}
