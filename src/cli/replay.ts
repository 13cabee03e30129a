import type { Db } from '../db/types.js';
import type { SiemId } from '../siem/catalog.js';
import { replayDeadLetters, replayRange, type ReplayResult } from '../destinations/replay.js';
import { CliError } from './database.js';
import { progressBar } from './progress.js';

/** `aegis-stream replay`: the API's replay (dead letters, or a time window), with a progress bar. */
export async function replayDestination(
  db: Db,
  destinationId: string,
  window: { from: Date; to: Date; retentionDays: number } | null = null,
): Promise<ReplayResult> {
  const { rows } = await db.query<{ org_id: string; siem: string }>('SELECT org_id, siem FROM destinations WHERE id = $1 AND deleted_at IS NULL', [destinationId]);
  const dest = rows[0];
  if (!dest) throw new CliError(`No destination ${destinationId}.`);
  let bar: ReturnType<typeof progressBar> | null = null;
  const target = { orgId: dest.org_id, id: destinationId, siem: dest.siem as SiemId };
  const onProgress = (done: number, total: number) => {
    bar ??= progressBar(window ? 'Replaying time window' : 'Replaying dead letters', total);
    bar.update(done);
  };
  const result = window
    ? await replayRange(db, target, window, { retentionDays: window.retentionDays, onProgress })
    : await replayDeadLetters(db, target, { onProgress });
  (bar as ReturnType<typeof progressBar> | null)?.done();
  if (result.message) console.error(result.message);
  return result;
}
