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
    message: rangeReplayMessage(r.notes, { filteredOut: r.filtered_out, alreadyPending: r.already_pending, removedAhead: removedAhead(r) }),
    error: r.error,
    created_by: r.created_by,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    finished_at: r.finished_at ? iso(r.finished_at) : null,
  };
}
