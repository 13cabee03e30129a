import type { Queryable } from '../db/types.js';
import { countFailed, lastFailedJobId, replayFailed } from '../queue/deadLetters.js';
import { getEncoder } from '../siem/registry.js';
import { getPresetInfo, type SiemId } from '../siem/catalog.js';

export interface ReplayResult {
  replayed: number;
  /** Dead letters older than the SIEM keeps (Datadog 18 h, New Relic 48 h), left in place. */
  skipped_too_old: number;
  /** Says why some were left, or null. */
  message: string | null;
}

/**
 * Puts a destination's dead letters (all, or the given job ids) back in the queue: the one replay
 * used by the API and the CLI. Works in bounded batches, stops at the newest dead letter present
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
