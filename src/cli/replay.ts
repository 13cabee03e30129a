import type { Db } from '../db/types.js';
import type { SiemId } from '../siem/catalog.js';
import { replayDeadLetters, type ReplayResult } from '../destinations/replay.js';
import { CliError } from './database.js';
import { progressBar } from './progress.js';

/** `aegis-stream replay`: the API's replay, with a progress bar. */
export async function replayDestination(db: Db, destinationId: string): Promise<ReplayResult> {
  const { rows } = await db.query<{ org_id: string; siem: string }>('SELECT org_id, siem FROM destinations WHERE id = $1', [destinationId]);
  const dest = rows[0];
  if (!dest) throw new CliError(`No destination ${destinationId}.`);
  let bar: ReturnType<typeof progressBar> | null = null;
  const result = await replayDeadLetters(db, { orgId: dest.org_id, id: destinationId, siem: dest.siem as SiemId }, {
    onProgress: (done, total) => {
      bar ??= progressBar('Replaying dead letters', total);
      bar.update(done);
    },
  });
  (bar as ReturnType<typeof progressBar> | null)?.done();
  if (result.message) console.error(result.message);
  return result;
}
